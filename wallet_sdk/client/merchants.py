"""Merchants: onboarding (the acquiring bank's admin), payment requests and their QR codes, payments in both
QR modes, refunds, settlement, statements, the daily report and the webhook delivery log.

::

    # the acquiring bank's admin
    onboarding = admin.onboard_merchant("SHOP-1", legal_name="Shop One Ltd", mcc=5411, fee_bps=150,
                                        settlement_account="MERCH-0001", webhook_url="https://shop.example/hooks")
    shop = Client(url, onboarding.api_key)          # a merchant key: sees SHOP-1 only

    # the merchant shows a QR code; the customer's app pays it through the customer's bank
    request = shop.create_payment_request("SHOP-1", "ORDER-42", 1_250, description="2 coffees")
    png = shop.get_payment_request_png("SHOP-1", "ORDER-42")
    op = customer_bank.pay_merchant(wallet, signed_payment_or_request_payload)
    status = shop.get_order("SHOP-1", "ORDER-42")   # requested, pending, paid, refunded ...

    shop.refund_order("SHOP-1", "ORDER-42", 250)
    shop.settle_merchant("SHOP-1")
    statement = shop.get_settlement_statement("SHOP-1", 1)   # every order, refund, the fee and the net
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from wallet_sdk.amount import Amount
from wallet_sdk.authorizations import MerchantPayment, SignedAuthorization
from wallet_sdk.client._core import ApiRequest, Endpoint, model
from wallet_sdk.client.common import ClientArgumentError, matching, page_of
from wallet_sdk.client.funding import amount_fields
from wallet_sdk.client.models import Money, Operation, Page
from wallet_sdk.payload import encode_payload

__all__ = [
    "AsyncMerchantsEndpoints",
    "Batch",
    "DailyReport",
    "Merchant",
    "MerchantOnboarding",
    "MerchantsEndpoints",
    "OrderStatus",
    "PaymentRequestInfo",
    "ReportDay",
    "Statement",
    "StatementLine",
    "WebhookAttempt",
    "WebhookEvent",
]

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", re.ASCII)
_WEBHOOK_EVENT = re.compile(r"evt_[0-9a-f]{32}")


def _id(value: str, what: str) -> str:
    return matching(_ID, value, f"a {what} is 1-32 letters, digits and ._-, not {{value}}")


def _merchant(merchant_id: str, suffix: str = "") -> str:
    return f"/v1/merchants/{_id(merchant_id, 'merchant id')}{suffix}"


@dataclass(frozen=True)
class Merchant:
    merchant_id: str
    legal_name: str
    mcc: int
    fee_bps: int
    payout_mode: str  # wallet or bank_account
    settlement_account: str
    wallet: str
    state: str  # pending, active, suspended, failed
    created_at: str
    webhook_url: str | None = None
    operation: str | None = None


@dataclass(frozen=True)
class MerchantOnboarding:
    merchant: Merchant
    operation: Operation
    api_key: str | None = None  # the merchant's own key, shown once
    webhook_secret: str | None = None  # shown once


@dataclass(frozen=True)
class PaymentRequestInfo:
    merchant_id: str
    order_id: str
    amount: Money
    description: str
    expires_at: int  # chain time
    payload: str  # the QR text: WALLETNET:1:REQUEST:...
    qr_png: str
    qr_svg: str
    created: bool


@dataclass(frozen=True)
class OrderStatus:
    merchant_id: str
    order_id: str
    status: str  # requested, expired, pending, paid, partially_refunded, refunded; underpaid, overpaid, unrequested
    paid: Money
    refunded: Money
    amount: Money | None = None
    payer: str | None = None
    paid_at: int | None = None
    expires_at: int | None = None
    operation: str | None = None


@dataclass(frozen=True)
class Batch:
    """A settlement batch as the API serves it (its ``BatchOut`` is this class, validated): minor units of
    ``currency``, refunds + fee + net == gross; ``settled_at`` ISO 8601 UTC; ``fee_bps`` the merchant's rate if
    it reproduces the batch's fee, else None."""

    merchant_id: str
    batch_id: int
    currency: str
    payout_mode: str
    ref: str | None
    tx_hash: str
    block_number: int
    settled_at: str
    gross_minor: int
    refunds_minor: int
    fee_minor: int
    net_minor: int
    payments_count: int
    refunds_count: int
    fee_bps: int | None


@dataclass(frozen=True)
class StatementLine:
    """One line of a settlement statement, as the API serves it (the node builds its statements of this class,
    the API's ``StatementLineOut`` is it validated): ``amount_minor`` >= 0 as the chain says it;
    ``signed_amount_minor`` its effect on the payout (payments +, refunds and the fee -; the net line carries
    the net itself); ``time`` ISO 8601 UTC."""

    type: str  # payment, refund, fee, net
    order_id: str | None
    ref: str | None
    payer: str | None
    time: str
    tx_hash: str
    amount_minor: int
    signed_amount_minor: int


@dataclass(frozen=True)
class Statement(Batch):
    lines: list[StatementLine] = field(default_factory=list)


@dataclass(frozen=True)
class ReportDay:
    day: str
    payments_count: int
    payments_minor: int
    refunds_count: int
    refunds_minor: int
    batches_count: int
    fees_minor: int
    net_settled_minor: int


@dataclass(frozen=True)
class DailyReport:
    merchant_id: str
    currency: str
    start: str
    end: str
    days: list[ReportDay]


@dataclass(frozen=True)
class WebhookAttempt:
    attempted_at: str
    url: str
    duration_ms: int
    manual: bool
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    state: str  # pending, delivered, failed
    attempts: int
    created_at: str
    payload: dict[str, Any]
    next_attempt_at: str | None = None
    delivered_at: str | None = None
    log: list[WebhookAttempt] = field(default_factory=list)


def onboard_merchant(merchant_id: str, *, legal_name: str, mcc: int, fee_bps: int, settlement_account: str,
                     payout_mode: Literal["wallet", "bank_account"] = "wallet", webhook_url: str | None = None,
                     webhook_secret: str | None = None,
                     idempotency_key: str | None = None) -> ApiRequest[MerchantOnboarding]:
    """Onboard a merchant this bank acquires (admin scope); the answer holds the merchant's API key and webhook
    secret, shown once."""
    body = {"merchant_id": _id(merchant_id, "merchant id"), "legal_name": legal_name, "mcc": mcc,
            "fee_bps": fee_bps, "settlement_account": settlement_account, "payout_mode": payout_mode,
            "webhook_url": webhook_url, "webhook_secret": webhook_secret}
    return ApiRequest("POST", "/v1/merchants", model(MerchantOnboarding), json=body, idempotent=True,
                      idempotency_key=idempotency_key)


def list_merchants(*, limit: int | None = None, cursor: str | None = None) -> ApiRequest[Page[Merchant]]:
    return ApiRequest("GET", "/v1/merchants", page_of(Merchant), params={"limit": limit, "cursor": cursor})


def get_merchant(merchant_id: str) -> ApiRequest[Merchant]:
    return ApiRequest("GET", _merchant(merchant_id), model(Merchant))


def create_payment_request(merchant_id: str, order_id: str, amount: int | Amount, *, expires_in: int = 900,
                           description: str = "") -> ApiRequest[PaymentRequestInfo]:
    """A payment request for an order: its QR text (``payload``) and the paths of its QR images."""
    body = {"order_id": _id(order_id, "order id"), **amount_fields(amount), "expires_in": expires_in,
            "description": description}
    return ApiRequest("POST", _merchant(merchant_id, "/payment-requests"), model(PaymentRequestInfo), json=body)


def get_payment_request(merchant_id: str, order_id: str) -> ApiRequest[PaymentRequestInfo]:
    return ApiRequest("GET", _merchant(merchant_id, f"/payment-requests/{_id(order_id, 'order id')}"),
                      model(PaymentRequestInfo))


def get_payment_request_png(merchant_id: str, order_id: str) -> ApiRequest[bytes]:
    """The request's QR code as PNG bytes."""
    return ApiRequest("GET", _merchant(merchant_id, f"/payment-requests/{_id(order_id, 'order id')}/qr.png"),
                      bytes, accept="image/png")


def get_payment_request_svg(merchant_id: str, order_id: str) -> ApiRequest[str]:
    """The request's QR code as SVG text."""
    return ApiRequest("GET", _merchant(merchant_id, f"/payment-requests/{_id(order_id, 'order id')}/qr.svg"),
                      lambda raw: bytes(raw).decode(), accept="image/svg+xml")


def get_order(merchant_id: str, order_id: str) -> ApiRequest[OrderStatus]:
    """The order's status: requested, expired, pending, paid, partially_refunded or refunded; underpaid, overpaid
    or unrequested when the chain holds a payment of another amount (never paid: void it)."""
    return ApiRequest("GET", _merchant(merchant_id, f"/orders/{_id(order_id, 'order id')}"), model(OrderStatus))


def _payload(payment: SignedAuthorization[MerchantPayment] | str) -> str:
    if isinstance(payment, str):
        return payment
    if not isinstance(payment.authorization, MerchantPayment):
        raise ClientArgumentError(f"expected a signed MerchantPayment, not {type(payment.authorization).__name__}")
    return encode_payload(payment)


def pay_merchant(payer: str, payment: SignedAuthorization[MerchantPayment] | str, *, totp: str | None = None,
                 idempotency_key: str | None = None) -> ApiRequest[Operation]:
    """The payer's bank relays a merchant payment: ``payment`` is the payer's signed MerchantPayment (or its QR
    text), or for a custodial payer the merchant's request text, which the bank signs."""
    return ApiRequest("POST", "/v1/merchant-payments", model(Operation),
                      json={"payer": payer, "payload": _payload(payment)}, idempotent=True,
                      idempotency_key=idempotency_key, totp=totp)


def submit_pos_payment(merchant_id: str, payment: SignedAuthorization[MerchantPayment] | str, *,
                       amount: int | Amount | None = None,
                       idempotency_key: str | None = None) -> ApiRequest[Operation]:
    """Customer-presented QR: the merchant relays, through its acquiring bank, the payment the customer's app
    signed and showed (merchant scope). The payment must be of the order's requested amount; for an order not
    requested yet, name ``amount`` (what the POS charges) and the bank issues the request."""
    body: dict[str, Any] = {"payload": _payload(payment)}
    if amount is not None:
        body["amount"] = amount_fields(amount)["amount"]
    return ApiRequest("POST", _merchant(merchant_id, "/pos-payments"), model(Operation), json=body,
                      idempotent=True, idempotency_key=idempotency_key)


def refund_order(merchant_id: str, order_id: str, amount: int | Amount, *,
                 idempotency_key: str | None = None) -> ApiRequest[Operation]:
    """Refund part or all of a paid order to its payer (at most what is left to refund)."""
    return ApiRequest("POST", _merchant(merchant_id, f"/orders/{_id(order_id, 'order id')}/refunds"),
                      model(Operation), json={"amount": amount_fields(amount)["amount"]}, idempotent=True,
                      idempotency_key=idempotency_key)


def void_order(merchant_id: str, order_id: str, *, idempotency_key: str | None = None) -> ApiRequest[Operation]:
    """Undo a payment the merchant should not have taken: refund everything the order has left to its payer."""
    return ApiRequest("POST", _merchant(merchant_id, f"/orders/{_id(order_id, 'order id')}/void"), model(Operation),
                      idempotent=True, idempotency_key=idempotency_key)


def settle_merchant(merchant_id: str, *, idempotency_key: str | None = None) -> ApiRequest[Operation]:
    """Settle everything pending now; once the operation completes, ``details["batch_id"]`` names the batch."""
    return ApiRequest("POST", _merchant(merchant_id, "/settlements"), model(Operation), idempotent=True,
                      idempotency_key=idempotency_key)


def list_settlements(merchant_id: str, *, limit: int | None = None,
                     before: int | None = None) -> ApiRequest[list[Batch]]:
    """The merchant's settlement batches, newest first."""
    parse = model(Batch)
    return ApiRequest("GET", _merchant(merchant_id, "/settlements"), lambda data: [parse(b) for b in data],
                      params={"limit": limit, "before": before})


def get_settlement_statement(merchant_id: str, batch_id: int) -> ApiRequest[Statement]:
    """A batch's statement: every order and refund it settled, the fee and the net (adding up to the cent)."""
    return ApiRequest("GET", _merchant(merchant_id, f"/settlements/{int(batch_id)}"), model(Statement))


def get_settlement_statement_csv(merchant_id: str, batch_id: int) -> ApiRequest[str]:
    return ApiRequest("GET", _merchant(merchant_id, f"/settlements/{int(batch_id)}/statement.csv"),
                      lambda raw: bytes(raw).decode(), accept="text/csv")


def get_daily_report(merchant_id: str, start: str, end: str) -> ApiRequest[DailyReport]:
    """Per UTC day (``YYYY-MM-DD`` bounds, at most 366 days): payments, refunds, fees and net settled."""
    return ApiRequest("GET", _merchant(merchant_id, "/reports/daily"), model(DailyReport),
                      params={"start": start, "end": end})


def list_webhook_events(merchant_id: str, *, limit: int | None = None,
                        cursor: str | None = None) -> ApiRequest[Page[WebhookEvent]]:
    """The merchant's webhook events, oldest first, each with its delivery log."""
    return ApiRequest("GET", _merchant(merchant_id, "/webhook-events"), page_of(WebhookEvent),
                      params={"limit": limit, "cursor": cursor})


def redeliver_webhook_event(merchant_id: str, event_id: str) -> ApiRequest[WebhookEvent]:
    """Send an event again now (its next attempt is logged as manual)."""
    matching(_WEBHOOK_EVENT, event_id, "not a webhook event id: {value}")
    return ApiRequest("POST", _merchant(merchant_id, f"/webhook-events/{event_id}/redeliver"), model(WebhookEvent))


class MerchantsEndpoints:
    onboard_merchant = Endpoint(onboard_merchant)
    list_merchants = Endpoint(list_merchants)
    get_merchant = Endpoint(get_merchant)
    create_payment_request = Endpoint(create_payment_request)
    get_payment_request = Endpoint(get_payment_request)
    get_payment_request_png = Endpoint(get_payment_request_png)
    get_payment_request_svg = Endpoint(get_payment_request_svg)
    get_order = Endpoint(get_order)
    pay_merchant = Endpoint(pay_merchant)
    submit_pos_payment = Endpoint(submit_pos_payment)
    refund_order = Endpoint(refund_order)
    void_order = Endpoint(void_order)
    settle_merchant = Endpoint(settle_merchant)
    list_settlements = Endpoint(list_settlements)
    get_settlement_statement = Endpoint(get_settlement_statement)
    get_settlement_statement_csv = Endpoint(get_settlement_statement_csv)
    get_daily_report = Endpoint(get_daily_report)
    list_webhook_events = Endpoint(list_webhook_events)
    redeliver_webhook_event = Endpoint(redeliver_webhook_event)


AsyncMerchantsEndpoints = MerchantsEndpoints  # one class serves both clients
