"""Idempotency keys: replay the recorded response, 409 on another request or while in flight."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from api.shown_once import REDACTED
from node.db import create_engine, upgrade, utcnow
from node.idempotency import (
    STARTED,
    IdempotencyError,
    IdempotencyKeyInFlightError,
    IdempotencyKeyReusedError,
    IdempotencyRecord,
    IdempotencyState,
    RecordedResponse,
    abandon,
    begin,
    complete,
    prune,
    prune_expired,
    request_hash,
)
from node.jobs import periodic_jobs
from node.settings import load_settings

BODY = {"wallet": "0x" + "11" * 20, "amount": 2_500, "currency": "DCASH"}
H1 = request_hash("POST", "/v1/topups", BODY)
H2 = request_hash("POST", "/v1/topups", {**BODY, "amount": 2_501})


def test_request_hash_is_stable_and_specific() -> None:
    assert request_hash("post", "/v1/topups", dict(reversed(BODY.items()))) == H1  # key order, method case
    assert H1 != H2
    assert request_hash("POST", "/v1/redemptions", BODY) != H1
    assert len(H1) == 64


def test_first_call_claims_the_key_and_a_retry_replays_the_response(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        claim = begin(session, scope="teller", key="k-1", request_hash=H1)
        assert claim.replay is None
        assert (claim.record.state, claim.record.recovery_point) == (IdempotencyState.IN_FLIGHT, STARTED)
    with sessions.begin() as session:  # the work, then the response, in one transaction
        record = session.get(IdempotencyRecord, claim.record.id)
        assert record is not None
        complete(session, record.id, record.key, status=201, body={"id": "topup-1", "amount": 2_500})
    with sessions.begin() as session:
        again = begin(session, scope="teller", key="k-1", request_hash=H1)
        assert again.replay == RecordedResponse(201, {"id": "topup-1", "amount": 2_500})
        assert again.record.state is IdempotencyState.COMPLETED


def test_the_same_key_with_another_request_is_a_conflict(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        claim = begin(session, scope="teller", key="k-1", request_hash=H1)
    with sessions.begin() as session, pytest.raises(IdempotencyKeyReusedError) as in_flight:
        begin(session, scope="teller", key="k-1", request_hash=H2)
    assert (in_flight.value.key, in_flight.value.status) == ("k-1", 409)
    with sessions.begin() as session:
        record = session.get(IdempotencyRecord, claim.record.id)
        assert record is not None
        complete(session, record.id, record.key, status=201, body={})
    with sessions.begin() as session, pytest.raises(IdempotencyKeyReusedError):
        begin(session, scope="teller", key="k-1", request_hash=H2)


def test_the_same_key_while_the_first_is_in_flight_is_a_conflict(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        begin(session, scope="teller", key="k-1", request_hash=H1)
    with sessions.begin() as session, pytest.raises(IdempotencyKeyInFlightError) as busy:
        begin(session, scope="teller", key="k-1", request_hash=H1)
    assert (busy.value.recovery_point, busy.value.status) == (STARTED, 409)


def test_keys_are_per_scope(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        begin(session, scope="teller", key="k-1", request_hash=H1)
        other = begin(session, scope="atm", key="k-1", request_hash=H2)
        assert other.replay is None
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 2


def test_a_stale_in_flight_key_is_taken_over(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        claim = begin(session, scope="teller", key="k-1", request_hash=H1)
    later = utcnow() + timedelta(minutes=6)  # the first process died mid-request: its work rolled back
    with sessions.begin() as session:
        taken = begin(session, scope="teller", key="k-1", request_hash=H1, lock_timeout=timedelta(minutes=5),
                      now=later)
        assert taken.replay is None and taken.record.id == claim.record.id  # run it, under the same key
        assert (taken.record.recovery_point, taken.record.locked_at) == (STARTED, later)
    with sessions.begin() as session, pytest.raises(IdempotencyKeyInFlightError):
        begin(session, scope="teller", key="k-1", request_hash=H1, now=later + timedelta(seconds=1))


def test_abandon_frees_a_key_only_while_in_flight(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        claim = begin(session, scope="teller", key="k-1", request_hash=H1)
        abandon(session, claim.record)
    with sessions.begin() as session:
        again = begin(session, scope="teller", key="k-1", request_hash=H2)  # a fresh start, any request
        complete(session, again.record.id, again.record.key, status=200, body=None)
        with pytest.raises(IdempotencyError, match="already completed"):
            complete(session, again.record.id, again.record.key, status=200, body=None)
        with pytest.raises(IdempotencyError, match="cannot be abandoned"):
            abandon(session, again.record)


def test_two_concurrent_first_calls_get_one_claim(sessions: sessionmaker[Session]) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def call(i: int) -> None:
        barrier.wait()
        try:
            with sessions.begin() as session:
                outcomes[i] = begin(session, scope="teller", key="k-1", request_hash=H1)
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    claims = [o for o in outcomes if not isinstance(o, Exception)]
    conflicts = [o for o in outcomes if isinstance(o, IdempotencyKeyInFlightError)]
    assert (len(claims), len(conflicts)) == (1, 1), outcomes


def _completed(sessions: sessionmaker[Session], key: str, *, age: timedelta, digest: str = H1) -> None:
    """A key whose request completed ``age`` ago."""
    then = utcnow() - age
    with sessions.begin() as session:
        record = begin(session, scope="teller", key=key, request_hash=digest, now=then).record
        complete(session, record.id, record.key, status=201, body={"key": key})
        record.completed_at = then


def _keys(sessions: sessionmaker[Session]) -> set[str]:
    with sessions.begin() as session:
        return set(session.scalars(select(IdempotencyRecord.key)))


def test_pruning_deletes_completed_keys_past_their_retention_and_keeps_the_rest(
        sessions: sessionmaker[Session]) -> None:
    _completed(sessions, "old-1", age=timedelta(hours=25))
    _completed(sessions, "old-2", age=timedelta(days=30))
    _completed(sessions, "recent", age=timedelta(hours=23))
    with sessions.begin() as session:  # in flight for two days (its process died): resumed, never pruned
        begin(session, scope="teller", key="stuck", request_hash=H1, now=utcnow() - timedelta(days=2))
    with sessions.begin() as session:
        assert prune(session, retention=timedelta(hours=24), limit=1) == 1  # oldest first, in batches
        assert prune(session, retention=timedelta(hours=24)) == 1
        assert prune(session, retention=timedelta(hours=24)) == 0
    assert _keys(sessions) == {"recent", "stuck"}


def test_a_pruned_key_is_a_new_request_again(sessions: sessionmaker[Session]) -> None:
    _completed(sessions, "k-1", age=timedelta(hours=25))
    with sessions.begin() as session:
        assert prune(session, retention=timedelta(hours=24)) == 1
    with sessions.begin() as session:  # another request with the same key: no 409, no replay, a fresh claim
        claim = begin(session, scope="teller", key="k-1", request_hash=H2)
        assert claim.replay is None and claim.record.request_hash == H2


def test_the_node_prunes_by_its_setting_in_its_periodic_jobs(sessions: sessionmaker[Session]) -> None:
    assert prune_expired in periodic_jobs()
    assert load_settings().idempotency_retention == 86_400  # 24 h by default
    _completed(sessions, "two-hours", age=timedelta(hours=2))
    _completed(sessions, "ten-minutes", age=timedelta(minutes=10))
    assert prune_expired(sessions, load_settings(idempotency_retention=3600)) == 1
    assert _keys(sessions) == {"ten-minutes"}


def test_migration_0008_redacts_the_secrets_recorded_before(empty_db_url: str) -> None:
    """Answers recorded before the fix kept their secrets in plain text: upgrading redacts them."""
    upgrade(empty_db_url, "0007")
    engine = create_engine(empty_db_url)
    onboarding = {"merchant": {"merchant_id": "M-1"}, "api_key": "wn_plaintext", "webhook_secret": "whsec-plain"}
    enrolment = {"wallet": "0xabc", "secret": "TOTPSECRET", "provisioning_uri": "otpauth://totp/x?secret=TOTPSECRET"}
    plain = {"id": "op_1", "status": "pending"}
    try:
        with engine.begin() as connection:
            for key, body in (("k-1", onboarding), ("k-2", enrolment), ("k-3", plain)):
                connection.execute(IdempotencyRecord.__table__.insert().values(  # (its columns are those of 0007)
                    scope="apikey:1", key=key, request_hash=key.ljust(64, "0"), state="completed",
                    recovery_point="finished", response_status=201, response_body=body, created_at=utcnow(),
                    completed_at=utcnow()))
        upgrade(engine)
        with engine.connect() as connection:
            rows = dict(connection.execute(text("SELECT key, CAST(response_body AS TEXT) FROM idempotency_keys")).all())
    finally:
        engine.dispose()
    for secret in ("wn_plaintext", "whsec-plain", "TOTPSECRET"):
        assert not any(secret in body for body in rows.values()), rows
    assert json.loads(rows["k-1"]) == {**onboarding, "api_key": REDACTED, "webhook_secret": REDACTED}
    assert json.loads(rows["k-2"]) == {"wallet": "0xabc", "secret": REDACTED, "provisioning_uri": REDACTED}
    assert json.loads(rows["k-3"]) == plain
