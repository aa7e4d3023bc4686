"""The cash-in lane (node/atm/lane.py): many ATM cash-ins admitted in one transaction, each as if it ran alone.

The lane is driven directly (``CashInLane.run``, what its thread does with each batch), with messages signed as an
ATM signs them, so a test says exactly which messages share a transaction; test_flows_atm.py and
test_flows_atm_messages.py go through it over HTTP."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from atm_support import Atm, fresh, new_atm, new_customer
from flow_network import BankNetwork, BankNode
from sqlalchemy import select

from node.atm.auth import AtmAuthenticationFailedError, AtmEventConflictError, AtmMessageReplayedError
from node.atm.lane import CashInLane, CashInRequest
from node.atm.models import AtmEvent, AtmMessage
from node.atm.service import NoteCount
from node.db import session_factory, transaction
from node.db.durable import work_sessions
from node.errors import FlowNotFoundError, FlowValidationError, LimitExceededError
from node.idempotency import request_hash
from node.lanes import Answer
from node.operations.models import Operation, OperationKind
from wallet_sdk.client.atm import atm_headers
from wallet_sdk.keys import WalletKey

PATH = "/v1/atm/cash-ins"


def _render(op: Operation) -> dict[str, Any]:
    return {"id": op.public_id, "status": op.status.value, "amount": op.amount_minor, "wallet": op.wallet}


def _lane(bank: BankNode) -> CashInLane:
    return CashInLane(work_sessions(bank.engine), bank.settings, lambda: bank.network, _render)


def _message(atm: Atm, event_id: str, wallet: str, amount: int, *, secret: str | None = None) -> CashInRequest:
    body = {"event_id": event_id, "wallet": wallet, "amount": amount, "notes": [{"denomination": amount, "count": 1}]}
    raw = json.dumps(body).encode()
    headers = atm_headers(atm.atm_id, secret or atm.secret, method="POST", path=PATH, body=raw)
    return CashInRequest(
        api_key_id=1, headers={"atm_id": headers["X-ATM-Id"], "timestamp": headers["X-ATM-Timestamp"],
                               "nonce": headers["X-ATM-Nonce"], "signature": headers["X-ATM-Signature"]},
        method="POST", path=PATH, raw=raw, request_hash=request_hash("POST", PATH, body), event_id=event_id,
        wallet=wallet, amount_minor=amount, notes=[NoteCount(amount, 1)])


@pytest.fixture(params=["sqlite", "postgresql"])
def bank(request: pytest.FixtureRequest, bank_network: BankNetwork) -> BankNode:
    """A keeps its node's data in SQLite, B in PostgreSQL."""
    bank = bank_network.a if request.param == "sqlite" else bank_network.b
    assert bank.engine.dialect.name == request.param
    return bank


@pytest.fixture
def atm(bank: BankNode) -> Atm:
    return new_atm(bank, bank.client("admin"))


def _cash_ins(bank: BankNode, wallet: str) -> list[Operation]:
    with transaction(session_factory(bank.engine)) as session:
        return list(session.scalars(select(Operation).where(Operation.wallet == wallet,
                                                            Operation.kind == OperationKind.ATM_CASH_IN)
                                    .order_by(Operation.id)))


def _seen(bank: BankNode, atm: Atm) -> tuple[set[str], dict[str, str | None]]:
    """The signatures recorded for the ATM, and its events with their operations."""
    with transaction(session_factory(bank.engine)) as session:
        signatures = set(session.scalars(select(AtmMessage.signature).where(AtmMessage.atm_id == atm.atm_id)))
        events = {e.event_id: e.operation for e in session.scalars(select(AtmEvent)
                                                                    .where(AtmEvent.atm_id == atm.atm_id))}
    return signatures, events


def test_a_batch_admits_each_message_as_alone_and_records_every_accepted_signature(
        bank_network: BankNetwork, bank: BankNode, atm: Atm) -> None:
    customer = new_customer(bank)
    bank_network.wait_idle()  # the node's view has the wallet
    stranger = str(WalletKey.create().address)  # no wallet: the view does not know it, so the chain is asked
    first = _message(atm, "EV-1", customer.wallet, 1_000)
    messages = [
        first,
        _message(atm, "EV-2", customer.wallet, 2_000),
        _message(atm, "EV-1", customer.wallet, 1_000),  # the same event re-sent, signed afresh
        _message(atm, "EV-1", customer.wallet, 9_000),  # the same event id with another body
        _message(atm, "EV-3", stranger, 500),
        first,  # the very same message again (an ATM must sign each message afresh)
        _message(atm, "EV-5", customer.wallet, 300, secret="atms_" + secrets.token_urlsafe(32)),
        _message(atm, "EV-6", customer.wallet, 0),  # notes that add up to nothing
    ]
    one, two, again, reused, unknown, replay, forged, empty = _lane(bank).run(messages)
    assert isinstance(one, Answer) and isinstance(two, Answer) and not one.replayed
    assert (one.status, one.body["amount"], two.body["amount"]) == (202, 1_000, 2_000)
    assert isinstance(again, Answer) and again.replayed and again.body == one.body
    assert isinstance(reused, AtmEventConflictError)
    assert isinstance(unknown, FlowNotFoundError)
    assert isinstance(replay, AtmMessageReplayedError)
    assert isinstance(forged, AtmAuthenticationFailedError)
    assert isinstance(empty, FlowValidationError)
    assert [op.public_id for op in _cash_ins(bank, customer.wallet)] == [one.body["id"], two.body["id"]]
    signatures, events = _seen(bank, atm)
    # every authenticated message is remembered, its cash-in accepted or not; the forged one is not
    assert signatures == {m.headers["signature"] for m in messages[:5] + messages[7:]} and len(signatures) == 6
    assert events == {"EV-1": one.body["id"], "EV-2": two.body["id"]}
    # a later batch: the event's recorded answer, and the signature still refused
    later, old = _lane(bank).run([_message(atm, "EV-2", customer.wallet, 2_000), messages[1]])
    assert isinstance(later, Answer) and later.replayed and later.body == two.body
    assert isinstance(old, AtmMessageReplayedError)
    bank_network.wait_idle()
    assert [op.status.value for op in _cash_ins(bank, customer.wallet)] == ["completed", "completed"]
    assert customer.bank.client("teller").get_balance(customer.wallet).spendable.amount == 3_000


def test_a_cash_in_the_view_finds_over_the_cap_is_asked_of_the_chain(
        bank_network: BankNetwork, bank: BankNode, atm: Atm) -> None:
    customer = new_customer(bank)
    bank_network.wait_idle()
    limits = bank.network.wallet_limits(customer.wallet)
    assert limits is not None
    outcomes = _lane(bank).run([_message(atm, "CAP-1", customer.wallet, limits.balance_cap + 1),
                                _message(atm, "CAP-2", customer.wallet, limits.balance_cap)])
    refused, taken = outcomes
    assert isinstance(refused, LimitExceededError) and refused.extra["balance_cap"] == limits.balance_cap
    assert isinstance(taken, Answer) and taken.body["amount"] == limits.balance_cap
    signatures, events = _seen(bank, atm)
    assert len(signatures) == 2 and events == {"CAP-2": taken.body["id"]}


def test_a_batch_that_fails_as_a_whole_runs_each_message_alone(
        bank_network: BankNetwork, bank: BankNode, atm: Atm, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    from node.atm import lane as lanes
    customer = new_customer(bank)
    bank_network.wait_idle()
    real_write = lanes._Batch.write
    failed: list[int] = []

    def write_once_failing(batch: Any) -> None:
        if len(batch.operations) > 1 and not failed:
            failed.append(len(batch.operations))
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        real_write(batch)

    monkeypatch.setattr(lanes._Batch, "write", write_once_failing)
    outcomes = _lane(bank).run([_message(atm, fresh("EV"), customer.wallet, 100 * (i + 1)) for i in range(3)])
    assert failed == [3]
    assert all(isinstance(o, Answer) and not o.replayed for o in outcomes), outcomes
    assert sorted(op.amount_minor for op in _cash_ins(bank, customer.wallet)) == [100, 200, 300]
    assert len(_seen(bank, atm)[0]) == 3
