"""TOTP second factor (RFC 6238, via pyotp) for customer operations above a configured amount.

A wallet's customer enrols once (:func:`enrol`): the bank makes a secret, keeps it encrypted with the custody
key, and shows it once as an ``otpauth://`` URI for an authenticator app. An operation of more than
``settings.second_factor_threshold`` minor units then needs a current 6-digit code (:func:`require`). A code
is accepted at most once (its time step is remembered), so a code seen on the wire cannot be replayed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import BigInteger, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from node.db.base import Base, IdType, UTCDateTime, utcnow
from node.flows.custody import custody_for
from node.settings import NodeSettings

__all__ = [
    "Enrolment",
    "SecondFactor",
    "SecondFactorError",
    "SecondFactorInvalidError",
    "SecondFactorRequiredError",
    "enrol",
    "require",
]

STEP = 30  # seconds per code
VALID_WINDOW = 1  # the previous and the next code are accepted too (clock drift)


class SecondFactor(Base):
    __tablename__ = "second_factors"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    wallet: Mapped[str] = mapped_column(String(42), unique=True)
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    last_step: Mapped[int | None] = mapped_column(BigInteger)  # time step of the last code accepted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:  # never the secret
        return f"SecondFactor(wallet={self.wallet!r})"


class SecondFactorError(Exception):
    """Root of the second-factor errors."""


class SecondFactorRequiredError(SecondFactorError):
    """The operation is above the threshold and no code was given (or the wallet has no TOTP enrolled)."""

    def __init__(self, wallet: str, amount_minor: int, threshold_minor: int, *, enrolled: bool) -> None:
        self.wallet = wallet
        self.amount_minor = amount_minor
        self.threshold_minor = threshold_minor
        self.enrolled = enrolled
        what = "send the customer's current TOTP code" if enrolled else "enrol a TOTP authenticator for the wallet"
        super().__init__(f"{amount_minor} minor units is above the second-factor threshold of {threshold_minor}: "
                         f"{what}")


class SecondFactorInvalidError(SecondFactorError):
    """The code is wrong, expired, or was already used."""

    def __init__(self, wallet: str) -> None:
        self.wallet = wallet
        super().__init__("the TOTP code is wrong, expired or already used")


@dataclass(frozen=True)
class Enrolment:
    wallet: str
    secret: str  # base32; shown once
    provisioning_uri: str  # otpauth://totp/...

    def __repr__(self) -> str:
        return f"Enrolment(wallet={self.wallet!r}, secret=<hidden>)"


def enrol(session: Session, settings: NodeSettings, wallet: str, *, label: str | None = None) -> Enrolment:
    """Make (or replace) the TOTP secret of ``wallet``; the secret is returned once and stored encrypted."""
    secret = pyotp.random_base32()
    ciphertext = custody_for(settings).encrypt(secret.encode("ascii"))
    record = session.scalars(select(SecondFactor).where(SecondFactor.wallet == wallet).with_for_update()).one_or_none()
    if record is None:
        session.add(SecondFactor(wallet=wallet, secret_ciphertext=ciphertext, last_step=None, created_at=utcnow()))
    else:
        record.secret_ciphertext = ciphertext
        record.last_step = None
    session.flush()
    uri = pyotp.TOTP(secret, interval=STEP).provisioning_uri(name=label or wallet,
                                                             issuer_name=f"walletnet {settings.bank_id}")
    return Enrolment(wallet, secret, uri)


def is_enrolled(session: Session, wallet: str) -> bool:
    return session.scalars(select(SecondFactor.id).where(SecondFactor.wallet == wallet)).first() is not None


def require(session: Session, settings: NodeSettings, wallet: str, amount_minor: int, code: str | None, *,
            now: float | None = None) -> bool:
    """Check the second factor for moving ``amount_minor`` out of (or into) ``wallet``.

    Returns False when the amount is at or below the threshold (nothing checked), True when a code was
    checked and accepted (and is now used up).

    Raises:
        SecondFactorRequiredError: above the threshold without a code, or the wallet has no TOTP.
        SecondFactorInvalidError: the code does not match the current time window, or was used before.
    """
    threshold = settings.second_factor_threshold
    if amount_minor <= threshold:
        return False
    record = session.scalars(select(SecondFactor).where(SecondFactor.wallet == wallet).with_for_update()).one_or_none()
    if record is None or not code:
        raise SecondFactorRequiredError(wallet, amount_minor, threshold, enrolled=record is not None)
    secret = custody_for(settings).decrypt(record.secret_ciphertext).decode("ascii")
    totp = pyotp.TOTP(secret, interval=STEP)
    at = time.time() if now is None else now
    step = int(at // STEP)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        candidate = step + offset
        if pyotp.utils.strings_equal(totp.at(candidate * STEP), code.strip()):
            if record.last_step is not None and candidate <= record.last_step:
                break  # used already (or older than one that was): a replay
            record.last_step = candidate
            session.flush()
            return True
    raise SecondFactorInvalidError(wallet)
