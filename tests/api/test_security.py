"""Security: what an attacker with some but not all of the keys tries, on the two-bank network. Each attempt is
refused with its typed error AND leaves no trace: balances and records on chain, operations, outbox rows and
ledger holds of both banks are as before (:func:`snapshot`)."""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from atm_support import new_atm, new_customer
from flow_network import BankNetwork
from merchant_support import Shop, onboard_shop, sign_payment, sign_request
from money_flows_support import (
    Customer,
    chain_now,
    completed,
    count_rows,
    fresh,
    fund_wallet,
    holds_on,
    open_customer,
    operations_of,
    outbox_rows_naming,
    refused,
    totp_code,
)

from node.operations.models import Operation
from wallet_sdk.authorizations import RelayedTransfer, SignedAuthorization, relay_nonce
from wallet_sdk.client import ApiRequest, Client
from wallet_sdk.client.transfers import transfer_fields
from wallet_sdk.exceptions import (
    AtmMessageReplayedError,
    AuthorizationInvalidError,
    ForbiddenError,
    NotFoundError,
    OrderAlreadyPaidError,
    SecondFactorInvalidError,
    WalletNotCustodiedHereError,
)
from wallet_sdk.payload import encode_payload
from wallet_sdk.reverts import NotCustodian, NotCustodianOperator, NotCustodianOrRegulator


def snapshot(net: BankNetwork, wallets: tuple[str, ...] = (), accounts: tuple[str, ...] = (),
             merchants: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """Everything a refused attempt must not have changed: per wallet its chain record, balances, and each
    bank's operations and outbox rows naming it; ledger holds of ``accounts`` (at bank A, else B); the chain
    record of each (merchant, order) and its merchant; both banks' net issuance."""
    state: dict[str, Any] = {f"issued:{bank.code}": net.a.network.net_issued(bank.bank_id) for bank in net.banks}
    for wallet in wallets:
        state[f"chain:{wallet}"] = (net.a.network.wallet(wallet), net.a.network.balance(wallet),
                                    net.a.network.held_balance(wallet))
        for bank in net.banks:
            state[f"{bank.code}:{wallet}"] = (operations_of(bank, wallet), outbox_rows_naming(bank, wallet))
    for account in accounts:
        state[f"holds:{account}"] = holds_on(net.a, account) + holds_on(net.b, account)
    for merchant_id, order_id in merchants:  # merchants of bank B
        state[f"merchant:{merchant_id}"] = net.a.network.merchant(net.b.bank_id, merchant_id)
        state[f"order:{merchant_id}:{order_id}"] = net.a.network.order(net.b.bank_id, merchant_id, order_id)
    return state


def signed_transfer(payer: Customer, payee: str, value: int) -> SignedAuthorization[RelayedTransfer]:
    """The payer's app signs a RelayedTransfer (a random nonce word: no two tests share a nonce)."""
    auth = RelayedTransfer(from_=payer.wallet, to=payee, value=value, valid_before=chain_now(payer.bank) + 600,
                           nonce=relay_nonce(secrets.randbits(64), 0))
    signed: SignedAuthorization[RelayedTransfer] = payer.sign(auth)
    return signed


@pytest.fixture(scope="module")
def customer_a(bank_network: BankNetwork) -> Customer:
    """A custodial customer of bank A with money in the wallet and left in the deposit account."""
    customer = open_customer(bank_network.a, deposit=20_000)
    fund_wallet(customer, 10_000)
    return customer


# ------------------------------------------------------------------ another bank's operator key


def test_another_banks_operator_key_cannot_act_for_a_wallet_on_chain(bank_network: BankNetwork,
                                                                      customer_a: Customer) -> None:
    net, wallet = bank_network, customer_a.wallet
    intruder = net.b.network.bank_operator(net.b.operator)  # bank B's real, active operator key
    before = snapshot(net, (wallet,))
    with pytest.raises(NotCustodianOrRegulator) as freeze:
        intruder.freeze(wallet, 3)
    assert (freeze.value.caller, freeze.value.wallet) == (net.b.operator.address, wallet)
    with pytest.raises(NotCustodian) as tier:
        intruder.set_tier(wallet, 4)
    assert tier.value.bankId == net.a.bank_id
    with pytest.raises(NotCustodian):
        intruder.close_wallet(wallet, fresh("CLOSE"))
    with pytest.raises(NotCustodianOperator) as mint:  # would count against B's quota, to A's customer
        intruder.mint(wallet, 1_000, fresh("MINT"))
    assert mint.value.caller == net.b.operator.address
    assert snapshot(net, (wallet,)) == before
    own = net.a.network.bank_operator(net.a.operator)  # the custodian's own key may (a read-only check)
    assert own.bank_id == net.a.network.wallet(wallet).bank_id


def test_another_banks_api_refuses_a_wallet_it_does_not_custody(bank_network: BankNetwork,
                                                                customer_a: Customer) -> None:
    net, wallet = bank_network, customer_a.wallet
    admin_b, teller_b = net.b.client("admin"), net.b.client("teller")
    before = snapshot(net, (wallet,), (customer_a.account or "",))
    for attempt in (lambda: admin_b.freeze_wallet(wallet, 3), lambda: admin_b.change_tier(wallet, 4),
                    lambda: teller_b.close_wallet(wallet), lambda: teller_b.top_up(wallet, 1_000)):
        error = refused("wallet-not-custodied-here", WalletNotCustodiedHereError, attempt)
        assert error.status == 409
    assert snapshot(net, (wallet,), (customer_a.account or "",)) == before


# ------------------------------------------------------------------ a merchant's key on another merchant


@dataclasses.dataclass(frozen=True)
class Shops:
    x: Shop
    y: Shop
    paid_order: str
    pos_operation: str  # Y's operation in bank B's database (a POS payment it relayed)
    payer: Customer


@pytest.fixture(scope="module")
def shops(bank_network: BankNetwork) -> Shops:
    """Two merchants of bank B; Y has a paid order, relayed at its POS, not yet settled."""
    x, y = onboard_shop(bank_network.b), onboard_shop(bank_network.b)
    payer = open_customer(bank_network.a, self_custody=True, deposit=5_000)
    fund_wallet(payer, 5_000)
    op = completed(y.client, y.client.submit_pos_payment(y.merchant_id, sign_payment(payer, y, "PAID-1", 2_000),
                                                         amount=2_000))
    return Shops(x, y, "PAID-1", op.id, payer)


def test_a_merchants_key_is_forbidden_on_every_endpoint_of_another_merchant(bank_network: BankNetwork,
                                                                          shops: Shops) -> None:
    net, x, y = bank_network, shops.x.client, shops.y
    m, paid = y.merchant_id, shops.paid_order
    webhooks_before = y.client.list_webhook_events(m).items
    before = snapshot(net, (y.wallet, shops.payer.wallet), (y.account,), ((m, paid), (m, "NEW-1"), (m, "POS-9")))
    attempts: dict[str, Callable[[], object]] = {
        "get merchant": lambda: x.get_merchant(m),
        "payment request": lambda: x.create_payment_request(m, "NEW-1", 500),
        "request status": lambda: x.get_payment_request(m, paid),
        "request png": lambda: x.get_payment_request_png(m, paid),
        "request svg": lambda: x.get_payment_request_svg(m, paid),
        "order status": lambda: x.get_order(m, paid),
        "refund": lambda: x.refund_order(m, paid, 2_000),
        "settle": lambda: x.settle_merchant(m),
        "settlements": lambda: x.list_settlements(m),
        "statement": lambda: x.get_settlement_statement(m, 1),
        "statement csv": lambda: x.get_settlement_statement_csv(m, 1),
        "daily report": lambda: x.get_daily_report(m, "2026-01-01", "2026-01-31"),
        "webhook log": lambda: x.list_webhook_events(m),
        "redeliver": lambda: x.redeliver_webhook_event(m, "evt_" + "0" * 32),
        "POS payment": lambda: x.submit_pos_payment(m, sign_payment(shops.payer, y, "POS-9", 100)),
    }
    for what, attempt in attempts.items():
        error = refused("forbidden", ForbiddenError, attempt)
        assert error.status == 403 and m in (error.detail or ""), what
    assert snapshot(net, (y.wallet, shops.payer.wallet), (y.account,),
                    ((m, paid), (m, "NEW-1"), (m, "POS-9"))) == before
    with pytest.raises(NotFoundError):  # no request was created for Y
        y.client.get_payment_request(m, "NEW-1")
    order = y.client.get_order(m, paid)
    assert (order.status, order.refunded.amount) == ("paid", 0)
    assert y.client.list_settlements(m) == []
    assert y.client.list_webhook_events(m).items == webhooks_before


def test_a_merchants_key_cannot_read_another_merchants_operation(shops: Shops) -> None:
    assert shops.y.client.get_operation(shops.pos_operation).status == "completed"  # its own: visible
    error = refused("not-found", NotFoundError, lambda: shops.x.client.get_operation(shops.pos_operation))
    assert error.status == 404


# ------------------------------------------------------------------ a replayed ATM message


def test_a_replayed_atm_message_is_refused_and_changes_nothing(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    admin = bank.client("admin")
    atm = new_atm(bank, admin, stock=100_000)
    customer = new_customer(bank)
    moment = float(int(time.time()))  # one timestamp for both sends: reading the clock twice may cross a second
    frozen = atm.signed_as(clock=lambda: moment, nonces=lambda: "replay-nonce-00000001")
    event = fresh("EV")
    first = frozen.report_cash_in(event, customer.wallet, {1_000: 3})
    assert atm.client.wait_for_status(first.id, ()).status == "completed"
    bank.wait_idle()

    def atm_state() -> tuple[object, ...]:
        cash = admin.get_atm_cash(atm.atm_id)
        return (cash.cash.amount, cash.reserved.amount,
                count_rows(bank, Operation, Operation.account == f"cash:atm:{atm.atm_id}"))

    before = (snapshot(bank_network, (customer.wallet,)), atm_state())
    error = refused("atm-message-replayed", AtmMessageReplayedError,
                    lambda: frozen.report_cash_in(event, customer.wallet, {1_000: 3}))
    assert error.status == 409
    bank.wait_idle()
    assert (snapshot(bank_network, (customer.wallet,)), atm_state()) == before
    assert bank.network.balance(customer.wallet) == 3_000


# ------------------------------------------------------------------ replayed or tampered authorizations


def _post_transfer(client: Client, payer: str, payee: str, amount: int, fields: dict[str, Any]) -> object:
    return client.send(ApiRequest("POST", "/v1/transfers", idempotent=True,
                                  json={"payer": payer, "payee": payee, "amount": amount, **fields}))


def test_a_replayed_relayed_transfer_is_refused_and_changes_nothing(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, self_custody=True, deposit=4_000)
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, 4_000)
    app = payer.app()
    signed = signed_transfer(payer, payee.wallet, 1_500)
    completed(app, app.transfer(payer.wallet, payee.wallet, 1_500, authorization=signed))
    bank_network.wait_idle()
    before = snapshot(bank_network, (payer.wallet, payee.wallet))
    for replay in (lambda: app.transfer(payer.wallet, payee.wallet, 1_500, authorization=signed),
                   lambda: app.transfer(payer.wallet, payee.wallet, 1_500, authorization=encode_payload(signed)),
                   lambda: payer.app().transfer(payer.wallet, payee.wallet, 1_500, authorization=signed)):
        error = refused("authorization-invalid", AuthorizationInvalidError, replay)
        assert error.status == 422 and "nonce" in (error.detail or "")
    bank_network.wait_idle()
    assert snapshot(bank_network, (payer.wallet, payee.wallet)) == before
    assert (a.network.balance(payer.wallet), b.network.balance(payee.wallet)) == (2_500, 1_500)


def _flip(value: bytes) -> bytes:
    return value[:-1] + bytes([value[-1] ^ 0x01])


def test_a_tampered_relayed_transfer_is_refused_and_changes_nothing(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, self_custody=True, deposit=3_000)
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, 3_000)
    app = payer.app()
    good = signed_transfer(payer, payee.wallet, 1_000)
    auth = good.authorization
    forgeries: dict[str, tuple[SignedAuthorization[Any], int]] = {
        "r": (dataclasses.replace(good, r=_flip(good.r)), 1_000),
        "s": (dataclasses.replace(good, s=_flip(good.s)), 1_000),
        "v": (dataclasses.replace(good, v=55 - good.v), 1_000),  # 27 <-> 28: another signer recovered
        "value": (dataclasses.replace(good, authorization=dataclasses.replace(auth, value=2_000)), 2_000),
        "valid_before": (dataclasses.replace(good, authorization=dataclasses.replace(
            auth, valid_before=auth.valid_before + 60)), 1_000),
        "nonce": (dataclasses.replace(good, authorization=dataclasses.replace(auth, nonce=auth.nonce + 1)), 1_000),
    }
    before = snapshot(bank_network, (payer.wallet, payee.wallet))
    for what, (forged, amount) in forgeries.items():
        error = refused("authorization-invalid", AuthorizationInvalidError,
                        lambda forged=forged, amount=amount: _post_transfer(  # type: ignore[misc]
                            app, payer.wallet, payee.wallet, amount, transfer_fields(forged)))
        assert error.status == 422, what
    bank_network.wait_idle()
    assert snapshot(bank_network, (payer.wallet, payee.wallet)) == before
    completed(app, app.transfer(payer.wallet, payee.wallet, 1_000, authorization=good))  # its nonce is unused
    assert a.network.balance(payer.wallet) == 2_000


def test_a_replayed_or_tampered_merchant_payment_is_refused_and_changes_nothing(bank_network: BankNetwork,
                                                                                shops: Shops) -> None:
    a, y = bank_network.a, shops.y
    customer = open_customer(a, self_custody=True, deposit=6_000)
    fund_wallet(customer, 6_000)
    app = customer.app()
    request = y.client.create_payment_request(y.merchant_id, "REPLAY-1", 1_200)
    signed = sign_request(customer, request.payload)
    completed(app, app.pay_merchant(customer.wallet, encode_payload(signed)))
    pos = sign_payment(customer, y, "REPLAY-2", 800)
    completed(y.client, y.client.submit_pos_payment(y.merchant_id, pos, amount=800))
    bank_network.wait_idle()
    orders = ((y.merchant_id, "REPLAY-1"), (y.merchant_id, "REPLAY-2"), (y.merchant_id, "REPLAY-3"))
    before = snapshot(bank_network, (customer.wallet, y.wallet), (), orders)
    for replay in (lambda: app.pay_merchant(customer.wallet, encode_payload(signed)),
                   lambda: y.client.submit_pos_payment(y.merchant_id, pos),
                   lambda: y.client.submit_pos_payment(y.merchant_id, signed)):
        assert refused("order-already-paid", OrderAlreadyPaidError, replay).status == 409

    fresh_payment = sign_payment(customer, y, "REPLAY-3", 700)
    payment = fresh_payment.authorization
    for forged in (dataclasses.replace(fresh_payment, s=_flip(fresh_payment.s)),
                   dataclasses.replace(fresh_payment, authorization=dataclasses.replace(payment, amount=70)),
                   dataclasses.replace(fresh_payment, authorization=dataclasses.replace(
                       payment, valid_before=payment.valid_before + 60))):
        for attempt in (lambda forged=forged: y.client.submit_pos_payment(y.merchant_id, forged),
                        lambda forged=forged: app.pay_merchant(customer.wallet, encode_payload(forged))):
            assert refused("authorization-invalid", AuthorizationInvalidError, attempt).status == 422
    bank_network.wait_idle()
    assert snapshot(bank_network, (customer.wallet, y.wallet), (), orders) == before
    assert a.network.balance(customer.wallet) == 6_000 - 1_200 - 800


# ------------------------------------------------------------------ an expired TOTP code


def _expired_code(secret: str) -> str:
    """A code of a step three steps back (the node accepts one step either side), unlike any code it accepts."""
    totp, now = pyotp.TOTP(secret), time.time()
    accepted = {totp.at(now + 30 * k) for k in range(-2, 3)}
    for back in range(3, 20):
        code = totp.at(now - 30 * back)
        if code not in accepted:
            return code
    raise AssertionError("no past code differs from the current ones")


def test_an_expired_totp_code_is_refused_and_changes_nothing(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    threshold = a.settings.second_factor_threshold
    customer = open_customer(a, deposit=threshold * 4)
    payee = open_customer(b, deposit=None)
    fund_wallet(customer, threshold)
    fund_wallet(customer, threshold)  # 2 x threshold in the wallet, as much left in the account
    app = customer.app()
    secret = app.enrol_totp(customer.wallet).secret
    big = threshold + 1
    assert customer.account is not None
    before = snapshot(bank_network, (customer.wallet, payee.wallet), (customer.account,))
    account_before = a.client("admin").get_account(customer.account).balance.amount
    expired = _expired_code(secret)
    for attempt in (lambda: app.transfer(customer.wallet, payee.wallet, big, totp=expired),
                    lambda: app.top_up(customer.wallet, big, totp=expired)):
        error = refused("second-factor-invalid", SecondFactorInvalidError, attempt)
        assert error.status == 403
    assert snapshot(bank_network, (customer.wallet, payee.wallet), (customer.account,)) == before
    assert a.client("admin").get_account(customer.account).balance.amount == account_before

    code = totp_code(secret)  # the refusals did not use the factor up: a current code is accepted, once
    completed(app, app.transfer(customer.wallet, payee.wallet, big, totp=code))
    used = snapshot(bank_network, (customer.wallet,), (customer.account,))
    refused("second-factor-invalid", SecondFactorInvalidError,  # the same code again: a replay
            lambda: app.top_up(customer.wallet, big, totp=code))
    assert snapshot(bank_network, (customer.wallet,), (customer.account,)) == used
    assert b.network.balance(payee.wallet) == big
