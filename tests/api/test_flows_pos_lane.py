"""The POS lane (node/merchants/lane.py): payments that merchants' points of sale hand in, many admitted in one
transaction, each as if it ran alone.

The lane is driven directly (``PosLane.run``, what its thread does with each batch), so a test says exactly which
payments share a transaction; test_flows_merchants.py goes through it over HTTP."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from flow_network import BankNetwork, BankNode
from merchant_support import Shop, onboard_shop, sign_payment
from money_flows_support import Customer, fund_wallet, open_customer
from sqlalchemy import select

from node.db import session_factory, transaction
from node.db.durable import work_sessions
from node.errors import AuthorizationInvalidError, InsufficientBalanceError, OrderAlreadyPaidError
from node.lanes import Answer, Keyed
from node.merchants import service
from node.merchants.lane import PosLane, PosRequest
from node.merchants.models import PaymentRequestRecord
from node.operations.models import Operation, OperationKind
from wallet_sdk.authorizations import MerchantPayment, SignedAuthorization
from wallet_sdk.client.models import Money
from wallet_sdk.keys import WalletKey
from wallet_sdk.payload import encode_payload


def _render(op: Operation) -> dict[str, Any]:
    return {"id": op.public_id, "status": op.status.value, "amount": op.amount_minor, "order": op.details["order_id"]}


def _lane(bank: BankNode) -> PosLane:
    return PosLane(work_sessions(bank.engine), bank.settings, lambda: bank.network, _render)


def _pos(shop: Shop, signed: SignedAuthorization[MerchantPayment], *, amount: int | None = None,
         key: str | None = None) -> PosRequest:
    return PosRequest(keyed=Keyed("test", key or secrets.token_hex(8), "h" * 64), api_key_id=1,
                      merchant_id=shop.merchant_id, payload=encode_payload(signed),
                      amount_minor=signed.authorization.amount if amount is None else amount)


def _payments(bank: BankNode, payer: str) -> list[Operation]:
    with transaction(session_factory(bank.engine)) as session:
        return list(session.scalars(select(Operation).where(Operation.wallet == payer,
                                                            Operation.kind == OperationKind.MERCHANT_PAYMENT)
                                    .order_by(Operation.id)))


@pytest.fixture(params=["sqlite", "postgresql"])
def shop(request: pytest.FixtureRequest, bank_network: BankNetwork) -> Shop:
    """A merchant of A (its node's data in SQLite) or of B (in PostgreSQL)."""
    bank = bank_network.a if request.param == "sqlite" else bank_network.b
    assert bank.engine.dialect.name == request.param
    return onboard_shop(bank)


def _other(bank_network: BankNetwork, shop: Shop) -> BankNode:
    return bank_network.b if shop.bank is bank_network.a else bank_network.a


def _payer(bank: BankNode, bank_network: BankNetwork, amount: int) -> Customer:
    payer = open_customer(bank, self_custody=True, deposit=amount)
    fund_wallet(payer, amount)
    bank_network.wait_idle()  # the view has the payer's money
    return payer


def test_a_batch_checks_a_payer_of_the_bank_as_alone_and_asks_for_each_order_once(
        bank_network: BankNetwork, shop: Shop) -> None:
    bank = shop.bank
    payer = _payer(bank, bank_network, 1_000)
    first = sign_payment(payer, shop, "O-1", 600)
    requested = shop.client.create_payment_request(shop.merchant_id, "O-4", 100)
    outcomes = _lane(bank).run([
        _pos(shop, first, key="K-1"),
        _pos(shop, sign_payment(payer, shop, "O-2", 600)),  # 400 left
        _pos(shop, sign_payment(payer, shop, "O-1", 5)),  # another payment of an order on its way
        _pos(shop, first, key="K-1"),  # the POS retries: the first answer
        _pos(shop, sign_payment(payer, shop, "O-3", 300)),
        _pos(shop, sign_payment(payer, shop, "O-4", 90)),  # the order was requested for 100
        _pos(shop, sign_payment(payer, shop, "O-4", 100), amount=None),
    ])
    one, two, again, retried, three, wrong, four = outcomes
    assert isinstance(one, Answer) and (one.status, one.body["amount"], one.body["order"]) == (202, 600, "O-1")
    assert isinstance(two, InsufficientBalanceError)
    assert isinstance(again, OrderAlreadyPaidError)
    assert isinstance(retried, Answer) and retried.replayed and retried.body == one.body
    assert isinstance(three, Answer) and three.body["order"] == "O-3"
    assert isinstance(wrong, AuthorizationInvalidError)
    assert isinstance(four, Answer) and four.body["amount"] == 100
    assert [op.public_id for op in _payments(bank, payer.wallet)] == [one.body["id"], three.body["id"],
                                                                      four.body["id"]]
    with transaction(session_factory(bank.engine)) as session:  # the bank requested the POS's orders, once each
        requests = {r.order_id: r for r in session.scalars(select(PaymentRequestRecord).where(
            PaymentRequestRecord.merchant_id == shop.merchant_id))}
    assert sorted(requests) == ["O-1", "O-3", "O-4"] and requests["O-4"].payload == requested.payload
    assert requests["O-1"].amount_minor == 600 and requests["O-1"].payload.startswith("WALLETNET:1:REQUEST:")
    bank_network.wait_idle()
    assert [op.status.value for op in _payments(bank, payer.wallet)] == ["completed"] * 3
    assert [shop.client.get_order(shop.merchant_id, o).status for o in ("O-1", "O-3", "O-4")] == ["paid"] * 3


def test_a_payer_of_another_bank_is_checked_by_the_view_and_a_wallet_it_does_not_show_by_the_chain(
        bank_network: BankNetwork, shop: Shop) -> None:
    other = _other(bank_network, shop)
    payer = _payer(other, bank_network, 500)  # at the other bank: the acquirer's view shows every wallet
    key = WalletKey.create()  # no wallet at all: the view does not show it, and the chain refuses its payment
    nobody = Customer(other, "NOBODY", str(key.address), None, key)
    first, second, unknown = _lane(shop.bank).run([
        _pos(shop, sign_payment(payer, shop, "X-1", 400)),
        _pos(shop, sign_payment(payer, shop, "X-2", 400)),
        _pos(shop, sign_payment(nobody, shop, "X-3", 50))])
    assert isinstance(first, Answer) and first.status == 202
    assert isinstance(second, InsufficientBalanceError)  # 100 left once the first is taken
    assert isinstance(unknown, Answer) and unknown.status == 202  # admitted on its signature alone
    bank_network.wait_idle()
    assert [op.status.value for op in _payments(shop.bank, payer.wallet)] == ["completed"]
    (refused,) = _payments(shop.bank, nobody.wallet)
    assert refused.status.value == "failed" and refused.error  # with the contract's reason
    assert payer.app().get_balance(payer.wallet).spendable.amount == 100
    assert shop.client.get_order(shop.merchant_id, "X-1").status == "paid"


def test_an_order_with_a_payment_on_its_way_says_so_and_names_it(bank_network: BankNetwork, shop: Shop) -> None:
    payer = _payer(shop.bank, bank_network, 500)
    bank = shop.bank
    with transaction(session_factory(bank.engine)) as session:  # seen before it commits: no race with the writer
        op = service.pos_payment(session, bank.settings, bank.network, shop.merchant_id,
                                 payload=encode_payload(sign_payment(payer, shop, "P-1", 120)), amount_minor=120)
        status = service.order_status(session, bank.settings, bank.network, shop.merchant_id, "P-1")
        assert (status.status, status.operation, status.amount) == (
            "pending", op.public_id, Money(amount=120, currency=bank.settings.currency))
        session.rollback()


def test_a_payload_that_is_no_customer_payment_fails_alone(bank_network: BankNetwork, shop: Shop) -> None:
    payer = _payer(shop.bank, bank_network, 500)
    request = shop.client.create_payment_request(shop.merchant_id, "Q-1", 50)  # the merchant's QR, not a payment
    good = sign_payment(payer, shop, "Q-2", 70)
    outcomes = _lane(shop.bank).run([
        PosRequest(keyed=Keyed("test", "K-REQ", "h" * 64), api_key_id=1, merchant_id=shop.merchant_id,
                   payload=request.payload, amount_minor=None),
        PosRequest(keyed=Keyed("test", "K-BAD", "h" * 64), api_key_id=1, merchant_id=shop.merchant_id,
                   payload="WALLETNET:1:PAY:not-a-payload", amount_minor=70),
        _pos(shop, good)])
    not_a_payment, garbage, paid = outcomes
    assert isinstance(not_a_payment, AuthorizationInvalidError) and "not a signed merchant payment" in str(
        not_a_payment)
    assert isinstance(garbage, AuthorizationInvalidError)
    assert isinstance(paid, Answer) and paid.body["order"] == "Q-2"
