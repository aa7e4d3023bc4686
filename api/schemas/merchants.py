"""Request and response bodies of the merchants (``/v1/merchants``) and of paying them
(``/v1/merchant-payments``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from api.common import ADDRESS_PATTERN, Amount, Money, RequestModel, StrictInt, qr_text
from api.schemas.operations import OperationOut
from api.shown_once import shown_once
from node.merchants.models import Merchant, PaymentRequestRecord, WebhookAttempt, WebhookEvent
from wallet_sdk.client.merchants import Batch, OrderStatus, ReportDay, StatementLine

__all__ = [
    "MERCHANT_ID_PATTERN",
    "MerchantIn",
    "MerchantOnboardingOut",
    "MerchantOut",
    "MerchantPaymentIn",
    "OrderStatusOut",
    "PaymentRequestIn",
    "PaymentRequestOut",
    "PosPaymentIn",
    "RefundIn",
    "merchant_out",
    "order_status_out",
    "payment_request_out",
]

MERCHANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"


class MerchantIn(RequestModel):
    merchant_id: str = Field(pattern=MERCHANT_ID_PATTERN, description="the merchant's id, also on chain")
    legal_name: str = Field(min_length=1, max_length=200)
    mcc: StrictInt = Field(ge=0, le=9999, description="ISO 18245 merchant category code")
    fee_bps: StrictInt = Field(ge=0, le=10_000, description="the acquiring fee in basis points of each settled gross")
    settlement_account: str = Field(min_length=1, max_length=128,
                                    description="the merchant's account at this bank (a bank-account payout's payee)")
    payout_mode: Literal["wallet", "bank_account"] = Field(
        "wallet", description="where a settlement's net goes: the merchant's wallet, or its bank account")
    webhook_url: str | None = Field(None, max_length=500, pattern=r"^https?://\S+$",
                                    description="where the node POSTs payment.paid, payment.refunded and "
                                                "settlement.completed events")
    webhook_secret: str | None = Field(None, min_length=16, max_length=200,
                                       description="the HMAC secret of the webhooks; the node makes one if absent")


class MerchantOut(BaseModel):
    merchant_id: str
    legal_name: str
    mcc: int
    fee_bps: int
    payout_mode: str
    settlement_account: str
    wallet: str = Field(description="the merchant's wallet (custodial, kept by this bank)")
    state: str = Field(description="pending (on its way to the chain), active, suspended or failed")
    webhook_url: str | None
    operation: str | None = Field(description="the onboarding operation")
    created_at: datetime


class MerchantOnboardingOut(BaseModel):
    merchant: MerchantOut
    operation: OperationOut
    api_key: str | None = shown_once(None, description="a new API key of scope merchant for this merchant only; "
                                                       "shown once (null when the same onboarding is asked for "
                                                       "again)")
    webhook_secret: str | None = shown_once(None, description="the webhook signing secret; shown once")


class PaymentRequestIn(RequestModel):
    order_id: str = Field(pattern=MERCHANT_ID_PATTERN, description="the merchant's order id (paid at most once)")
    amount: Amount
    currency: str | None = Field(None, description="if given, must be the node's currency")
    expires_in: StrictInt = Field(900, ge=30, le=7 * 86_400, description="seconds (chain time) the request can be paid")
    description: str = Field("", max_length=140)


class PaymentRequestOut(BaseModel):
    merchant_id: str
    order_id: str
    amount: Money
    description: str
    expires_at: int = Field(description="Unix seconds, chain time: not payable from then on")
    payload: str = Field(description="the QR text (WALLETNET:1:REQUEST:...), decoded by the payer's app")
    qr_png: str = Field(description="path of the QR code as PNG")
    qr_svg: str = Field(description="path of the QR code as SVG")
    created: bool = Field(description="false: this order was requested before and that request is returned")


class OrderStatusOut(BaseModel):
    merchant_id: str
    order_id: str
    status: Literal["requested", "expired", "pending", "paid", "partially_refunded", "refunded", "underpaid",
                    "overpaid", "unrequested"] = Field(
        description="paid only for exactly the amount requested; underpaid / overpaid / unrequested: the chain holds "
                    "a payment of another amount, or of an order not requested here (void it)")
    amount: Money | None
    paid: Money
    refunded: Money
    payer: str | None
    paid_at: int | None = Field(description="block time of the payment")
    expires_at: int | None
    operation: str | None = Field(description="the payment operation on its way, if any")


class MerchantPaymentIn(RequestModel):
    payer: str = Field(pattern=ADDRESS_PATTERN, description="the payer's wallet, kept by this bank")
    payload: str = qr_text("the payer's signed payment (WALLETNET:1:PAY:...), or for a custodial payer the merchant's "
                           "request (WALLETNET:1:REQUEST:...)")


class PosPaymentIn(RequestModel):
    payload: str = qr_text("the payment the customer's app shows (WALLETNET:1:PAY:...), scanned by the POS")
    amount: Amount | None = Field(None, description="minor units the POS charges, for an order not requested yet "
                                                    "(the bank then issues its request); must equal the payment's")


class RefundIn(RequestModel):
    amount: Amount = Field(description="minor units, at most what the order has left to refund")


def merchant_out(m: Merchant) -> MerchantOut:
    return MerchantOut(merchant_id=m.merchant_id, legal_name=m.legal_name, mcc=m.mcc, fee_bps=m.fee_bps,
                       payout_mode=m.payout_mode.value, settlement_account=m.settlement_account, wallet=m.wallet,
                       state=m.state.value, webhook_url=m.webhook_url, operation=m.operation, created_at=m.created_at)


def payment_request_out(r: PaymentRequestRecord, created: bool) -> PaymentRequestOut:
    base = f"/v1/merchants/{r.merchant_id}/payment-requests/{r.order_id}"
    return PaymentRequestOut(merchant_id=r.merchant_id, order_id=r.order_id,
                             amount=Money(amount=r.amount_minor, currency=r.currency), description=r.description,
                             expires_at=r.expires_at, payload=r.payload, qr_png=f"{base}/qr.png",
                             qr_svg=f"{base}/qr.svg", created=created)


def order_status_out(o: OrderStatus) -> OrderStatusOut:
    """The node's reading (the SDK's OrderStatus, which this body describes) as the response body."""
    return OrderStatusOut(**asdict(o))


# A batch, a statement's line and a day of the report are the SDK's Batch, StatementLine and ReportDay, the one
# definition the server and its clients share (validated here, with what the document says of some fields).
@pydantic_dataclass(frozen=True)
class BatchOut(Batch):
    """A settlement batch (minor units of `currency`): refunds + fee + net == gross."""

    settled_at: Annotated[str, Field(description="ISO 8601 UTC")]


@pydantic_dataclass(frozen=True)
class StatementLineOut(StatementLine):
    type: Literal["payment", "refund", "fee", "net"]
    time: Annotated[str, Field(description="ISO 8601 UTC")]
    signed_amount_minor: Annotated[int, Field(description="the line's effect on the payout: payments +, refunds "
                                                          "and fee -; the net line carries the net")]


@pydantic_dataclass(frozen=True)
class StatementOut(BatchOut):
    lines: list[StatementLineOut]


@pydantic_dataclass(frozen=True)
class DayOut(ReportDay):
    day: Annotated[str, Field(description="UTC calendar day, YYYY-MM-DD")]


class DailyReportOut(BaseModel):
    merchant_id: str
    currency: str
    start: str
    end: str
    days: list[DayOut] = Field(description="the days with activity, oldest first")


class WebhookAttemptOut(BaseModel):
    attempted_at: datetime
    url: str
    status_code: int | None = Field(description="the receiver's HTTP status; null if it did not answer")
    error: str | None
    duration_ms: int
    manual: bool = Field(description="asked for by a redelivery")


class WebhookEventOut(BaseModel):
    id: str = Field(description="evt_...; also sent as the Walletnet-Event-Id header")
    type: Literal["payment.paid", "payment.refunded", "settlement.completed"]
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any] = Field(description="the JSON body sent")
    log: list[WebhookAttemptOut] = Field(description="every delivery attempt, oldest first")


def webhook_event_out(event: WebhookEvent, attempts: Sequence[WebhookAttempt]) -> WebhookEventOut:
    return WebhookEventOut(
        id=event.public_id, type=event.type.value, state=event.state.value,  # type: ignore[arg-type]
        attempts=event.attempts, next_attempt_at=event.next_attempt_at, delivered_at=event.delivered_at,
        created_at=event.created_at, payload=dict(event.payload),
        log=[WebhookAttemptOut(attempted_at=a.attempted_at, url=a.url, status_code=a.status_code, error=a.error,
                               duration_ms=a.duration_ms, manual=a.manual) for a in attempts])
