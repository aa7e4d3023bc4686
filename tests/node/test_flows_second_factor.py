"""The TOTP second factor (node.second_factor.service) on both databases: threshold, codes, replays; changing the
secret only with the current code, a teller's reset with its audit record and cooling-off, and the lock-out
after wrong codes, counted durably and exactly under concurrency. Every unit of work runs as the API runs it
(node.db.durable.unit_of_work), so what a failed request rolls back and what it keeps is what the API gets."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pyotp
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from node.api_keys.service import create_key
from node.db.durable import unit_of_work, work_sessions
from node.errors import InvalidStateError
from node.indexer.models import HistoryKind, WalletHistory
from node.second_factor import service as second_factor
from node.second_factor.models import SecondFactorAction, SecondFactorAudit, SecondFactorFailures
from node.second_factor.service import (
    SecondFactor,
    SecondFactorCoolingOffError,
    SecondFactorInvalidError,
    SecondFactorLockedError,
    SecondFactorRequiredError,
    TellerReset,
)
from node.settings import NodeSettings, load_settings

WALLET = "0x" + "12" * 20
NOW = 1_790_000_000.0
T = TypeVar("T")


@pytest.fixture
def settings(tmp_path: Path) -> NodeSettings:
    return load_settings(data_dir=tmp_path, second_factor_threshold=10_000, second_factor_lockout=60,
                         second_factor_lockout_max=150, second_factor_reset_cooling_off=3_600)


@pytest.fixture
def work(engine: Engine) -> sessionmaker[Session]:
    return work_sessions(engine)


def run(work: sessionmaker[Session], step: Callable[[Session], T]) -> T:
    with unit_of_work(work) as session:
        return step(session)


def _now() -> datetime:
    return datetime.fromtimestamp(NOW, UTC)


def _enrol(work: sessionmaker[Session], settings: NodeSettings) -> str:
    enrolment = run(work, lambda s: second_factor.enrol(s, settings, WALLET, label="alice", now=NOW))
    assert enrolment.provisioning_uri.startswith("otpauth://totp/")
    assert "secret=" + enrolment.secret in enrolment.provisioning_uri
    assert enrolment.secret not in repr(enrolment)
    return enrolment.secret


def _wrong(totp: pyotp.TOTP, at: float) -> str:
    """A code no step of the window around ``at`` has."""
    window = {totp.at(at + 30 * k) for k in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in window)


def _require(work: sessionmaker[Session], settings: NodeSettings, code: str | None, at: float = NOW,
             amount: int = 50_000) -> bool:
    return run(work, lambda s: second_factor.require(s, settings, WALLET, amount, code, now=at))


def _audit(sessions: sessionmaker[Session]) -> list[SecondFactorAudit]:
    with sessions() as session:
        return list(session.scalars(select(SecondFactorAudit).order_by(SecondFactorAudit.id)))


def _notices(sessions: sessionmaker[Session]) -> list[WalletHistory]:
    with sessions() as session:
        return list(session.scalars(select(WalletHistory).where(WalletHistory.wallet == WALLET)
                                    .order_by(WalletHistory.id)))


def test_the_secret_is_stored_encrypted(work: sessionmaker[Session], sessions: sessionmaker[Session],
                                        settings: NodeSettings) -> None:
    secret = _enrol(work, settings)
    with sessions() as session:
        stored = session.scalars(select(SecondFactor)).one()
    assert secret not in stored.secret_ciphertext
    assert secret not in repr(stored)
    assert (settings.data_dir / "banka" / "custody.key").stat().st_mode & 0o077 == 0


def test_at_or_below_the_threshold_nothing_is_asked(work: sessionmaker[Session], settings: NodeSettings) -> None:
    assert _require(work, settings, None, amount=10_000) is False


def test_above_the_threshold_a_code_is_required(work: sessionmaker[Session], settings: NodeSettings) -> None:
    with pytest.raises(SecondFactorRequiredError) as not_enrolled:
        _require(work, settings, "123456", amount=10_001)
    assert not_enrolled.value.enrolled is False
    _enrol(work, settings)
    with pytest.raises(SecondFactorRequiredError) as no_code:
        _require(work, settings, None, amount=10_001)
    assert no_code.value.enrolled is True and no_code.value.threshold_minor == 10_000


def test_a_current_code_passes_once(work: sessionmaker[Session], settings: NodeSettings) -> None:
    totp = pyotp.TOTP(_enrol(work, settings))
    code = totp.at(NOW)
    assert _require(work, settings, code) is True
    with pytest.raises(SecondFactorInvalidError):
        _require(work, settings, code)  # replayed
    assert _require(work, settings, totp.at(NOW + 30), at=NOW + 30)  # the next step's code is fine


def test_wrong_and_expired_codes_are_refused(work: sessionmaker[Session], settings: NodeSettings) -> None:
    totp = pyotp.TOTP(_enrol(work, settings))
    for code, left in ((_wrong(totp, NOW), 4), (totp.at(NOW - 120), 3)):
        with pytest.raises(SecondFactorInvalidError) as refused:
            _require(work, settings, code)
        assert refused.value.attempts_left == left and refused.value.locked_until is None


# ------------------------------------------------------------------ changing the secret


def test_replacing_the_secret_needs_the_current_code(work: sessionmaker[Session], sessions: sessionmaker[Session],
                                                     settings: NodeSettings) -> None:
    first = pyotp.TOTP(_enrol(work, settings))
    with pytest.raises(SecondFactorRequiredError) as no_code:
        run(work, lambda s: second_factor.enrol(s, settings, WALLET, now=NOW))
    assert no_code.value.enrolled is True and no_code.value.amount_minor is None
    with pytest.raises(SecondFactorInvalidError):
        run(work, lambda s: second_factor.enrol(s, settings, WALLET, code=_wrong(first, NOW), now=NOW))
    assert _require(work, settings, first.at(NOW)) is True  # the old secret still works

    second = pyotp.TOTP(run(work, lambda s: second_factor.enrol(s, settings, WALLET, code=first.at(NOW + 30),
                                                                now=NOW + 30)).secret)
    if first.at(NOW + 60) != second.at(NOW + 60):
        with pytest.raises(SecondFactorInvalidError):
            _require(work, settings, first.at(NOW + 60), at=NOW + 60)
    assert _require(work, settings, second.at(NOW + 90), at=NOW + 90)
    assert [a.action for a in _audit(sessions)] == [SecondFactorAction.ENROLLED, SecondFactorAction.CHANGED]
    assert [n.kind for n in _notices(sessions)] == [HistoryKind.TOTP_ENROLLED, HistoryKind.TOTP_CHANGED]


# ------------------------------------------------------------------ a teller's reset


def test_a_tellers_reset_is_audited_and_cools_off_high_value_operations(
        work: sessionmaker[Session], sessions: sessionmaker[Session], settings: NodeSettings) -> None:
    old = pyotp.TOTP(_enrol(work, settings))
    key_id = run(work, lambda s: create_key(s, name="desk 4", scopes=["teller"]).key.id)
    teller = TellerReset(api_key_id=key_id, branch_id="BR-017", operator_id="E-2231", reason="phone lost; ID seen")
    reset = run(work, lambda s: second_factor.reset(s, settings, WALLET, teller, now=NOW))
    new = pyotp.TOTP(reset.secret)
    assert reset.cooling_off_until == datetime.fromtimestamp(NOW + 3_600, UTC)

    record = _audit(sessions)[-1]
    assert (record.action, record.api_key_id, record.branch_id, record.operator_id, record.reason, record.until) == (
        SecondFactorAction.RESET, key_id, "BR-017", "E-2231", "phone lost; ID seen", reset.cooling_off_until)
    assert record.created_at == datetime.fromtimestamp(NOW, UTC)
    notice = _notices(sessions)[-1]
    assert notice.kind is HistoryKind.TOTP_RESET and notice.note is not None and "BR-017" in notice.note
    assert (notice.amount_minor, notice.spendable_delta_minor, notice.held_delta_minor, notice.tx_hash,
            notice.block_number) == (0, 0, 0, None, None)

    with pytest.raises(SecondFactorCoolingOffError) as cooling:  # the right new code, above the threshold
        _require(work, settings, new.at(NOW + 30), at=NOW + 30)
    assert cooling.value.until == reset.cooling_off_until and cooling.value.threshold_minor == 10_000
    assert _require(work, settings, None, at=NOW + 30, amount=10_000) is False  # small ones go on
    later = NOW + 3_601
    if old.at(later) != new.at(later):
        with pytest.raises(SecondFactorInvalidError):
            _require(work, settings, old.at(later), at=later)
    assert _require(work, settings, new.at(later + 30), at=later + 30) is True


def test_a_reset_needs_a_factor_and_clears_a_lock_out(work: sessionmaker[Session], settings: NodeSettings) -> None:
    teller = TellerReset(api_key_id=None, branch_id="BR-1", reason="lost")
    with pytest.raises(InvalidStateError):
        run(work, lambda s: second_factor.reset(s, settings, WALLET, teller, now=NOW))
    totp = pyotp.TOTP(_enrol(work, settings))
    for _ in range(5):
        with pytest.raises(SecondFactorInvalidError):
            _require(work, settings, _wrong(totp, NOW))
    with pytest.raises(SecondFactorLockedError):
        _require(work, settings, totp.at(NOW))
    new = pyotp.TOTP(run(work, lambda s: second_factor.reset(s, settings, WALLET, teller, now=NOW)).secret)
    assert _require(work, settings, new.at(NOW), amount=10_000) is False
    assert _require(work, settings, new.at(NOW + 3_600), at=NOW + 3_600) is True  # no lock-out left


# ------------------------------------------------------------------ lock-out


def test_five_wrong_codes_lock_the_factor_out_with_a_growing_back_off(
        work: sessionmaker[Session], sessions: sessionmaker[Session], settings: NodeSettings) -> None:
    totp = pyotp.TOTP(_enrol(work, settings))
    for left in (4, 3, 2, 1):
        with pytest.raises(SecondFactorInvalidError) as refused:
            _require(work, settings, _wrong(totp, NOW))
        assert refused.value.attempts_left == left
    with pytest.raises(SecondFactorInvalidError) as fifth:
        _require(work, settings, _wrong(totp, NOW))
    until = datetime.fromtimestamp(NOW, UTC) + timedelta(seconds=60)
    assert (fifth.value.attempts_left, fifth.value.locked_until) == (0, until)

    with pytest.raises(SecondFactorLockedError) as locked:  # the right code, during the lock-out
        _require(work, settings, totp.at(NOW + 59), at=NOW + 59)
    assert locked.value.until == until
    with pytest.raises(SecondFactorLockedError):  # a code is not even looked at: no count, no notice
        _require(work, settings, _wrong(totp, NOW + 59), at=NOW + 59)
    assert [a.action for a in _audit(sessions)] == [SecondFactorAction.ENROLLED, SecondFactorAction.LOCKED]
    lock = _audit(sessions)[-1]
    assert lock.until == until and lock.reason == "5 wrong TOTP codes in a row"
    assert [n.kind for n in _notices(sessions)] == [HistoryKind.TOTP_ENROLLED, HistoryKind.TOTP_LOCKED]

    at = NOW + 61  # expired: five more wrong codes lock it out twice as long, the third time at the cap
    for expected in (120, 150):
        for _ in range(5):
            with pytest.raises(SecondFactorInvalidError) as refused:
                _require(work, settings, _wrong(totp, at), at=at)
        assert refused.value.locked_until == datetime.fromtimestamp(at, UTC) + timedelta(seconds=expected)
        at += expected + 1
    assert _require(work, settings, totp.at(at), at=at) is True  # after the lock-out the right code passes
    with sessions() as session:
        row = session.scalars(select(SecondFactorFailures)).one()
    assert (row.failures, row.lockouts) == (0, 0)  # and a success starts the count afresh


def test_a_success_resets_the_count(work: sessionmaker[Session], settings: NodeSettings) -> None:
    totp = pyotp.TOTP(_enrol(work, settings))
    for _ in range(4):
        with pytest.raises(SecondFactorInvalidError):
            _require(work, settings, _wrong(totp, NOW))
    assert _require(work, settings, totp.at(NOW)) is True
    with pytest.raises(SecondFactorInvalidError) as refused:
        _require(work, settings, _wrong(totp, NOW + 30), at=NOW + 30)
    assert refused.value.attempts_left == 4


def test_a_wrong_code_is_counted_although_the_work_rolls_back(
        work: sessionmaker[Session], sessions: sessionmaker[Session], settings: NodeSettings) -> None:
    totp = pyotp.TOTP(_enrol(work, settings))

    def payment(session: Session) -> None:  # a flow writes, then checks the code
        session.add(SecondFactorAudit(wallet="0x" + "34" * 20, action=SecondFactorAction.ENROLLED, created_at=_now()))
        session.flush()
        second_factor.require(session, settings, WALLET, 50_000, _wrong(totp, NOW), now=NOW)

    with pytest.raises(SecondFactorInvalidError):
        run(work, payment)
    with sessions() as session:
        assert session.scalars(select(SecondFactorFailures.failures)).one() == 1
        assert session.scalar(select(func.count()).select_from(SecondFactorAudit)
                              .where(SecondFactorAudit.wallet == "0x" + "34" * 20)) == 0


def test_concurrent_wrong_codes_do_not_get_past_the_limit(
        work: sessionmaker[Session], sessions: sessionmaker[Session], settings: NodeSettings) -> None:
    guesses = 12
    totp = pyotp.TOTP(_enrol(work, settings))
    wrong = _wrong(totp, NOW)
    start = threading.Barrier(guesses)
    outcomes: list[str] = []

    def guess() -> None:
        start.wait()
        try:
            _require(work, settings, wrong)
        except (SecondFactorInvalidError, SecondFactorLockedError) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=guess) for _ in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(outcomes) == sorted(["SecondFactorInvalidError"] * 5 +
                                      ["SecondFactorLockedError"] * (guesses - 5))
    assert [a.action for a in _audit(sessions)].count(SecondFactorAction.LOCKED) == 1
    assert [n.kind for n in _notices(sessions)].count(HistoryKind.TOTP_LOCKED) == 1


def test_concurrent_first_enrolments_enrol_once(work: sessionmaker[Session], sessions: sessionmaker[Session],
                                                settings: NodeSettings) -> None:
    """Two apps enrol a wallet's first authenticator at once: one gets the secret, the other is told the wallet
    has one now (it needs the current code), never a database error."""
    tries = 6
    start = threading.Barrier(tries)
    secrets: list[str] = []
    refused: list[bool] = []

    def enrol() -> None:
        start.wait()
        try:
            secrets.append(run(work, lambda s: second_factor.enrol(s, settings, WALLET, now=NOW)).secret)
        except SecondFactorRequiredError as exc:
            refused.append(exc.enrolled)

    threads = [threading.Thread(target=enrol) for _ in range(tries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(secrets) == 1 and refused == [True] * (tries - 1)
    assert [a.action for a in _audit(sessions)] == [SecondFactorAction.ENROLLED]
    assert _require(work, settings, pyotp.TOTP(secrets[0]).at(NOW)) is True
