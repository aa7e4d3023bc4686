"""The P2P lane (node/transfers/lane.py): many payments admitted in one transaction, each as if it ran alone.

The lane is driven directly here (``TransferLane.run``, what its thread does with each batch), so a test says
exactly which requests share a transaction; the API tests (test_flows_local_admission.py, test_flows_transfers.py)
go through it over HTTP."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from flow_network import BankNetwork, BankNode
from money_flows_support import Customer, fund_wallet, open_customer
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from test_flows_transfers import signed_transfer

from node.db import session_factory, transaction
from node.db.durable import work_sessions
from node.errors import InsufficientBalanceError
from node.idempotency import IdempotencyKeyReusedError, IdempotencyRecord, IdempotencyState
from node.lanes import Keyed
from node.operations.models import Attribution, Operation, OperationKind
from node.outbox import OutboxRow
from node.transfers import lane as lanes
from node.transfers.lane import Answer, TransferLane, TransferRequest
from wallet_sdk.authorizations import RelayedTransfer, SignedAuthorization


def _render(op: Operation) -> dict[str, Any]:
    return {"id": op.public_id, "status": op.status.value, "amount": op.amount_minor}


def _lane(bank: BankNode) -> TransferLane:
    return TransferLane(work_sessions(bank.engine), bank.settings, lambda: bank.network, _render)


def _request(payer: Customer, signed: SignedAuthorization[RelayedTransfer], *, key: str | None = None,
             digest: str | None = None) -> TransferRequest:
    auth = signed.authorization
    return TransferRequest(
        keyed=Keyed("test", key or secrets.token_hex(8), digest or "h" * 64),
        api_key_id=1, channel="teller", attribution=Attribution(branch="B1", operator="OP1"), customer_ref=None,
        payer=payer.wallet, payee=auth.to, amount_minor=auth.value,
        authorization={"from_": auth.from_, "to": auth.to, "value": auth.value, "valid_before": auth.valid_before,
                       "nonce": auth.nonce, "v": signed.v, "r": signed.r, "s": signed.s})


@pytest.fixture(params=["sqlite", "postgresql"])
def payer_bank(request: pytest.FixtureRequest, bank_network: BankNetwork) -> BankNode:
    """The payer's bank: A keeps its node's data in SQLite, B in PostgreSQL."""
    bank = bank_network.a if request.param == "sqlite" else bank_network.b
    assert bank.engine.dialect.name == request.param
    return bank


@pytest.fixture
def pair(bank_network: BankNetwork, payer_bank: BankNode) -> tuple[Customer, Customer]:
    payee_bank = bank_network.b if payer_bank is bank_network.a else bank_network.a
    payer = open_customer(payer_bank, self_custody=True, deposit=1_000)
    payee = open_customer(payee_bank, deposit=None)
    fund_wallet(payer, 1_000)
    bank_network.wait_idle()  # the indexer has the payer's money and the payee's wallet
    return payer, payee


def _operations(bank: BankNode, payer: str) -> list[Operation]:
    with transaction(session_factory(bank.engine)) as session:
        return list(session.scalars(select(Operation).where(Operation.wallet == payer,
                                                            Operation.kind == OperationKind.P2P)
                                    .order_by(Operation.id)))


def test_a_batch_takes_its_payments_in_order_and_never_past_the_balance(
        bank_network: BankNetwork, pair: tuple[Customer, Customer], payer_bank: BankNode) -> None:
    payer, payee = pair
    bank = payer_bank
    first, second, third = (signed_transfer(payer, payee.wallet, value, bit=bit)
                            for bit, value in ((1, 600), (2, 600), (3, 400)))
    outcomes = _lane(bank).run([_request(payer, first), _request(payer, second), _request(payer, third)])
    assert isinstance(outcomes[0], Answer) and outcomes[0].status == 202
    assert isinstance(outcomes[1], InsufficientBalanceError)  # 600 of 1,000 taken by the first
    assert isinstance(outcomes[2], Answer) and outcomes[2].body["amount"] == 400
    ops = _operations(bank, payer.wallet)
    assert [(op.public_id, op.amount_minor, op.branch) for op in ops] == [
        (outcomes[0].body["id"], 600, "B1"), (outcomes[2].body["id"], 400, "B1")]
    with transaction(session_factory(bank.engine)) as session:
        relays = session.scalars(select(OutboxRow).where(OutboxRow.kind == "relay_transfers")).all()
        assert sorted(r.payload["operation"] for r in relays if r.payload["operation"] in
                      {op.public_id for op in ops}) == sorted(op.public_id for op in ops)
    bank_network.wait_idle()
    assert [op.status.value for op in _operations(bank, payer.wallet)] == ["completed", "completed"]
    assert payee.app().get_balance(payee.wallet).spendable.amount == 1_000


def test_a_key_is_recorded_completed_with_its_answer_and_replayed_within_the_batch(
        bank_network: BankNetwork, pair: tuple[Customer, Customer], payer_bank: BankNode) -> None:
    payer, payee = pair
    bank = payer_bank
    signed = signed_transfer(payer, payee.wallet, 100)
    other = signed_transfer(payer, payee.wallet, 200)
    outcomes = _lane(bank).run([_request(payer, signed, key="K1"), _request(payer, signed, key="K1"),
                             _request(payer, other, key="K1", digest="x" * 64)])
    first, again, reused = outcomes
    assert isinstance(first, Answer) and not first.replayed
    assert isinstance(again, Answer) and again.replayed and again.body == first.body
    assert isinstance(reused, IdempotencyKeyReusedError)
    assert len(_operations(bank, payer.wallet)) == 1
    with transaction(session_factory(bank.engine)) as session:
        record = session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key == "K1")).one()
        assert (record.state, record.response_status, record.response_body) == (
            IdempotencyState.COMPLETED, 202, first.body)
    later = _lane(bank).run([_request(payer, signed, key="K1")])  # a later batch: the recorded answer
    assert isinstance(later[0], Answer) and later[0].replayed and later[0].body == first.body
    assert len(_operations(bank, payer.wallet)) == 1


def test_a_batch_that_fails_as_a_whole_runs_each_request_alone(
        bank_network: BankNetwork, pair: tuple[Customer, Customer], payer_bank: BankNode,
        monkeypatch: pytest.MonkeyPatch) -> None:
    payer, payee = pair
    bank = payer_bank
    real_write = lanes._Batch.write
    failed: list[int] = []

    def write_once_failing(batch: Any) -> None:
        if len(batch.operations) > 1 and not failed:  # the batch's own write: the database goes away once
            failed.append(len(batch.operations))
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        real_write(batch)

    monkeypatch.setattr(lanes._Batch, "write", write_once_failing)
    requests = [_request(payer, signed_transfer(payer, payee.wallet, 10 * (bit + 1), bit=bit)) for bit in range(3)]
    outcomes = _lane(bank).run(requests)
    assert failed == [3]
    assert all(isinstance(o, Answer) and not o.replayed for o in outcomes), outcomes
    ops = _operations(bank, payer.wallet)
    assert sorted(op.amount_minor for op in ops) == [10, 20, 30]  # each once: the failed batch left nothing
    with transaction(session_factory(bank.engine)) as session:
        keys = session.scalar(select(func.count()).select_from(IdempotencyRecord).where(
            IdempotencyRecord.key.in_([r.keyed.key for r in requests])))
    assert keys == 3
