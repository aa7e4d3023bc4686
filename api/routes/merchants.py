"""``/v1/merchants``: the acquiring bank's merchants and what they do through it (a payer's bank relaying a payment
of a merchant's request is ``/v1/merchant-payments``: :mod:`api.routes.merchant_payments`).

A merchant key (scope ``merchant``) is bound to one merchant: on any other merchant's paths it gets 403. The
bank's admin keys see every merchant of the bank.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select

from api.auth import Admin, AdminOrRegulator, require_scope
from api.common import (
    MAX_DB_INT,
    PAYMENT_REQUEST_PROBLEMS,
    SPENDING_PROBLEMS,
    Page,
    PageParamsDep,
    check_currency,
    encode_cursor,
    paginate,
)
from api.deps import AppStateDep, NetworkDep, ReadSessionDep, SessionDep, SettingsDep
from api.idempotency import IdempotencyDep, IdempotencyKey, request_digest
from api.problems import ForbiddenError, ProblemKind
from api.routing import accepted, bind_common, bound_fast, flow_lane, in_lane, operation_route, respond, route
from api.schemas.merchants import (
    MERCHANT_ID_PATTERN,
    BatchOut,
    DailyReportOut,
    DayOut,
    MerchantIn,
    MerchantOnboardingOut,
    MerchantOut,
    OrderStatusOut,
    PaymentRequestIn,
    PaymentRequestOut,
    PosPaymentIn,
    RefundIn,
    StatementOut,
    WebhookEventOut,
    merchant_out,
    order_status_out,
    payment_request_out,
    webhook_event_out,
)
from api.schemas.operations import OperationOut, operation_out
from node.api_keys import Principal, Scope, create_key
from node.lanes import Keyed
from node.merchants import service as flows
from node.merchants import statements, webhooks
from node.merchants.lane import PosLane, PosRequest
from node.merchants.models import Merchant, PayoutMode
from node.operations.checks import channel_of
from wallet_sdk.qr import qr_png, qr_svg

router = APIRouter(prefix="/v1/merchants", tags=["merchants"])

MerchantOrAdmin = Annotated[Principal, require_scope(Scope.MERCHANT, Scope.ADMIN)]
_MERCHANT_SCOPES = frozenset({Scope.MERCHANT})
MerchantKey = Annotated[Principal, require_scope(*_MERCHANT_SCOPES)]
MerchantPath = Annotated[str, Path(pattern=MERCHANT_ID_PATTERN, description="the merchant's id")]
OrderPath = Annotated[str, Path(pattern=MERCHANT_ID_PATTERN, description="the merchant's order id")]
BatchPath = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="the settlement batch number (1, 2, ...)")]

_AUTH = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.NOT_FOUND)
_PAYMENT = (*SPENDING_PROBLEMS, *PAYMENT_REQUEST_PROBLEMS, ProblemKind.IDEMPOTENCY_KEY_REUSED,
            ProblemKind.CHAIN_UNAVAILABLE)


def own_merchant(key: Principal, merchant_id: str) -> None:
    """A merchant key acts for its own merchant only (admin keys for any merchant of the bank)."""
    if Scope.ADMIN in key.scope_set or Scope.REGULATOR in key.scope_set:
        return
    if key.merchant_id != merchant_id:
        raise ForbiddenError(f"this key is for merchant {key.merchant_id}, not {merchant_id}")


# ------------------------------------------------------------------ onboarding


@route(router, "POST", "", "Onboard a merchant this bank acquires", ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN,
       ProblemKind.VALIDATION, ProblemKind.CONFLICT, ProblemKind.IDEMPOTENCY_KEY_REUSED, ProblemKind.CHAIN_UNAVAILABLE,
       status_code=202, response_model=MerchantOnboardingOut)
def onboard_merchant(body: MerchantIn, key: Admin, idem: IdempotencyDep, session: SessionDep, settings: SettingsDep,
                     network: NetworkDep) -> MerchantOnboardingOut:
    """Open the merchant's wallet (custodial, kind merchant) and register it in MerchantSettlement with its fee,
    category code, payout mode and a salted hash of its settlement account. The answer holds the
    `merchant_onboard` operation (`pending`; the merchant is `active` once it completes), a new API key of
    scope `merchant` that sees this merchant only, and the webhook signing secret: both shown once. The bank's
    first onboarding also opens and sets the bank's fee wallet."""
    terms = flows.MerchantTerms(merchant_id=body.merchant_id, legal_name=body.legal_name, mcc=body.mcc,
                                fee_bps=body.fee_bps, settlement_account=body.settlement_account,
                                payout_mode=PayoutMode(body.payout_mode), webhook_url=body.webhook_url,
                                webhook_secret=body.webhook_secret)
    done = flows.onboard(session, settings, network, terms, channel="admin", api_key_id=key.id)
    api_key = None
    if done.created:
        api_key = create_key(session, name=f"merchant {body.merchant_id}", scopes=(Scope.MERCHANT,),
                             merchant_id=body.merchant_id).secret
    out = MerchantOnboardingOut(merchant=merchant_out(done.merchant), operation=operation_out(done.operation),
                                api_key=api_key, webhook_secret=done.webhook_secret)
    idem.complete(session, out, status=202)
    return out


@route(router, "GET", "", "The merchants this bank acquires", ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN,
       response_model=Page[MerchantOut])
def list_merchants(_key: AdminOrRegulator, session: ReadSessionDep, page: PageParamsDep) -> Page[MerchantOut]:
    """Every merchant of this bank, oldest first (cursor-paginated)."""
    rows, next_cursor = paginate(session, select(Merchant), Merchant.id, page)
    return Page[MerchantOut](items=[merchant_out(m) for m in rows], next_cursor=next_cursor)


@route(router, "GET", "/{merchant_id}", "A merchant", *_AUTH, response_model=MerchantOut)
def get_merchant(merchant_id: MerchantPath, key: MerchantOrAdmin, session: ReadSessionDep) -> MerchantOut:
    """The merchant's terms, wallet and state (a merchant key reads its own merchant only)."""
    own_merchant(key, merchant_id)
    return merchant_out(flows.get_merchant(session, merchant_id))


# ------------------------------------------------------------------ payment requests


@route(router, "POST", "/{merchant_id}/payment-requests", "Ask for a payment: the QR a customer scans", *_AUTH,
       ProblemKind.VALIDATION, ProblemKind.CONFLICT, ProblemKind.MERCHANT_NOT_ACTIVE, ProblemKind.ORDER_ALREADY_PAID,
       ProblemKind.CHAIN_UNAVAILABLE, status_code=201, response_model=PaymentRequestOut)
def create_payment_request(merchant_id: MerchantPath, body: PaymentRequestIn, key: MerchantOrAdmin,
                           session: SessionDep, settings: SettingsDep, network: NetworkDep) -> PaymentRequestOut:
    """A payment request for `order_id`: its QR text (`payload`, `WALLETNET:1:REQUEST:...`) and the paths of
    its QR code as PNG and SVG. It can be paid until `expires_at` (chain time), once. Asking again for the
    same order with the same amount and description returns the same request (`created: false`); with other
    details it is a conflict."""
    own_merchant(key, merchant_id)
    if body.currency is not None:
        check_currency(body.currency, settings)
    record, created = flows.create_payment_request(
        session, settings, network, merchant_id, order_id=body.order_id, amount_minor=body.amount,
        expires_in=body.expires_in, description=body.description, api_key_id=key.id)
    return payment_request_out(record, created)


@route(router, "GET", "/{merchant_id}/payment-requests/{order_id}", "A payment request", *_AUTH,
       response_model=PaymentRequestOut)
def get_payment_request(merchant_id: MerchantPath, order_id: OrderPath, key: MerchantOrAdmin,
                        session: ReadSessionDep) -> PaymentRequestOut:
    own_merchant(key, merchant_id)
    return payment_request_out(flows.get_request(session, merchant_id, order_id), False)


def _qr_route(extension: str, media_type: str, draw: Callable[[str], bytes | str]) -> None:
    """``GET .../qr.<extension>``: a payment request's QR code, drawn by ``draw`` as ``media_type``."""

    @route(router, "GET", f"/{{merchant_id}}/payment-requests/{{order_id}}/qr.{extension}",
           f"A payment request's QR code ({extension.upper()})", *_AUTH,
           operation_id=f"get_payment_request_{extension}", response_class=Response,
           responses={200: {"content": {media_type: {}}, "description": "the QR code"}})
    def get_qr(merchant_id: MerchantPath, order_id: OrderPath, key: MerchantOrAdmin,
               session: ReadSessionDep) -> Response:
        own_merchant(key, merchant_id)
        record = flows.get_request(session, merchant_id, order_id)
        return Response(draw(record.payload), media_type=media_type)


_qr_route("png", "image/png", qr_png)
_qr_route("svg", "image/svg+xml", qr_svg)


@route(router, "GET", "/{merchant_id}/orders/{order_id}", "An order's payment status", *_AUTH,
       ProblemKind.CHAIN_UNAVAILABLE, response_model=OrderStatusOut)
def get_order(merchant_id: MerchantPath, order_id: OrderPath, key: MerchantOrAdmin, session: ReadSessionDep,
              settings: SettingsDep, network: NetworkDep) -> OrderStatusOut:
    """`requested` (payable), `expired`, `pending` (a payment is on its way), `paid`, `partially_refunded` or
    `refunded`, with the paid and refunded amounts as the chain has them. `paid` means paid exactly the amount
    requested: a payment of another amount is `underpaid` or `overpaid`, of an order never requested here
    `unrequested` (the settlement contract refuses both; such a payment is voided with `.../void`)."""
    own_merchant(key, merchant_id)
    return order_status_out(flows.order_status(session, settings, network, merchant_id, order_id))


# ------------------------------------------------------------------ payments at the point of sale


_MERCHANT_ID: TypeAdapter[str] = TypeAdapter(MerchantPath)


async def _common_pos_payment(request: Request) -> dict[str, Any] | None:
    """The arguments of :func:`submit_pos_payment` as FastAPI's dependencies would give them, or None for a request
    FastAPI is to bind (api.routing.bound_fast)."""
    common = await bind_common(request, _MERCHANT_SCOPES, PosPaymentIn)
    try:
        merchant_id = _MERCHANT_ID.validate_python(request.path_params.get("merchant_id"))
    except ValidationError:
        return None
    if common is None:
        return None
    key, idempotency_key, body = common
    return {"request": request, "merchant_id": merchant_id, "body": body, "key": key,
            "idempotency_key": idempotency_key, "state": request.app.state.walletnet}


@operation_route(router, "/{merchant_id}/pos-payments", "Relay a payment the customer presented at the point of sale",
                 *_AUTH, *_PAYMENT)
@bound_fast(_common_pos_payment)
@in_lane
async def submit_pos_payment(request: Request, merchant_id: MerchantPath, body: PosPaymentIn, key: MerchantKey,
                             idempotency_key: IdempotencyKey, state: AppStateDep) -> Any:
    """Customer-presented QR: the merchant's POS scanned the payment the customer's app signed
    (`WALLETNET:1:PAY:...`, for this merchant) and the acquiring bank relays it, signing the request it answers;
    the customer may be at any bank. The bank signs only what the merchant asked for: the payment must be of the
    amount of the order's payment request, or, for an order not requested yet, of the `amount` the POS names
    (the bank then issues the request). Anything else is `authorization-invalid`."""
    own_merchant(key, merchant_id)
    # many payments in one transaction, the key recorded with the answer (node.merchants.lane)
    lane = flow_lane(state, "pos-payments", PosLane)
    return respond(await lane.submit(PosRequest(
        keyed=Keyed(key.idempotency_scope, idempotency_key, await request_digest(request)), api_key_id=key.id,
        merchant_id=merchant_id, payload=body.payload, amount_minor=body.amount)))



# ------------------------------------------------------------------ refunds and settlement


@operation_route(router, "/{merchant_id}/orders/{order_id}/refunds", "Refund part or all of a paid order", *_AUTH,
                 ProblemKind.REFUND_EXCEEDS_REFUNDABLE, ProblemKind.INVALID_STATE, ProblemKind.IDEMPOTENCY_KEY_REUSED,
                 ProblemKind.CHAIN_UNAVAILABLE)
def refund_order(merchant_id: MerchantPath, order_id: OrderPath, body: RefundIn, key: MerchantOrAdmin,
                 idem: IdempotencyDep, session: SessionDep, settings: SettingsDep,
                 network: NetworkDep) -> OperationOut:
    """Send `amount` back to the order's payer out of the merchant's pending (unsettled) money. Refused with
    `refund-exceeds-refundable` above what the order has left to refund (refunds on their way count) or
    above what the merchant has pending; `invalid-state` while a settlement is on its way."""
    own_merchant(key, merchant_id)
    op = flows.refund(session, settings, network, merchant_id, order_id, amount_minor=body.amount,
                      channel=channel_of(key.scope_set, Scope.MERCHANT, Scope.ADMIN), api_key_id=key.id)
    return accepted(idem, session, op)


@operation_route(router, "/{merchant_id}/orders/{order_id}/void", "Void a paid order: refund all of it that is left",
                 *_AUTH, ProblemKind.REFUND_EXCEEDS_REFUNDABLE, ProblemKind.INVALID_STATE,
                 ProblemKind.IDEMPOTENCY_KEY_REUSED, ProblemKind.CHAIN_UNAVAILABLE)
def void_order(merchant_id: MerchantPath, order_id: OrderPath, key: MerchantOrAdmin, idem: IdempotencyDep,
               session: SessionDep, settings: SettingsDep, network: NetworkDep) -> OperationOut:
    """Undo a payment the merchant should not have taken (another amount than requested, an order it did not
    request, the wrong customer): everything the order has left to refund goes back to its payer, out of the
    merchant's pending money (a `merchant_refund` operation). The order id stays used on chain; sell again
    under a new order id. `invalid-state` if nothing is left to refund (or a settlement is on its way),
    `refund-exceeds-refundable` if the order's money was settled already."""
    own_merchant(key, merchant_id)
    op = flows.void_order(session, settings, network, merchant_id, order_id,
                          channel=channel_of(key.scope_set, Scope.MERCHANT, Scope.ADMIN), api_key_id=key.id)
    return accepted(idem, session, op)


@operation_route(router, "/{merchant_id}/settlements", "Settle now", *_AUTH, ProblemKind.MERCHANT_NOT_ACTIVE,
                 ProblemKind.IDEMPOTENCY_KEY_REUSED)
def settle_merchant(merchant_id: MerchantPath, key: MerchantOrAdmin, idem: IdempotencyDep, session: SessionDep,
                    settings: SettingsDep) -> OperationOut:
    """Settle everything pending now, besides the daily settlement after the cut-off: the fee goes to the
    bank, the net to the merchant's wallet or its bank account. The answer is the `settlement` operation (a
    settlement already on its way is returned); once completed, `details` holds the batch id and amounts and
    the statement is at `/v1/merchants/{id}/settlements/{batch_id}`."""
    own_merchant(key, merchant_id)
    op, _created = flows.settle(session, settings, merchant_id,
                                channel=channel_of(key.scope_set, Scope.MERCHANT, Scope.ADMIN), api_key_id=key.id)
    return accepted(idem, session, op)


# ------------------------------------------------------------------ statements and reports


@route(router, "GET", "/{merchant_id}/settlements", "A merchant's settlement batches, newest first", *_AUTH,
       ProblemKind.VALIDATION, response_model=list[BatchOut])
def list_settlements(merchant_id: MerchantPath, key: MerchantOrAdmin, session: ReadSessionDep,
                     limit: Annotated[int, Query(ge=1, le=500)] = 50,
                     before: Annotated[int | None, Query(ge=1, le=MAX_DB_INT,
                                                         description="batches before this batch id")] = None,
                     ) -> list[BatchOut]:
    """The batches as the chain recorded them (MerchantSettled), with their totals and line counts."""
    own_merchant(key, merchant_id)
    flows.get_merchant(session, merchant_id)
    return [BatchOut(**asdict(b))
            for b in statements.batches(session, merchant_id, limit=limit, before_batch=before)]


@route(router, "GET", "/{merchant_id}/settlements/{batch_id}", "A settlement batch's statement", *_AUTH,
       ProblemKind.INTERNAL, response_model=StatementOut)
def get_settlement_statement(merchant_id: MerchantPath, batch_id: BatchPath, key: MerchantOrAdmin,
                             session: ReadSessionDep) -> StatementOut:
    """Every order and refund the batch settled, the fee and the net, checked to add up to the cent against
    the batch's totals before it is served (a node whose records disagree answers 500, never a wrong
    statement)."""
    own_merchant(key, merchant_id)
    return StatementOut(**statements.statement(session, merchant_id, batch_id).to_json())


@route(router, "GET", "/{merchant_id}/settlements/{batch_id}/statement.csv", "A settlement batch's statement as CSV",
       *_AUTH, ProblemKind.INTERNAL, response_class=Response,
       responses={200: {"content": {"text/csv": {}}, "description": "the statement"}})
def get_settlement_statement_csv(merchant_id: MerchantPath, batch_id: BatchPath, key: MerchantOrAdmin,
                                 session: ReadSessionDep) -> Response:
    """The statement as CSV: one row per payment, refund and the fee, then a `total` row with the net; the
    `signed_amount_minor` column sums to the net (see docs/merchants.md)."""
    own_merchant(key, merchant_id)
    text = statements.statement(session, merchant_id, batch_id).to_csv()
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{merchant_id}-batch-{batch_id}.csv"'})


@route(router, "GET", "/{merchant_id}/reports/daily", "A merchant's daily report", *_AUTH, ProblemKind.VALIDATION,
       response_model=DailyReportOut)
def get_daily_report(merchant_id: MerchantPath, key: MerchantOrAdmin, session: ReadSessionDep,
                     settings: SettingsDep, start: Annotated[date, Query(description="first UTC day")],
                     end: Annotated[date, Query(description="last UTC day (at most 366 days in all)")],
                     ) -> DailyReportOut:
    """Per UTC day with activity: the count and sum of payments and of refunds, and the fees and net of the
    batches settled that day."""
    own_merchant(key, merchant_id)
    flows.get_merchant(session, merchant_id)
    rows = statements.daily_report(session, merchant_id, start=start, end=end)
    return DailyReportOut(merchant_id=merchant_id, currency=settings.currency, start=start.isoformat(),
                          end=end.isoformat(), days=[DayOut(**r.to_json()) for r in rows])


# ------------------------------------------------------------------ webhooks


EventPath = Annotated[str, Path(pattern=r"^evt_[0-9a-f]{32}$", description="the event's id (Walletnet-Event-Id)")]


@route(router, "GET", "/{merchant_id}/webhook-events", "The merchant's webhook events and their delivery log", *_AUTH,
       response_model=Page[WebhookEventOut])
def list_webhook_events(merchant_id: MerchantPath, key: MerchantOrAdmin, session: ReadSessionDep,
                        page: PageParamsDep) -> Page[WebhookEventOut]:
    """Every notification owed to the merchant, oldest first (cursor-paginated), each with its state
    (`pending`, `delivered`, `failed`) and every delivery attempt (status code or error, duration)."""
    own_merchant(key, merchant_id)
    flows.get_merchant(session, merchant_id)
    events = webhooks.list_events(session, merchant_id, limit=page.limit + 1, after_id=page.after_id)
    more = len(events) > page.limit
    events = events[: page.limit]
    return Page[WebhookEventOut](items=[webhook_event_out(e, webhooks.attempts_of(session, e)) for e in events],
                                 next_cursor=encode_cursor(events[-1].id) if more and events else None)


@route(router, "POST", "/{merchant_id}/webhook-events/{event_id}/redeliver", "Send a webhook event again", *_AUTH,
       status_code=202, response_model=WebhookEventOut)
def redeliver_webhook_event(merchant_id: MerchantPath, event_id: EventPath, key: MerchantOrAdmin,
                            session: SessionDep) -> WebhookEventOut:
    """Make the event due again at once, whatever its state; the next attempt is logged as manual. A failed
    event gets one more try, a delivered one the usual retries if it fails."""
    own_merchant(key, merchant_id)
    event = webhooks.redeliver(session, merchant_id, event_id)
    return webhook_event_out(event, webhooks.attempts_of(session, event))
