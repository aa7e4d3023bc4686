"""The outbox: enqueued in the business transaction, unique per event, state changes in one place."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from node.ledger import SqlLedger
from node.ledger.models import JournalEntry
from node.outbox import (
    TRANSITIONS,
    IllegalTransitionError,
    OutboxConflictError,
    OutboxPayloadError,
    OutboxRow,
    OutboxState,
    enqueue,
    transition,
)

TX1 = "0x" + "a1" * 32
TX2 = "0x" + "b2" * 32
PAYLOAD = {"wallet": "0x" + "11" * 20, "amount": 2_500, "currency": "DCASH", "ref": "atm-evt-9"}


def _rows(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(OutboxRow)) or 0)


def _cash_in(session: Session, key: str) -> OutboxRow:
    """A business event: an ATM cash-in booked in the ledger, and its mint queued for the chain."""
    book = SqlLedger(session)
    book.debit("atm:0001", 2_500, contra="suspense:wallet-funding", reference=key)
    return enqueue(session, key, "mint", PAYLOAD)


def test_enqueue_commits_together_with_the_business_record(sessions: sessionmaker[Session], ledger: SqlLedger) -> None:
    with sessions.begin() as session:
        row = _cash_in(session, "atm-evt-9")
        assert row.state is OutboxState.RECEIVED
    with sessions() as session:
        stored = session.scalars(select(OutboxRow)).one()
        assert (stored.idempotency_key, stored.kind, stored.payload) == ("atm-evt-9", "mint", PAYLOAD)
        assert (stored.attempts, stored.tx_hash, stored.nonce) == (0, None, None)
        assert SqlLedger(session).entry("atm-evt-9") is not None


def test_a_rollback_leaves_neither_the_business_record_nor_the_outbox_row(
    sessions: sessionmaker[Session], ledger: SqlLedger
) -> None:
    class Crash(Exception):
        pass

    with pytest.raises(Crash), sessions.begin() as session:
        _cash_in(session, "atm-evt-9")
        raise Crash  # e.g. the process fails before commit

    with sessions() as session:
        _cash_in(session, "atm-evt-10")
        session.rollback()

    with sessions() as session:
        assert _rows(session) == 0
        assert session.scalar(select(func.count()).select_from(JournalEntry)) == 0
        assert SqlLedger(session).balance("atm:0001").amount_minor == 0


def test_the_same_event_enqueued_twice_is_one_row(sessions: sessionmaker[Session], ledger: SqlLedger) -> None:
    with sessions.begin() as session:
        first = enqueue(session, "evt-1", "mint", PAYLOAD)
        assert enqueue(session, "evt-1", "mint", dict(reversed(PAYLOAD.items()))).id == first.id
    with sessions.begin() as session:  # a retry after commit, e.g. the ATM resent its message
        assert enqueue(session, "evt-1", "mint", PAYLOAD).id == first.id
        assert _rows(session) == 1


def test_the_same_key_for_another_effect_is_a_conflict(session: Session, ledger: SqlLedger) -> None:
    enqueue(session, "evt-1", "mint", PAYLOAD)
    with pytest.raises(OutboxConflictError) as other_payload:
        enqueue(session, "evt-1", "mint", {**PAYLOAD, "amount": 2_501})
    assert (other_payload.value.key, other_payload.value.status) == ("evt-1", 409)
    with pytest.raises(OutboxConflictError):
        enqueue(session, "evt-1", "burn", PAYLOAD)
    assert _rows(session) == 1


@pytest.mark.parametrize(
    ("payload", "where"),
    [({"amount": 12.5}, "$.amount"), ({"legs": [1, {"x": 0.1}]}, "$.legs[1].x"), ({"when": object()}, "$.when"),
     ({1: "x"}, "$")],
    ids=["float", "nested-float", "object", "int-key"],
)
def test_payloads_are_plain_json_without_floats(session: Session, payload: dict[object, object], where: str) -> None:
    with pytest.raises(OutboxPayloadError) as bad:
        enqueue(session, "evt-1", "mint", payload)  # type: ignore[arg-type]
    assert bad.value.path == where
    assert _rows(session) == 0


def test_big_integer_amounts_survive_the_round_trip(sessions: sessionmaker[Session]) -> None:
    amount = 2**255 + 7  # a uint256 does not fit a float or a BIGINT; JSON keeps it exact
    with sessions.begin() as session:
        enqueue(session, "evt-big", "mint", {"amount": amount})
    with sessions() as session:
        assert session.scalars(select(OutboxRow)).one().payload == {"amount": amount}


def test_the_writer_path_received_submitted_replaced_confirmed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        row = enqueue(session, "evt-1", "mint", PAYLOAD)
    with sessions.begin() as session:
        row = transition(session, row, OutboxState.SUBMITTED, tx_hash=TX1, nonce=7)
        assert (row.state, row.tx_hash, row.nonce, row.attempts) == (OutboxState.SUBMITTED, TX1, 7, 1)
        assert row.submitted_at is not None
    with sessions.begin() as session:  # stuck: replaced with a higher fee, same nonce
        row = transition(session, row, OutboxState.SUBMITTED, tx_hash=TX2, nonce=7)
        assert (row.tx_hash, row.attempts) == (TX2, 2)
        with pytest.raises(IllegalTransitionError, match="keeps nonce 7"):
            transition(session, row, OutboxState.SUBMITTED, tx_hash=TX1, nonce=8)
    with sessions.begin() as session:
        row = transition(session, row, OutboxState.CONFIRMED)
    with sessions.begin() as session:
        row = transition(session, row, OutboxState.REVERSED, error="compensated by evt-1:refund")
    with sessions() as session:
        stored = session.scalars(select(OutboxRow)).one()
        assert (stored.state, stored.tx_hash, stored.nonce, stored.attempts) == (OutboxState.REVERSED, TX2, 7, 2)
        assert stored.completed_at is not None and stored.last_error == "compensated by evt-1:refund"


def test_failure_records_the_error(session: Session) -> None:
    row = enqueue(session, "evt-1", "mint", PAYLOAD)
    row = transition(session, row, OutboxState.FAILED, error="wallet frozen")
    assert (row.state, row.last_error) == (OutboxState.FAILED, "wallet frozen")


def test_every_transition_outside_the_table_is_refused(session: Session) -> None:
    paths = {  # how to bring a fresh row into each state legally
        OutboxState.RECEIVED: [],
        OutboxState.SUBMITTED: [OutboxState.SUBMITTED],
        OutboxState.CONFIRMED: [OutboxState.SUBMITTED, OutboxState.CONFIRMED],
        OutboxState.FAILED: [OutboxState.FAILED],
        OutboxState.REVERSED: [OutboxState.SUBMITTED, OutboxState.CONFIRMED, OutboxState.REVERSED],
    }
    refused = 0
    for n, (source, target) in enumerate(itertools.product(OutboxState, OutboxState)):
        if target in TRANSITIONS[source]:
            continue
        row = enqueue(session, f"evt-{n}", "mint", PAYLOAD)
        for step in paths[source]:
            row = transition(session, row, step, tx_hash=TX1, nonce=n)
        assert row.state is source
        with pytest.raises(IllegalTransitionError) as illegal:
            transition(session, row, target, tx_hash=TX1, nonce=n)
        assert (illegal.value.current, illegal.value.target) == (source, target)
        assert row.state is source
        refused += 1
    assert refused == 25 - sum(len(targets) for targets in TRANSITIONS.values())


def test_submission_needs_a_hash_and_a_nonce(session: Session) -> None:
    row = enqueue(session, "evt-1", "mint", PAYLOAD)
    with pytest.raises(IllegalTransitionError, match="needs tx_hash and nonce"):
        transition(session, row, OutboxState.SUBMITTED, tx_hash=TX1)
    with pytest.raises(IllegalTransitionError, match="malformed tx hash"):
        transition(session, row, OutboxState.SUBMITTED, tx_hash="0x1234", nonce=1)
    assert row.state is OutboxState.RECEIVED


def test_state_cannot_be_assigned_outside_the_transition_function(session: Session) -> None:
    row = enqueue(session, "evt-1", "mint", PAYLOAD)
    with pytest.raises(IllegalTransitionError, match=r"go through node\.outbox\.transition"):
        row.state = OutboxState.CONFIRMED
    with pytest.raises(IllegalTransitionError):
        OutboxRow(idempotency_key="evt-2", kind="mint", payload={}, payload_hash="", state=OutboxState.CONFIRMED)
    session.flush()
    session.expire_all()
    assert session.scalars(select(OutboxRow)).one().state is OutboxState.RECEIVED


def test_a_stale_copy_cannot_move_a_row_twice(sessions: sessionmaker[Session]) -> None:
    """Two writers holding the same row: the second sees the first's committed state and is refused."""
    with sessions.begin() as session:
        enqueue(session, "evt-1", "mint", PAYLOAD)
    with sessions() as first, sessions() as second:
        row_b = second.scalars(select(OutboxRow)).one()
        second.commit()  # row_b stays in memory as a copy that is about to go stale
        row_a = first.scalars(select(OutboxRow)).one()
        transition(first, row_a, OutboxState.FAILED, error="refused")
        first.commit()
        assert row_b.state is OutboxState.RECEIVED
        with pytest.raises(IllegalTransitionError) as stale:
            transition(second, row_b, OutboxState.SUBMITTED, tx_hash=TX1, nonce=1)
        assert stale.value.current is OutboxState.FAILED
