"""The TOTP second factor (node.flows.second_factor) on both databases: threshold, codes, replays."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from node.flows import second_factor
from node.flows.second_factor import SecondFactor, SecondFactorInvalidError, SecondFactorRequiredError
from node.settings import NodeSettings, load_settings

WALLET = "0x" + "12" * 20
NOW = 1_790_000_000.0


@pytest.fixture
def settings(tmp_path: Path) -> NodeSettings:
    return load_settings(data_dir=tmp_path, second_factor_threshold=10_000)


def _enrol(sessions: sessionmaker[Session], settings: NodeSettings) -> str:
    with sessions.begin() as session:
        enrolment = second_factor.enrol(session, settings, WALLET, label="alice")
    assert enrolment.provisioning_uri.startswith("otpauth://totp/")
    assert "secret=" + enrolment.secret in enrolment.provisioning_uri
    assert enrolment.secret not in repr(enrolment)
    return enrolment.secret


def test_the_secret_is_stored_encrypted(sessions: sessionmaker[Session], settings: NodeSettings) -> None:
    secret = _enrol(sessions, settings)
    with sessions() as session:
        stored = session.scalars(select(SecondFactor)).one()
    assert secret not in stored.secret_ciphertext
    assert secret not in repr(stored)
    assert (settings.data_dir / "banka" / "custody.key").stat().st_mode & 0o077 == 0


def test_at_or_below_the_threshold_nothing_is_asked(sessions: sessionmaker[Session], settings: NodeSettings) -> None:
    with sessions.begin() as session:
        assert second_factor.require(session, settings, WALLET, 10_000, None) is False


def test_above_the_threshold_a_code_is_required(sessions: sessionmaker[Session], settings: NodeSettings) -> None:
    with sessions.begin() as session, pytest.raises(SecondFactorRequiredError) as not_enrolled:
        second_factor.require(session, settings, WALLET, 10_001, "123456")
    assert not_enrolled.value.enrolled is False
    _enrol(sessions, settings)
    with sessions.begin() as session, pytest.raises(SecondFactorRequiredError) as no_code:
        second_factor.require(session, settings, WALLET, 10_001, None)
    assert no_code.value.enrolled is True and no_code.value.threshold_minor == 10_000


def test_a_current_code_passes_once(sessions: sessionmaker[Session], settings: NodeSettings) -> None:
    totp = pyotp.TOTP(_enrol(sessions, settings))
    code = totp.at(NOW)
    with sessions.begin() as session:
        assert second_factor.require(session, settings, WALLET, 50_000, code, now=NOW) is True
    with sessions.begin() as session, pytest.raises(SecondFactorInvalidError):
        second_factor.require(session, settings, WALLET, 50_000, code, now=NOW)  # replayed
    with sessions.begin() as session:  # the next step's code is fine
        assert second_factor.require(session, settings, WALLET, 50_000, totp.at(NOW + 30), now=NOW + 30)


def test_wrong_and_expired_codes_are_refused(sessions: sessionmaker[Session], settings: NodeSettings) -> None:
    totp = pyotp.TOTP(_enrol(sessions, settings))
    wrong = f"{(int(totp.at(NOW)) + 1) % 1_000_000:06d}"
    for code, at in ((wrong, NOW), (totp.at(NOW - 120), NOW)):
        with sessions.begin() as session, pytest.raises(SecondFactorInvalidError):
            second_factor.require(session, settings, WALLET, 50_000, code, now=at)


def test_enrolling_again_replaces_the_secret(sessions: sessionmaker[Session], settings: NodeSettings) -> None:
    first = pyotp.TOTP(_enrol(sessions, settings))
    second = pyotp.TOTP(_enrol(sessions, settings))
    if first.at(NOW) != second.at(NOW):
        with sessions.begin() as session, pytest.raises(SecondFactorInvalidError):
            second_factor.require(session, settings, WALLET, 50_000, first.at(NOW), now=NOW)
    with sessions.begin() as session:
        assert second_factor.require(session, settings, WALLET, 50_000, second.at(NOW), now=NOW)
