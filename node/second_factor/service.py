"""TOTP second factor (RFC 6238, via pyotp) for customer operations above a configured amount.

A wallet's customer enrols once (:func:`enrol`): the bank makes a secret, keeps it encrypted with the custody
key, and shows it once as an ``otpauth://`` URI for an authenticator app. An operation of more than
``settings.second_factor_threshold`` minor units then needs a current 6-digit code (:func:`require`). A code
is accepted at most once (its time step is remembered), so a code seen on the wire cannot be replayed.

Taking over the factor is as hard as passing it:

- **Changing** the secret of a wallet that has one needs its current code (:func:`enrol` with ``code``), checked
  like any other code.
- A customer who lost the authenticator goes to a teller, who **resets** it in person (:func:`reset`): the
  reset is recorded with the teller's API key, branch, operator and reason, and for
  ``second_factor_reset_cooling_off`` seconds operations above the threshold are refused
  (:class:`SecondFactorCoolingOffError`), so a reset by someone who is not the customer cannot move much money
  before the customer notices.
- **Wrong codes** are counted per wallet. After ``second_factor_max_failures`` in a row the factor is locked out
  for ``second_factor_lockout`` seconds, doubled at each further lock-out up to ``second_factor_lockout_max``;
  while locked, every code, even the right one, is refused (:class:`SecondFactorLockedError`). A right code (or
  a reset) starts the count afresh. A wrong code is counted in a transaction of its own (node.db.durable), which
  commits although the request that brought it rolls back, and before the next code for the wallet is looked
  at: the check holds the wallet's ``second_factors`` row (SQLite: the database's write lock) until then, so
  concurrent guesses cannot get past the limit.

Every change of the factor and every lock-out is written to ``second_factor_audit`` and shown to the customer
as a notice in the wallet's history (node.notices).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pyotp
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from node.custody import custody_for
from node.db.base import one_or_none
from node.db.durable import keep
from node.errors import InvalidStateError, NodeError
from node.indexer.models import HistoryKind
from node.notices import notify
from node.second_factor.models import SecondFactor, SecondFactorAction, SecondFactorAudit, SecondFactorFailures
from node.settings import NodeSettings
from wallet_sdk.exceptions import DeclaredError, error_message

__all__ = [
    "Enrolment",
    "SecondFactor",
    "SecondFactorCoolingOffError",
    "SecondFactorError",
    "SecondFactorInvalidError",
    "SecondFactorLockedError",
    "SecondFactorRequiredError",
    "TellerReset",
    "enrol",
    "is_enrolled",
    "require",
    "reset",
]

STEP = 30  # seconds per code
VALID_WINDOW = 1  # the previous and the next code are accepted too (clock drift)
_MAX_DOUBLINGS = 32  # beyond this the back-off is at its cap anyway


class SecondFactorError(DeclaredError, NodeError):
    """Root of the second-factor errors (declared: see :class:`~wallet_sdk.exceptions.DeclaredError`)."""


def _seconds_until(until: datetime) -> int:
    """Whole seconds from now until ``until``, at least 1: a ``Retry-After``."""
    return max(1, math.ceil((until - datetime.now(UTC)).total_seconds()))


class SecondFactorRequiredError(SecondFactorError):
    """A code is needed and none was given: the operation is above the threshold (or the wallet has no TOTP
    enrolled), or the wallet's secret is being changed (``amount_minor`` is None)."""

    problem = "second-factor-required"
    status = 403

    def __init__(self, wallet: str, amount_minor: int | None, threshold_minor: int | None, *,
                 enrolled: bool) -> None:
        self.wallet = wallet
        self.amount_minor = amount_minor
        self.threshold_minor = threshold_minor
        self.enrolled = enrolled
        if amount_minor is None:
            super().__init__("the wallet has a TOTP authenticator: send its current code to replace it (a customer "
                             "who lost it asks a teller for a reset)")
            return
        what = "send the customer's current TOTP code" if enrolled else "enrol a TOTP authenticator for the wallet"
        super().__init__(f"{amount_minor} minor units is above the second-factor threshold of {threshold_minor}: "
                         f"{what}")

    def members(self) -> dict[str, Any]:
        return {"enrolled": self.enrolled, "threshold": self.threshold_minor}


class SecondFactorInvalidError(SecondFactorError):
    """The code is wrong, expired, or was already used. ``attempts_left``: wrong codes left before the lock-out;
    ``locked_until``: set when this code locked the factor out."""

    problem = "second-factor-invalid"
    status = 403

    def __init__(self, wallet: str, *, attempts_left: int | None = None, locked_until: datetime | None = None) -> None:
        self.wallet = wallet
        self.attempts_left = attempts_left
        self.locked_until = locked_until
        message = "the TOTP code is wrong, expired or already used"
        if locked_until is not None:
            message += f"; too many wrong codes: the second factor is locked until {locked_until.isoformat()}"
        super().__init__(message)

    def members(self) -> dict[str, Any]:
        return {"attempts_left": self.attempts_left,
                "locked_until": self.locked_until.isoformat() if self.locked_until else None}


@error_message("too many wrong TOTP codes: the second factor is locked until {until}; every code is refused until then")
class SecondFactorLockedError(SecondFactorError):
    """Too many wrong codes: until ``until`` every code is refused, even the right one."""

    problem = "second-factor-locked"
    status = 429

    wallet: str
    until: datetime
    _retry_after: int | None = field(default=None, init=False)

    def retry_after(self) -> int:
        if self._retry_after is None:  # once: the header and the member say the same
            self._retry_after = _seconds_until(self.until)
        return self._retry_after

    def members(self) -> dict[str, Any]:
        return {"locked_until": self.until.isoformat(), "retry_after": self.retry_after()}


@error_message("the wallet's TOTP authenticator was reset by a teller: operations above {threshold_minor} minor units "
               "are refused until {until}")
class SecondFactorCoolingOffError(SecondFactorError):
    """A teller reset the wallet's TOTP recently: until ``until`` operations above the threshold are refused."""

    problem = "second-factor-cooling-off"
    status = 403

    wallet: str
    until: datetime
    threshold_minor: int

    def retry_after(self) -> int:
        return _seconds_until(self.until)

    def members(self) -> dict[str, Any]:
        return {"until": self.until.isoformat(), "threshold": self.threshold_minor}


@dataclass(frozen=True)
class Enrolment:
    wallet: str
    secret: str  # base32; shown once
    provisioning_uri: str  # otpauth://totp/...
    cooling_off_until: datetime | None = None  # after a teller's reset

    def __repr__(self) -> str:
        return f"Enrolment(wallet={self.wallet!r}, secret=<hidden>)"


@dataclass(frozen=True)
class TellerReset:
    """Who reset a wallet's TOTP, in person at the counter, and why (for the audit record)."""

    api_key_id: int | None
    branch_id: str
    reason: str
    operator_id: str | None = None


def _moment(now: float | None) -> float:
    return time.time() if now is None else now


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _locked_record(session: Session, wallet: str) -> SecondFactor | None:
    query = select(SecondFactor).where(SecondFactor.wallet == wallet).with_for_update()
    return session.scalars(query).one_or_none()


def _failures(session: Session, wallet: str, *, lock: bool = False) -> SecondFactorFailures | None:
    return one_or_none(session, select(SecondFactorFailures).where(SecondFactorFailures.wallet == wallet), lock=lock)


def _made_failures(session: Session, wallet: str, at: datetime, *, lock: bool = False) -> SecondFactorFailures:
    """The wallet's failure count, made if missing. Only where the row is not left to a durable write: on
    PostgreSQL an uncommitted insert here would make that write (another connection) wait for this one."""
    row = _failures(session, wallet, lock=lock)
    if row is None:
        row = SecondFactorFailures(wallet=wallet, failures=0, lockouts=0, locked_until=None, updated_at=at)
        session.add(row)
        session.flush()
    return row


def _audit(session: Session, wallet: str, action: SecondFactorAction, at: datetime, *, api_key_id: int | None,
           until: datetime | None = None, reason: str | None = None, branch_id: str | None = None,
           operator_id: str | None = None) -> None:
    session.add(SecondFactorAudit(wallet=wallet, action=action, api_key_id=api_key_id, branch_id=branch_id,
                                  operator_id=operator_id, reason=reason, until=until, created_at=at))
    session.flush()


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# ------------------------------------------------------------------ enrolment, change and reset


def _new_secret(session: Session, settings: NodeSettings, wallet: str, record: SecondFactor | None,
                label: str | None, at: datetime) -> tuple[SecondFactor, Enrolment]:
    secret = pyotp.random_base32()
    ciphertext = custody_for(settings).encrypt(secret.encode("ascii"))
    if record is None:
        record = SecondFactor(wallet=wallet, secret_ciphertext=ciphertext, last_step=None, created_at=at)
        try:
            with session.begin_nested():  # two first enrolments at once: the one that commits first wins
                session.add(record)
        except IntegrityError:
            raise SecondFactorRequiredError(wallet, None, None, enrolled=True) from None
    else:
        record.secret_ciphertext = ciphertext
        record.last_step = None
        session.flush()
    uri = pyotp.TOTP(secret, interval=STEP).provisioning_uri(name=label or wallet,
                                                             issuer_name=f"walletnet {settings.bank_id}")
    return record, Enrolment(wallet, secret, uri)


def enrol(session: Session, settings: NodeSettings, wallet: str, *, code: str | None = None,
          api_key_id: int | None = None, label: str | None = None, now: float | None = None) -> Enrolment:
    """Make the TOTP secret of ``wallet``: its first one, or a new one confirmed with the current ``code``. The
    secret is returned once and stored encrypted; the change is audited and noticed in the wallet's history.

    A new secret keeps a cooling-off in progress (a reset's holder cannot shorten it by changing the secret).

    Raises:
        SecondFactorRequiredError: the wallet has a secret and no code was given.
        SecondFactorLockedError / SecondFactorInvalidError: as for :func:`require`.
    """
    seconds = _moment(now)
    at = _at(seconds)
    record = _locked_record(session, wallet)
    if record is None:
        action, kind, note = (SecondFactorAction.ENROLLED, HistoryKind.TOTP_ENROLLED,
                              "a TOTP authenticator app was enrolled as this wallet's second factor")
    else:
        _check_code(session, settings, record, code, seconds, api_key_id=api_key_id,
                    missing=SecondFactorRequiredError(wallet, None, None, enrolled=True))
        action, kind, note = (SecondFactorAction.CHANGED, HistoryKind.TOTP_CHANGED,
                              "this wallet's TOTP authenticator was replaced (confirmed with a current code)")
    record, enrolment = _new_secret(session, settings, wallet, record, label, at)
    _made_failures(session, wallet, at)
    _audit(session, wallet, action, at, api_key_id=api_key_id)
    notify(session, wallet, kind, note, currency=settings.currency, at=at)
    return enrolment


def reset(session: Session, settings: NodeSettings, wallet: str, teller: TellerReset, *,
          label: str | None = None, now: float | None = None) -> Enrolment:
    """A teller's in-person reset: a new secret without the current code, wrong codes and lock-outs forgotten,
    and a cooling-off of ``settings.second_factor_reset_cooling_off`` seconds during which operations above the
    threshold are refused. Audited with ``teller`` and noticed in the wallet's history.

    Raises:
        InvalidStateError: the wallet has no second factor to reset (enrol one).
    """
    at = _at(_moment(now))
    record = _locked_record(session, wallet)
    if record is None:
        raise InvalidStateError(f"wallet {wallet} has no TOTP authenticator to reset: enrol one", wallet=wallet)
    record, enrolment = _new_secret(session, settings, wallet, record, label, at)
    until = at + timedelta(seconds=settings.second_factor_reset_cooling_off)
    record.cooling_off_until = until
    failures = _made_failures(session, wallet, at)
    failures.failures, failures.lockouts, failures.locked_until, failures.updated_at = 0, 0, None, at
    _audit(session, wallet, SecondFactorAction.RESET, at, api_key_id=teller.api_key_id, until=until,
           reason=teller.reason, branch_id=teller.branch_id, operator_id=teller.operator_id)
    notify(session, wallet, HistoryKind.TOTP_RESET,
           f"this wallet's TOTP authenticator was reset by a teller at branch {teller.branch_id}; operations above "
           f"the second-factor threshold are refused until {_when(until)}", currency=settings.currency, at=at)
    session.flush()
    return Enrolment(wallet, enrolment.secret, enrolment.provisioning_uri, cooling_off_until=until)


def is_enrolled(session: Session, wallet: str) -> bool:
    return session.scalars(select(SecondFactor.id).where(SecondFactor.wallet == wallet)).first() is not None


# ------------------------------------------------------------------ checking a code


def require(session: Session, settings: NodeSettings, wallet: str, amount_minor: int, code: str | None, *,
            api_key_id: int | None = None, now: float | None = None, threshold: int | None = None) -> bool:
    """Check the second factor for moving ``amount_minor`` out of (or into) ``wallet``.

    ``threshold`` replaces the bank's (the risk engine's step-up asks for a code at any amount: 0).
    Returns False when the amount is at or below the threshold (nothing checked), True when a code was
    checked and accepted (it is used up, and the count of wrong codes starts afresh, when ``session`` commits).
    A wrong code is counted at once, whatever becomes of ``session`` (see the module docstring): ``session``
    must be one of :func:`node.db.durable.work_sessions`, ended by :func:`node.db.durable.unit_of_work`.

    Raises:
        SecondFactorRequiredError: above the threshold without a code, or the wallet has no TOTP.
        SecondFactorCoolingOffError: a teller reset the wallet's TOTP less than the cooling-off ago.
        SecondFactorLockedError: too many wrong codes lately; no code is looked at.
        SecondFactorInvalidError: the code does not match the current time window, or was used before.
    """
    if threshold is None:
        threshold = settings.second_factor_threshold
    if amount_minor <= threshold:
        return False
    seconds = _moment(now)
    record = _locked_record(session, wallet)
    if record is None:
        raise SecondFactorRequiredError(wallet, amount_minor, threshold, enrolled=False)
    if record.cooling_off_until is not None and record.cooling_off_until > _at(seconds):
        raise SecondFactorCoolingOffError(wallet, record.cooling_off_until, threshold)
    _check_code(session, settings, record, code, seconds, api_key_id=api_key_id,
                missing=SecondFactorRequiredError(wallet, amount_minor, threshold, enrolled=True))
    return True


def _check_code(session: Session, settings: NodeSettings, record: SecondFactor, code: str | None, seconds: float, *,
                api_key_id: int | None, missing: SecondFactorRequiredError) -> None:
    """Accept ``code`` for ``record`` (held locked by the caller) or raise; see :func:`require`."""
    failures = _failures(session, record.wallet)  # read after the lock on record: it sees every counted failure
    failed, lockouts = (failures.failures, failures.lockouts) if failures is not None else (0, 0)
    at = _at(seconds)
    if failures is not None and failures.locked_until is not None and failures.locked_until > at:
        raise SecondFactorLockedError(record.wallet, failures.locked_until)
    if not code:
        raise missing
    step = _matching_step(settings, record, code.strip(), seconds)
    if step is not None:
        record.last_step = step
        if failures is not None and (failed or lockouts):
            failures.failures, failures.lockouts, failures.updated_at = 0, 0, at
        session.flush()
        return
    keep(session, partial(_count_failure, settings, record.wallet, at, api_key_id))
    left = settings.second_factor_max_failures - failed - 1
    if left > 0:
        raise SecondFactorInvalidError(record.wallet, attempts_left=left)
    raise SecondFactorInvalidError(record.wallet, attempts_left=0, locked_until=at + _lockout(settings, lockouts + 1))


def _matching_step(settings: NodeSettings, record: SecondFactor, code: str, seconds: float) -> int | None:
    """The time step ``code`` is the code of, if it is one of the window's and newer than the last one used."""
    secret = custody_for(settings).decrypt(record.secret_ciphertext).decode("ascii")
    totp = pyotp.TOTP(secret, interval=STEP)
    step = int(seconds // STEP)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        candidate = step + offset
        if pyotp.utils.strings_equal(totp.at(candidate * STEP), code):
            if record.last_step is not None and candidate <= record.last_step:
                return None  # used already (or older than one that was): a replay
            return candidate
    return None


def _lockout(settings: NodeSettings, lockouts: int) -> timedelta:
    """The length of the ``lockouts``-th lock-out in a row: the first one's, doubled each time, capped."""
    doublings = min(max(lockouts - 1, 0), _MAX_DOUBLINGS)
    return timedelta(seconds=min(settings.second_factor_lockout * 2**doublings, settings.second_factor_lockout_max))


def _count_failure(settings: NodeSettings, wallet: str, at: datetime, api_key_id: int | None,
                   session: Session) -> None:
    """A durable write (node.db.durable): one more wrong code for ``wallet``; at the limit, the lock-out with its
    audit record and the customer's notice."""
    failures = _made_failures(session, wallet, at, lock=True)
    failures.failures += 1
    failures.updated_at = at
    if failures.failures >= settings.second_factor_max_failures:
        failures.lockouts += 1
        failures.failures = 0
        until = at + _lockout(settings, failures.lockouts)
        failures.locked_until = until
        _audit(session, wallet, SecondFactorAction.LOCKED, at, api_key_id=api_key_id, until=until,
               reason=f"{settings.second_factor_max_failures} wrong TOTP codes in a row")
        notify(session, wallet, HistoryKind.TOTP_LOCKED,
               f"{settings.second_factor_max_failures} wrong second-factor codes in a row: every code is refused "
               f"until {_when(until)}", currency=settings.currency, at=at)
    session.flush()
