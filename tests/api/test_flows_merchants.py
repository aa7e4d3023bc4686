"""Merchant flows through HTTP with the SDK client on the two-bank network: onboarding, payment requests paid
by QR (merchant-presented, and customer-presented at the POS), one payment per order, expiry, refunds capped by
what is refundable, settlement with its statement and ledger postings, the daily report, and webhooks."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from flow_network import BankNetwork
from merchant_support import (
    onboard_shop,
    sign_payment,
    sign_request,
    webhook_receiver,
)
from money_flows_support import completed, fund_wallet, open_customer
from sqlalchemy import select

from node.db import session_factory, transaction
from node.ledger import SqlLedger
from node.ledger.accounts import FEE_INCOME
from node.ledger.models import JournalEntry
from node.merchants.service import FEE_WALLET_ACCOUNT, settle_due
from wallet_sdk.chain.types import MerchantStatus, PayoutMode, WalletKind
from wallet_sdk.exceptions import (
    ConflictError,
    ForbiddenError,
    InsufficientBalanceError,
    NotFoundError,
    OrderAlreadyPaidError,
    PaymentRequestExpiredError,
    RefundExceedsRefundableError,
)
from wallet_sdk.payload import encode_payload


def ledger_balance(bank, code: str) -> int:  # type: ignore[no-untyped-def]
    with transaction(session_factory(bank.engine, read_only=True)) as session:
        return SqlLedger(session).balance(code).amount_minor


def test_onboarding_registers_the_merchant_and_its_key_sees_only_that_merchant(bank_network: BankNetwork) -> None:
    b = bank_network.b
    shop = onboard_shop(b, fee_bps=120)
    merchant = shop.client.get_merchant(shop.merchant_id)
    assert (merchant.state, merchant.fee_bps, merchant.mcc, merchant.payout_mode) == ("active", 120, 5411, "wallet")
    on_chain = b.network.merchant(b.bank_id, shop.merchant_id)
    assert on_chain.status is MerchantStatus.ACTIVE and on_chain.acquirer == b.bank_id
    assert (on_chain.wallet, on_chain.fee_bps, on_chain.mcc) == (shop.wallet, 120, 5411)
    assert b.network.wallet(shop.wallet).kind is WalletKind.MERCHANT
    fee_wallet = b.network.fee_wallet(b.bank_id)
    assert fee_wallet is not None and b.network.wallet(fee_wallet).bank_code == "BANKB"
    assert shop.onboarding.webhook_secret is None  # no webhook URL, no secret

    other = onboard_shop(b)
    with pytest.raises(ForbiddenError):
        shop.client.get_merchant(other.merchant_id)
    with pytest.raises(ForbiddenError):
        shop.client.create_payment_request(other.merchant_id, "ORDER-1", 100)
    with pytest.raises(ForbiddenError):
        shop.client.list_merchants()
    listed = {m.merchant_id for m in b.client("admin").list_merchants(limit=200).items}
    assert {shop.merchant_id, other.merchant_id} <= listed

    admin = b.client("admin")
    again = admin.onboard_merchant(shop.merchant_id, legal_name=f"{shop.merchant_id} Ltd", mcc=5411, fee_bps=120,
                                   settlement_account=shop.account)
    assert again.operation.id == shop.onboarding.operation.id and again.api_key is None
    with pytest.raises(ConflictError):
        admin.onboard_merchant(shop.merchant_id, legal_name="Someone Else", mcc=5411, fee_bps=120,
                               settlement_account=shop.account)
    # merchant ids are per acquirer: bank A may onboard its own merchant of this id (tests/api/
    # test_security_merchant_requests.py shows each bank's payments reach its own)


def test_a_customer_at_bank_a_pays_a_request_of_a_merchant_acquired_by_bank_b(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    shop = onboard_shop(b)
    customer = open_customer(a, deposit=10_000)  # custodial: the bank signs for it
    fund_wallet(customer, 10_000)
    request = shop.client.create_payment_request(shop.merchant_id, "ORDER-1", 2_500, description="2 coffees")
    assert request.payload.startswith("WALLETNET:1:REQUEST:") and request.created
    assert shop.client.get_payment_request_png(shop.merchant_id, "ORDER-1").startswith(b"\x89PNG")
    assert "<svg" in shop.client.get_payment_request_svg(shop.merchant_id, "ORDER-1")
    assert shop.client.get_order(shop.merchant_id, "ORDER-1").status == "requested"
    same = shop.client.create_payment_request(shop.merchant_id, "ORDER-1", 2_500, description="2 coffees")
    assert (same.payload, same.created) == (request.payload, False)
    with pytest.raises(ConflictError):
        shop.client.create_payment_request(shop.merchant_id, "ORDER-1", 9_999)

    app_a = customer.app()
    op = app_a.pay_merchant(customer.wallet, request.payload)
    assert (op.kind, op.status, op.details["signed_by"], op.details["order_id"]) == (
        "merchant_payment", "pending", "bank", "ORDER-1")
    with pytest.raises(OrderAlreadyPaidError):  # on its way: refused before the chain sees it
        app_a.pay_merchant(customer.wallet, request.payload)
    completed(app_a, op)
    order = shop.client.get_order(shop.merchant_id, "ORDER-1")
    assert (order.status, order.paid.amount, order.payer) == ("paid", 2_500, customer.wallet)
    assert app_a.get_balance(customer.wallet).spendable.amount == 7_500
    assert b.network.merchant(b.bank_id, shop.merchant_id).pending == 2_500
    with pytest.raises(OrderAlreadyPaidError):
        app_a.pay_merchant(customer.wallet, request.payload)


def test_a_payment_on_its_way_counts_against_the_balance(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    shop = onboard_shop(b)
    customer = open_customer(a, deposit=1_000)
    fund_wallet(customer, 1_000)
    first = shop.client.create_payment_request(shop.merchant_id, "TWICE-1", 700)
    second = shop.client.create_payment_request(shop.merchant_id, "TWICE-2", 700)
    app = customer.app()
    op = app.pay_merchant(customer.wallet, first.payload)
    with pytest.raises(InsufficientBalanceError):  # 700 of the 1,000 are on their way to the merchant
        app.pay_merchant(customer.wallet, second.payload)
    completed(app, op)
    assert shop.client.get_order(shop.merchant_id, "TWICE-2").status == "requested"


def test_a_self_custody_customer_signs_the_scanned_request(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    shop = onboard_shop(b)
    customer = open_customer(a, self_custody=True, deposit=5_000)
    fund_wallet(customer, 5_000)
    request = shop.client.create_payment_request(shop.merchant_id, "ORDER-2", 1_200)
    signed = sign_request(customer, request.payload)
    app_a = customer.app()
    with pytest.raises(Exception) as refused:  # a self-custody wallet signs itself: the request alone is refused
        app_a.pay_merchant(customer.wallet, request.payload)
    assert "authorization-invalid" in str(refused.value.problem.get("type"))  # type: ignore[attr-defined]
    op = completed(app_a, app_a.pay_merchant(customer.wallet, encode_payload(signed)))
    assert op.details["signed_by"] == "customer"
    assert shop.client.get_order(shop.merchant_id, "ORDER-2").status == "paid"


def test_customer_presented_qr_is_relayed_by_the_acquirer_once(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    shop = onboard_shop(b)
    customer = open_customer(a, self_custody=True, deposit=3_000)
    fund_wallet(customer, 3_000)
    payment = sign_payment(customer, shop, "POS-1", 1_999)
    op = shop.client.submit_pos_payment(shop.merchant_id, payment, amount=1_999)  # the amount the POS charges
    assert (op.kind, op.channel, op.wallet, op.counterparty) == ("merchant_payment", "merchant", customer.wallet,
                                                                 shop.wallet)
    completed(shop.client, op)
    assert shop.client.get_order(shop.merchant_id, "POS-1").paid.amount == 1_999
    assert customer.app().get_balance(customer.wallet).spendable.amount == 1_001
    with pytest.raises(OrderAlreadyPaidError):  # the same payment scanned twice
        shop.client.submit_pos_payment(shop.merchant_id, payment)
    with pytest.raises(OrderAlreadyPaidError):  # another signature for the same order
        shop.client.submit_pos_payment(shop.merchant_id, sign_payment(customer, shop, "POS-1", 5))
    other = onboard_shop(b)
    with pytest.raises(ForbiddenError):  # a merchant relays for itself only
        shop.client.submit_pos_payment(other.merchant_id, sign_payment(customer, other, "POS-2", 5))
    with pytest.raises(Exception) as wrong:  # signed for another merchant than the path's
        shop.client.submit_pos_payment(shop.merchant_id, sign_payment(customer, other, "POS-3", 5))
    assert "authorization-invalid" in str(wrong.value.problem.get("type"))  # type: ignore[attr-defined]


def test_an_expired_request_cannot_be_paid(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    shop = onboard_shop(b)
    custodial = open_customer(a, deposit=2_000)
    fund_wallet(custodial, 2_000)
    self_custody = open_customer(a, self_custody=True, deposit=2_000)
    fund_wallet(self_custody, 2_000)
    request = shop.client.create_payment_request(shop.merchant_id, "LATE-1", 700, expires_in=30)
    signed = sign_request(self_custody, request.payload)  # signed in time, presented too late
    bank_network.increase_time(31)
    bank_network.wait_idle()  # the banks have seen the chain's clock move (the node checks deadlines by it)
    app_a = custodial.app()
    with pytest.raises(PaymentRequestExpiredError):
        app_a.pay_merchant(custodial.wallet, request.payload)
    with pytest.raises(PaymentRequestExpiredError):
        self_custody.app().pay_merchant(self_custody.wallet, encode_payload(signed))
    with pytest.raises(PaymentRequestExpiredError):
        shop.client.submit_pos_payment(shop.merchant_id, signed)
    assert shop.client.get_order(shop.merchant_id, "LATE-1").status == "expired"
    assert app_a.get_balance(custodial.wallet).spendable.amount == 2_000
    assert b.network.order(b.bank_id, shop.merchant_id, "LATE-1").paid_at == 0


def test_refunds_partial_and_full_are_capped_by_what_is_refundable(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    shop = onboard_shop(b)
    customer = open_customer(a, deposit=4_000)
    fund_wallet(customer, 4_000)
    request = shop.client.create_payment_request(shop.merchant_id, "R-1", 3_000)
    app_a = customer.app()
    completed(app_a, app_a.pay_merchant(customer.wallet, request.payload))
    first = shop.client.refund_order(shop.merchant_id, "R-1", 1_000)
    assert (first.kind, first.wallet, first.amount.amount if first.amount else None) == (
        "merchant_refund", customer.wallet, 1_000)
    with pytest.raises(RefundExceedsRefundableError):  # 2,000 left, the first refund counted while in flight
        shop.client.refund_order(shop.merchant_id, "R-1", 2_001)
    completed(shop.client, first)
    order = shop.client.get_order(shop.merchant_id, "R-1")
    assert (order.status, order.refunded.amount) == ("partially_refunded", 1_000)
    completed(shop.client, shop.client.refund_order(shop.merchant_id, "R-1", 2_000))
    with pytest.raises(RefundExceedsRefundableError):
        shop.client.refund_order(shop.merchant_id, "R-1", 1)
    assert shop.client.get_order(shop.merchant_id, "R-1").status == "refunded"
    assert app_a.get_balance(customer.wallet).spendable.amount == 4_000
    with pytest.raises(NotFoundError):
        shop.client.refund_order(shop.merchant_id, "NEVER-PAID", 1)


def _pay(bank_network: BankNetwork, shop, order_id: str, amount: int) -> None:  # type: ignore[no-untyped-def]
    customer = open_customer(bank_network.a, deposit=amount)
    fund_wallet(customer, amount)
    request = shop.client.create_payment_request(shop.merchant_id, order_id, amount)
    app = customer.app()
    completed(app, app.pay_merchant(customer.wallet, request.payload))


def test_settlement_to_the_wallet_with_a_statement_that_adds_up(bank_network: BankNetwork) -> None:
    b = bank_network.b
    shop = onboard_shop(b, fee_bps=250)
    fees_before = ledger_balance(b, FEE_INCOME)
    _pay(bank_network, shop, "S-1", 10_001)
    _pay(bank_network, shop, "S-2", 4_000)
    completed(shop.client, shop.client.refund_order(shop.merchant_id, "S-2", 1_500))
    op = completed(shop.client, shop.client.settle_merchant(shop.merchant_id))
    gross, refunds = 14_001, 1_500
    fee = gross * 250 // 10_000  # 350, floor of 350.025
    net = gross - refunds - fee
    assert (op.kind, op.details["batch_id"], op.details["gross"], op.details["refunds"], op.details["fee"],
            op.details["net"]) == ("settlement", 1, gross, refunds, fee, net)
    assert b.network.balance(shop.wallet) == net
    assert ledger_balance(b, FEE_INCOME) - fees_before == fee
    assert ledger_balance(b, FEE_WALLET_ACCOUNT) >= fee
    b.wait_idle()

    statement = shop.client.get_settlement_statement(shop.merchant_id, 1)
    assert (statement.gross_minor, statement.refunds_minor, statement.fee_minor, statement.net_minor) == (
        gross, refunds, fee, net)
    lines = [(line.type, line.order_id, line.amount_minor) for line in statement.lines]
    assert lines == [("payment", "S-1", 10_001), ("payment", "S-2", 4_000), ("refund", "S-2", 1_500),
                     ("fee", None, fee), ("net", None, net)]
    assert sum(line.signed_amount_minor for line in statement.lines if line.type != "net") == net
    rows = list(csv.DictReader(io.StringIO(shop.client.get_settlement_statement_csv(shop.merchant_id, 1))))
    assert sum(int(r["signed_amount_minor"]) for r in rows if r["type"] != "total") == net
    assert next(r for r in rows if r["type"] == "total")["amount_minor"] == str(net)
    assert [s.batch_id for s in shop.client.list_settlements(shop.merchant_id)] == [1]

    today = datetime.now(UTC).date()
    report = shop.client.get_daily_report(shop.merchant_id, (today - timedelta(days=1)).isoformat(),
                                          (today + timedelta(days=1)).isoformat())
    assert sum(d.payments_count for d in report.days) == 2
    assert sum(d.payments_minor for d in report.days) == gross
    assert (sum(d.refunds_count for d in report.days), sum(d.refunds_minor for d in report.days)) == (1, refunds)
    assert sum(d.fees_minor for d in report.days) == fee
    with pytest.raises(RefundExceedsRefundableError):  # settled money is not refunded from the chain
        shop.client.refund_order(shop.merchant_id, "S-1", 1)


def test_settlement_to_the_bank_account_is_booked_in_the_ledger(bank_network: BankNetwork) -> None:
    b = bank_network.b
    shop = onboard_shop(b, fee_bps=100, payout_mode="bank_account")
    assert b.network.merchant(b.bank_id, shop.merchant_id).payout_mode is PayoutMode.BANK_ACCOUNT
    _pay(bank_network, shop, "B-1", 20_000)
    issued_before = b.network.net_issued(b.bank_id)
    op = completed(shop.client, shop.client.settle_merchant(shop.merchant_id))
    fee, net = 200, 19_800
    assert (op.details["fee"], op.details["net"], op.ref) == (fee, net, op.ref)
    assert b.client("admin").get_account(shop.account).balance.amount == net
    assert issued_before - b.network.net_issued(b.bank_id) == net  # burned for the payout
    assert b.network.balance(shop.wallet) == 0
    with transaction(session_factory(b.engine, read_only=True)) as session:
        refs = session.scalars(select(JournalEntry.reference).where(JournalEntry.correlation_id == op.ref)).all()
    assert sorted(refs) == [f"{op.ref}:fee", f"{op.ref}:payout"]
    b.wait_idle()
    assert b.reconcile().ok


def test_the_daily_settlement_runs_after_the_cut_off(bank_network: BankNetwork) -> None:
    b = bank_network.b
    shop = onboard_shop(b, fee_bps=0)
    _pay(bank_network, shop, "D-1", 900)
    b.wait_idle()
    settings = b.settings.model_copy(update={"settlement_cutoff": "00:00"})
    sessions = session_factory(b.engine)
    started = settle_due(sessions, settings, now=datetime.now(UTC) + timedelta(days=1))
    assert started >= 1
    b.wait_idle()
    assert b.network.merchant(b.bank_id, shop.merchant_id).last_batch_id == 1
    assert b.network.balance(shop.wallet) == 900
    assert settle_due(sessions, settings, now=datetime.now(UTC) + timedelta(days=1)) == 0  # once per cut-off


def test_webhooks_are_signed_retried_and_logged(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    with webhook_receiver(fail_first=2) as receiver:
        shop = onboard_shop(b, webhook_url=receiver.url)
        assert shop.webhook_secret is not None
        receiver.secret = shop.webhook_secret
        customer = open_customer(a, deposit=1_000)
        fund_wallet(customer, 1_000)
        request = shop.client.create_payment_request(shop.merchant_id, "W-1", 1_000)
        app = customer.app()
        completed(app, app.pay_merchant(customer.wallet, request.payload))
        completed(shop.client, shop.client.refund_order(shop.merchant_id, "W-1", 400))
        completed(shop.client, shop.client.settle_merchant(shop.merchant_id))
        b.wait_idle()
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        while len(receiver.received) < 3 and datetime.now(UTC) < deadline:
            time.sleep(0.1)
        assert receiver.failed == 2 and receiver.refused == 0
        paid = receiver.of_type("payment.paid")
        assert len(paid) == 1 and paid[0].body["data"]["order_id"] == "W-1"
        assert paid[0].body["data"]["amount_minor"] == 1_000
        assert receiver.of_type("payment.refunded")[0].body["data"]["amount_minor"] == 400
        settled = receiver.of_type("settlement.completed")[0].body["data"]
        assert (settled["gross_minor"], settled["refunds_minor"], settled["fee_minor"], settled["net_minor"]) == (
            1_000, 400, 15, 585)  # fee: floor(1,000 * 150 / 10,000)
        events = shop.client.list_webhook_events(shop.merchant_id).items
        first = next(e for e in events if e.type == "payment.paid")
        assert first.state == "delivered" and first.attempts >= 1
        assert [x.status_code for x in first.log][-1] == 200
        redelivered = shop.client.redeliver_webhook_event(shop.merchant_id, first.id)
        assert redelivered.state == "pending"
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        while len(receiver.of_type("payment.paid")) < 2 and datetime.now(UTC) < deadline:
            time.sleep(0.1)
        assert len(receiver.of_type("payment.paid")) == 2
        log = next(e for e in shop.client.list_webhook_events(shop.merchant_id).items if e.id == first.id).log
        assert log[-1].manual and log[-1].status_code == 200


def test_an_unknown_merchant_is_not_found(bank_network: BankNetwork) -> None:
    admin = bank_network.b.client("admin")
    with pytest.raises(NotFoundError):
        admin.create_payment_request("NO-SUCH-SHOP", "O-1", 100)
    with pytest.raises(NotFoundError):
        admin.get_order("NO-SUCH-SHOP", "O-1")
    with pytest.raises(NotFoundError):
        admin.settle_merchant("NO-SUCH-SHOP")
