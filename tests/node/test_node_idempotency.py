"""Idempotency keys: replay the recorded response, 409 on another request or while in flight."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from node.db import utcnow
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
    request_hash,
    set_recovery_point,
)

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
        assert claim.replay is None and not claim.resumed
        assert (claim.record.state, claim.record.recovery_point) == (IdempotencyState.IN_FLIGHT, STARTED)
    with sessions.begin() as session:  # the work, then the response, in one transaction
        record = session.get(IdempotencyRecord, claim.record.id)
        assert record is not None
        set_recovery_point(session, record, "ledger_posted")
        complete(session, record, status=201, body={"id": "topup-1", "amount": 2_500})
    with sessions.begin() as session:
        again = begin(session, scope="teller", key="k-1", request_hash=H1)
        assert again.replay == RecordedResponse(201, {"id": "topup-1", "amount": 2_500})
        assert again.record.state is IdempotencyState.COMPLETED


def test_the_same_key_with_another_request_is_a_conflict(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        claim = begin(session, scope="teller", key="k-1", request_hash=H1)
    with sessions.begin() as session, pytest.raises(IdempotencyKeyReusedError) as in_flight:
        begin(session, scope="teller", key="k-1", request_hash=H2)
    assert (in_flight.value.key, in_flight.value.status_code) == ("k-1", 409)
    with sessions.begin() as session:
        record = session.get(IdempotencyRecord, claim.record.id)
        assert record is not None
        complete(session, record, status=201, body={})
    with sessions.begin() as session, pytest.raises(IdempotencyKeyReusedError):
        begin(session, scope="teller", key="k-1", request_hash=H2)


def test_the_same_key_while_the_first_is_in_flight_is_a_conflict(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        claim = begin(session, scope="teller", key="k-1", request_hash=H1)
        set_recovery_point(session, claim.record, "hold_placed")
    with sessions.begin() as session, pytest.raises(IdempotencyKeyInFlightError) as busy:
        begin(session, scope="teller", key="k-1", request_hash=H1)
    assert (busy.value.recovery_point, busy.value.status_code) == ("hold_placed", 409)


def test_keys_are_per_scope(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        begin(session, scope="teller", key="k-1", request_hash=H1)
        other = begin(session, scope="atm", key="k-1", request_hash=H2)
        assert other.replay is None
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 2


def test_a_stale_in_flight_key_is_taken_over_and_resumed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        claim = begin(session, scope="teller", key="k-1", request_hash=H1)
        set_recovery_point(session, claim.record, "ledger_posted")
    later = utcnow() + timedelta(minutes=6)  # the first process died mid-request
    with sessions.begin() as session:
        taken = begin(session, scope="teller", key="k-1", request_hash=H1, lock_timeout=timedelta(minutes=5),
                      now=later)
        assert taken.resumed and taken.replay is None
        assert taken.record.recovery_point == "ledger_posted"  # resume here, not from scratch
    with sessions.begin() as session, pytest.raises(IdempotencyKeyInFlightError):
        begin(session, scope="teller", key="k-1", request_hash=H1, now=later + timedelta(seconds=1))


def test_abandon_frees_a_key_only_before_any_work(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        claim = begin(session, scope="teller", key="k-1", request_hash=H1)
        abandon(session, claim.record)
    with sessions.begin() as session:
        again = begin(session, scope="teller", key="k-1", request_hash=H2)  # a fresh start, any request
        set_recovery_point(session, again.record, "ledger_posted")
        with pytest.raises(IdempotencyError, match="resume it"):
            abandon(session, again.record)
        complete(session, again.record, status=200, body=None)
        with pytest.raises(IdempotencyError, match="already completed"):
            complete(session, again.record, status=200, body=None)


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
