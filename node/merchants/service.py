"""Merchant flows: onboarding by the acquiring bank, payment requests, payments (both QR modes), refunds and
settlement with its ledger postings.

- Onboarding (admin): the node opens a custodial wallet of kind merchant for the merchant and registers it in
  MerchantSettlement, one ``merchant_onboard`` operation whose outbox rows go in order (``open``, then
  ``register``). The bank's first onboarding also opens the bank's fee wallet (a merchant-kind wallet, so no
  tier limit caps the fees it collects) and sets it (``fee_open``, ``fee_set``).
- Payment requests: the merchant asks for ``amount`` for ``order_id``; the node answers the QR text
  (``WALLETNET:1:REQUEST:...``), valid until ``expires_at`` in chain time, signed by the bank's request signer
  (:mod:`node.merchants.request_signer`): the settlement contract pays an order only for the amount and expiry
  its acquirer signed. One request per order. Merchant ids are per acquirer on chain (this bank's "SHOP1" is
  not another bank's), so every chain read names this bank.
- Paying a request (the payer's bank, app/teller scope): the payer's app decodes the request, signs the
  MerchantPayment (for a custodial payer the bank signs) and its bank relays it in a ``merchant_pay`` batch,
  after checking on chain that the request's signer speaks for its acquirer: an edited amount or an order the
  acquirer never requested is refused here, and by the contract whoever relays it.
- Customer-presented QR (the acquirer, merchant scope): the merchant's POS scans the payer's signed payment
  (``WALLETNET:1:PAY:...``) and the acquirer relays it, signing the request it answers only if it matches a
  request this bank issued for that order, or the amount the POS names (then the node issues the request);
  the payer may be at any bank.
  Either way an order is paid at most once (the chain's nonce and OrderAlreadyPaid; this node also refuses
  an order paid or in flight) and never after its expiry (the signature's ``valid_before`` is the request's
  expiry, so the chain refuses it too).
- Order status compares what the chain says was paid with the request: never ``paid`` for another amount.
- Refunds: out of the merchant's pending balance, capped by the order's refundable amount less the refunds in
  flight. Voiding an order refunds everything it has left (a payment the merchant should not have taken).
- Settlement: on demand, and by :func:`settle_due` once a day after ``settings.settlement_cutoff``.

What the chain's answer to each of these does (activating a merchant, completing a payment, booking a
settlement's fee and payout) is in :mod:`node.merchants.completions`; statements of the settled batches are
read by :mod:`node.merchants.statements`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from node.chain_ids import id_text
from node.db import transaction
from node.db.base import utcnow
from node.db.inserts import insert_new
from node.errors import (
    AuthorizationInvalidError,
    FlowConflictError,
    FlowNotFoundError,
    FlowValidationError,
    InvalidStateError,
    MerchantNotActiveError,
    OrderAlreadyPaidError,
    PaymentRequestExpiredError,
    RefundExceedsRefundableError,
)
from node.funding.service import MAX_AMOUNT
from node.indexer.models import (
    ChainMerchant,
    DirectoryMerchant,
    DirectoryOrderPaid,
    DirectoryRequestSigner,
    MerchantOrder,
)
from node.ledger import open_ledger
from node.ledger.errors import AccountNotFoundError
from node.ledger.types import AccountKind
from node.merchants import completions as _completions  # noqa: F401  (registers the merchant flows' completions)
from node.merchants.models import (
    FEE_WALLET_ACCOUNT,
    MERCHANT_ID_MAX,
    Merchant,
    MerchantState,
    PaymentRequestRecord,
    PayoutMode,
    find_merchant,
)
from node.merchants.request_signer import registered_signer, request_signing_key
from node.merchants.webhook_targets import url_refusal
from node.operations.checks import check_authorization, check_outflow
from node.operations.local_state import chain_now, local_wallet, network_indexed
from node.operations.models import (
    ATTRIBUTION_INFO,
    IN_FLIGHT,
    Attribution,
    Operation,
    OperationKind,
    OperationStatus,
    new_operation,
    new_ref,
    operation_payload,
    operation_row,
)
from node.outbox import enqueue, new_row
from node.risk import service as risk
from node.settings import NodeSettings
from node.wallets.access import custodied_wallet
from node.wallets.models import (
    CustodyMode,
    Verification,
    WalletRecord,
    WalletState,
    custodial_key,
    seal_key,
)
from node.wallets.service import account_hash
from node.writer.kinds import merchant_pay_payload, merchant_terms_payload
from wallet_sdk.amount import Amount
from wallet_sdk.authorizations import MerchantPayment, SignedAuthorization
from wallet_sdk.authorizations import merchant_id as merchant_id_bytes
from wallet_sdk.authorizations import order_id as order_id_bytes
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.types import MerchantStatus, OrderInfo, WalletStatus
from wallet_sdk.client.merchants import OrderStatus
from wallet_sdk.client.models import Money
from wallet_sdk.exceptions import AuthorizationError, ExpiredAuthorizationError, PayloadError
from wallet_sdk.keys import WalletKey
from wallet_sdk.payload import MAX_DESCRIPTION, PaymentRequest, RequestSignerCheck, decode_payload, encode_payload

__all__ = [
    "DEFAULT_REQUEST_TTL",
    "FEE_WALLET_ACCOUNT",
    "MAX_REQUEST_TTL",
    "MerchantTerms",
    "Onboarding",
    "create_payment_request",
    "find_merchant",
    "get_merchant",
    "get_request",
    "onboard",
    "order_status",
    "pay_request",
    "payment_request",
    "pos_payment",
    "refund",
    "settle",
    "settle_due",
    "void_order",
]

FEE_WALLET_ENROLMENT: Final = "system:fee-wallet"
DEFAULT_REQUEST_TTL: Final = 900  # seconds a payment request is valid unless the merchant says otherwise
MAX_REQUEST_TTL: Final = 7 * 86_400
_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", re.ASCII)


def _identifier(value: object, field: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise FlowValidationError(field, f"a {field} is 1-{MERCHANT_ID_MAX} letters, digits and ._-, starting with a "
                                         "letter or digit")
    return value


def check_amount(value: object, field: str = "amount") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_AMOUNT:
        raise FlowValidationError(field, f"expected an integer of minor units from 1 to {MAX_AMOUNT}")
    return value


# ------------------------------------------------------------------ onboarding


@dataclass(frozen=True)
class MerchantTerms:
    """What the acquiring bank agreed with the merchant."""

    merchant_id: str
    legal_name: str
    mcc: int
    fee_bps: int
    settlement_account: str
    payout_mode: PayoutMode
    webhook_url: str | None = None
    webhook_secret: str | None = None  # None: the node makes one (returned once by the API)

    def check(self) -> None:
        _identifier(self.merchant_id, "merchant_id")
        if not self.legal_name.strip() or len(self.legal_name) > 200:
            raise FlowValidationError("legal_name", "a legal name is 1-200 characters")
        if not 0 <= self.mcc <= 9999:
            raise FlowValidationError("mcc", "a merchant category code (ISO 18245) is 0000-9999")
        if not 0 <= self.fee_bps <= 10_000:
            raise FlowValidationError("fee_bps", "a fee is 0-10000 basis points")
        if self.webhook_url is not None and not re.match(r"^https?://[^\s/]+", self.webhook_url):
            raise FlowValidationError("webhook_url", "a webhook URL is http(s)://...")


def _settlement_account(session: Session, settings: NodeSettings, code: str) -> str:
    """The merchant's account at this bank, which a bank-account payout credits: it must exist in the ledger,
    in the node's currency, and be a deposit or merchant settlement account."""
    code = code.strip()
    if not 1 <= len(code) <= 128:
        raise FlowValidationError("settlement_account", "an account code is 1-128 characters")
    ledger = open_ledger(session, settings.ledger_adapter)
    try:
        info = ledger.account_info(code)
    except AccountNotFoundError:
        raise FlowValidationError("settlement_account", f"this bank has no account {code!r}", account=code) from None
    if info.kind not in (AccountKind.CUSTOMER_DEPOSIT, AccountKind.MERCHANT_SETTLEMENT):
        raise FlowValidationError("settlement_account", f"{code!r} is not a deposit or merchant settlement account")
    if info.currency != settings.currency:
        raise FlowValidationError("settlement_account", f"{code!r} is in {info.currency}, not {settings.currency}")
    return code


def _new_wallet(session: Session, settings: NodeSettings, customer_ref: str, enrolment_key: str) -> WalletRecord:
    """A custodial wallet record (pending) whose key the bank keeps; opened on chain as a merchant wallet."""
    key = WalletKey.create()
    now = utcnow()
    record = WalletRecord(address=str(key.address), customer_ref=customer_ref, enrolment_key=enrolment_key,
                          channel="admin", verification=Verification.IN_PERSON, tier=1, custody=CustodyMode.CUSTODIAL,
                          state=WalletState.PENDING, key_ciphertext=seal_key(settings, key), created_at=now,
                          updated_at=now)
    session.add(record)
    session.flush()
    return record


def _open_fee_wallet(session: Session, settings: NodeSettings, network: Network) -> WalletRecord | None:
    """A new record of the bank's fee wallet if the bank has none on chain and none on its way (None: it has
    one, or a concurrent onboarding is opening it)."""
    if network.fee_wallet(settings.bank_id) is not None:
        return None
    record = session.scalars(select(WalletRecord).where(WalletRecord.enrolment_key == FEE_WALLET_ENROLMENT)
                             .with_for_update()).one_or_none()
    if record is not None:
        if record.state not in (WalletState.FAILED, WalletState.CLOSED):
            return None
        record.enrolment_key = None  # gone: open another
        session.flush()
    try:
        with session.begin_nested():
            return _new_wallet(session, settings, "bank:fees", FEE_WALLET_ENROLMENT)
    except IntegrityError:  # another onboarding's fee wallet committed first
        return None


@dataclass(frozen=True)
class Onboarding:
    merchant: Merchant
    operation: Operation
    created: bool  # False: the same onboarding was asked for before
    webhook_secret: str | None  # the secret that signs its webhooks: shown once, when created


def onboard(session: Session, settings: NodeSettings, network: Network, terms: MerchantTerms, *,
            channel: str = "admin", api_key_id: int | None = None) -> Onboarding:
    """Onboard a merchant this bank acquires. Asking again with the same terms returns the first onboarding.

    Raises:
        FlowValidationError: a term is out of range, the settlement account is unknown, or the webhook URL is
            one the node will not send to (outside ``local``: not https, or a non-public address).
        FlowConflictError: the merchant id is taken (here with other terms, or on chain by this bank; ids are
            per acquirer, so another bank's merchant of the same id is no conflict).
    """
    from node.merchants.webhooks import new_webhook_secret, seal_secret

    terms.check()
    if terms.webhook_url is not None and (why := url_refusal(settings, terms.webhook_url)) is not None:
        raise FlowValidationError("webhook_url", f"this webhook URL is refused: {why}")
    account = _settlement_account(session, settings, terms.settlement_account)
    existing = find_merchant(session, terms.merchant_id, lock=True)
    if existing is not None:
        same = (existing.legal_name == terms.legal_name and existing.mcc == terms.mcc
                and existing.fee_bps == terms.fee_bps and existing.payout_mode is terms.payout_mode
                and existing.settlement_account == account and existing.webhook_url == terms.webhook_url)
        if not same or existing.state is MerchantState.FAILED:
            raise FlowConflictError(f"merchant {terms.merchant_id} is onboarded already, with other terms or failed",
                                    merchant_id=terms.merchant_id)
        op = session.scalars(select(Operation).where(Operation.public_id == existing.operation)).one()
        return Onboarding(existing, op, False, None)
    if network.merchant(settings.bank_id, terms.merchant_id).status is not MerchantStatus.NONE:
        raise FlowConflictError(f"merchant id {terms.merchant_id} is registered on chain by this bank already",
                                merchant_id=terms.merchant_id)
    request_signing_key(session, settings)  # the bank's first onboarding queues its registration, first of all
    salt = secrets.token_hex(32)
    hashed = account_hash(salt, account)
    wallet = _new_wallet(session, settings, f"merchant:{terms.merchant_id}", f"merchant:{terms.merchant_id}")
    op = new_operation(session, OperationKind.MERCHANT_ONBOARD, channel=channel, api_key_id=api_key_id,
                       wallet=wallet.address, account=account,
                       details={"merchant_id": terms.merchant_id, "fee_bps": terms.fee_bps, "mcc": terms.mcc,
                                "payout_mode": terms.payout_mode.value})
    fee_wallet = _open_fee_wallet(session, settings, network)
    if fee_wallet is not None:
        enqueue(session, f"{op.public_id}:fee_open", "open_wallet",
                operation_payload(op, "fee_open", wallet=fee_wallet.address, wallet_kind="merchant"))
        enqueue(session, f"{op.public_id}:fee_set", "set_fee_wallet",
                operation_payload(op, "fee_set", wallet=fee_wallet.address))
        op.details = {**op.details, "fee_wallet": fee_wallet.address}
    enqueue(session, f"{op.public_id}:open", "open_wallet",
            operation_payload(op, "open", wallet=wallet.address, wallet_kind="merchant"))
    enqueue(session, f"{op.public_id}:register", "register_merchant", operation_payload(
        op, "register", **merchant_terms_payload(terms.merchant_id, wallet.address, fee_bps=terms.fee_bps,
                                                 mcc=terms.mcc, account_hash=hashed,
                                                 payout_mode=terms.payout_mode.value)))
    secret = terms.webhook_secret or new_webhook_secret()
    now = utcnow()
    merchant = Merchant(merchant_id=terms.merchant_id, legal_name=terms.legal_name.strip(), mcc=terms.mcc,
                        fee_bps=terms.fee_bps, payout_mode=terms.payout_mode, settlement_account=account,
                        account_hash=hashed, wallet=wallet.address, state=MerchantState.PENDING,
                        webhook_url=terms.webhook_url,
                        webhook_secret_ciphertext=seal_secret(settings, secret) if terms.webhook_url else None,
                        operation=op.public_id, created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(merchant)
    except IntegrityError:
        raise FlowConflictError(f"merchant {terms.merchant_id} is being onboarded by another request",
                                merchant_id=terms.merchant_id) from None
    return Onboarding(merchant, op, True, secret if terms.webhook_url else None)


def get_merchant(session: Session, merchant_id: str, *, lock: bool = False) -> Merchant:
    """The merchant this bank acquires (FlowNotFoundError otherwise)."""
    merchant = find_merchant(session, merchant_id, lock=lock)
    if merchant is None:
        raise FlowNotFoundError(f"this bank acquires no merchant {merchant_id!r}", merchant_id=merchant_id)
    return merchant


def _require_active(merchant: Merchant) -> None:
    if merchant.state is not MerchantState.ACTIVE:
        raise MerchantNotActiveError(f"merchant {merchant.merchant_id} is {merchant.state.value}",
                                     merchant_id=merchant.merchant_id, state=merchant.state.value)


# ------------------------------------------------------------------ payment requests


def payment_request(settings: NodeSettings, network: Network, key: WalletKey,
                    record: PaymentRequestRecord) -> PaymentRequest:
    """The request of ``record``, signed by ``key`` (this bank's request signer)."""
    return PaymentRequest.issue(
        key, acquirer=_bank_bytes(settings), merchant_id=merchant_id_bytes(record.merchant_id),
        order_id=order_id_bytes(record.order_id), amount=Amount(record.amount_minor, network.decimals,
                                                               record.currency),
        expires_at=record.expires_at, chain_id=network.domain().chain_id, token=network.addresses["DigitalCash"],
        settlement=network.addresses["MerchantSettlement"], description=record.description)


def _bank_bytes(settings: NodeSettings) -> bytes:
    """This bank's bytes32 id: the acquirer of its merchants."""
    return merchant_id_bytes(settings.bank_id)  # a bank code is a text id like a merchant's


_ORDER_IN_FLIGHT = select(Operation.public_id, Operation.details).where(
    Operation.kind == OperationKind.MERCHANT_PAYMENT, Operation.status.in_(IN_FLIGHT),
    Operation.details["merchant_id"].as_string() == bindparam("merchant_id"),
    Operation.details["order_id"].as_string() == bindparam("order_id"))
_ORDER_PAID = select(MerchantOrder.id).where(MerchantOrder.acquirer == bindparam("acquirer"),
                                             MerchantOrder.merchant_id == bindparam("merchant_id"),
                                             MerchantOrder.order_id == bindparam("order_id"))
_LISTED_PAID = select(DirectoryOrderPaid.id).where(DirectoryOrderPaid.acquirer == bindparam("acquirer"),
                                                   DirectoryOrderPaid.merchant_id == bindparam("merchant_id"),
                                                   DirectoryOrderPaid.order_id == bindparam("order_id"))


def _order_in_flight(session: Session, acquirer: str, merchant_id: str, order_id: str) -> str | None:
    """The id of this node's payment of the order that is on its way, if any (one indexed query: every payment
    asks, and many may be on their way)."""
    rows = session.connection().execute(_ORDER_IN_FLIGHT, {"merchant_id": merchant_id, "order_id": order_id})
    return next((row.public_id for row in rows if row.details.get("acquirer", acquirer) == acquirer), None)


def _require_unpaid(session: Session, settings: NodeSettings, network: Network, acquirer: str, merchant_id: str,
                    order_id: str) -> None:
    """Refuse an order paid, or being paid through this node. The order is looked up in the node's view: this
    bank's merchants' orders, or the network's directory of paid orders (another bank's merchant); one paid after
    the view's checkpoint (through another bank) is the chain's to refuse, and the operation then fails with
    ``OrderAlreadyPaid``. A node that indexes its own bank only has no directory: the chain is asked."""
    keys = {"acquirer": acquirer, "merchant_id": merchant_id, "order_id": order_id}
    if acquirer == settings.bank_id:
        paid = session.connection().execute(_ORDER_PAID, keys).first() is not None
    elif network_indexed(session):
        paid = session.connection().execute(_LISTED_PAID, keys).first() is not None
    else:
        paid = bool(network.order(acquirer, merchant_id, order_id).paid_at)
    if paid:
        raise OrderAlreadyPaidError(f"order {order_id} of merchant {merchant_id} is paid already",
                                    merchant_id=merchant_id, order_id=order_id)
    pending = _order_in_flight(session, acquirer, merchant_id, order_id)
    if pending is not None:
        raise OrderAlreadyPaidError(f"a payment of order {order_id} is on its way ({pending})",
                                    merchant_id=merchant_id, order_id=order_id, operation=pending)


def create_payment_request(session: Session, settings: NodeSettings, network: Network, merchant_id: str, *,
                           order_id: str, amount_minor: int, expires_in: int = DEFAULT_REQUEST_TTL,
                           description: str = "", api_key_id: int | None = None
                           ) -> tuple[PaymentRequestRecord, bool]:
    """A payment request for an order (created False: the same request was made before and is returned).

    Raises:
        FlowNotFoundError / MerchantNotActiveError: the merchant.
        FlowValidationError: bad order id, amount, expiry or description.
        FlowConflictError: the order was requested with other details.
        OrderAlreadyPaidError: the order is paid.
    """
    merchant = get_merchant(session, merchant_id)
    _require_active(merchant)
    _identifier(order_id, "order_id")
    check_amount(amount_minor)
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or not 30 <= expires_in <= MAX_REQUEST_TTL:
        raise FlowValidationError("expires_in", f"a request is valid for 30 to {MAX_REQUEST_TTL} seconds")
    if len(description) > MAX_DESCRIPTION:
        raise FlowValidationError("description", f"a description is at most {MAX_DESCRIPTION} characters")
    existing = session.scalars(select(PaymentRequestRecord).where(
        PaymentRequestRecord.merchant_id == merchant_id, PaymentRequestRecord.order_id == order_id)).one_or_none()
    if existing is not None:
        if existing.amount_minor != amount_minor or existing.description != description:
            raise FlowConflictError(f"order {order_id} was requested with other details", order_id=order_id)
        return existing, False
    _require_unpaid(session, settings, network, settings.bank_id, merchant_id, order_id)
    record = _new_request(session, settings, network, merchant_id, order_id, amount_minor=amount_minor,
                          expires_at=network.now() + expires_in, description=description, api_key_id=api_key_id)
    return record, True


def _new_request(session: Session, settings: NodeSettings, network: Network, merchant_id: str, order_id: str, *,
                 amount_minor: int, expires_at: int, description: str,
                 api_key_id: int | None) -> PaymentRequestRecord:
    """Record the request of an order, its QR text signed by this bank's request signer."""
    row, _ = request_row(settings, network, request_signing_key(session, settings), merchant_id, order_id,
                         amount_minor=amount_minor, expires_at=expires_at, description=description,
                         api_key_id=api_key_id)
    record = PaymentRequestRecord(**row)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        raise FlowConflictError(f"order {order_id} is being requested by another request", order_id=order_id) from None
    return record


def request_row(settings: NodeSettings, network: Network, key: WalletKey, merchant_id: str, order_id: str, *,
                amount_minor: int, expires_at: int, description: str,
                api_key_id: int | None) -> tuple[dict[str, Any], PaymentRequest]:
    """The column values of an order's request, its QR text signed by ``key`` (this bank's request signer); and
    the request itself."""
    record = PaymentRequestRecord(merchant_id=merchant_id, order_id=order_id, amount_minor=amount_minor,
                                  currency=settings.currency, description=description, expires_at=expires_at,
                                  payload="", api_key_id=api_key_id, created_at=utcnow())
    request = payment_request(settings, network, key, record)
    return {"merchant_id": merchant_id, "order_id": order_id, "amount_minor": amount_minor,
            "currency": settings.currency, "description": description, "expires_at": expires_at,
            "payload": encode_payload(request), "api_key_id": api_key_id, "created_at": record.created_at}, request


def _find_request(session: Session, merchant_id: str, order_id: str) -> PaymentRequestRecord | None:
    return session.scalars(select(PaymentRequestRecord).where(
        PaymentRequestRecord.merchant_id == merchant_id, PaymentRequestRecord.order_id == order_id)).one_or_none()


def get_request(session: Session, merchant_id: str, order_id: str) -> PaymentRequestRecord:
    record = _find_request(session, merchant_id, order_id)
    if record is None:
        raise FlowNotFoundError(f"merchant {merchant_id} has no payment request for order {order_id!r}",
                                order_id=order_id)
    return record


def _paid_status(order: OrderInfo, request: PaymentRequestRecord | None) -> str:
    """What a paid order's chain record says, against the request: ``paid`` only for the amount requested."""
    if order.refunded == order.amount:
        return "refunded"
    if request is None:
        return "unrequested"
    if order.amount != request.amount_minor:
        return "underpaid" if order.amount < request.amount_minor else "overpaid"
    return "partially_refunded" if order.refunded else "paid"


def order_status(session: Session, settings: NodeSettings, network: Network, merchant_id: str,
                 order_id: str) -> OrderStatus:
    """An order's status (the SDK's OrderStatus, what the API serves), read from the chain (paid, refunded) and
    this node (requested, payment in flight).
    A payment of another amount than requested is ``underpaid`` or ``overpaid``, of an order never requested
    ``unrequested``: never ``paid`` (the contract refuses both; a wrong payment is voided, see
    :func:`void_order`)."""
    get_merchant(session, merchant_id)
    _identifier(order_id, "order_id")
    request = _find_request(session, merchant_id, order_id)
    order = network.order(settings.bank_id, merchant_id, order_id)
    pending = _order_in_flight(session, settings.bank_id, merchant_id, order_id)
    if order.paid_at:
        status = _paid_status(order, request)
    elif pending is not None:
        status = "pending"
    elif request is None:
        raise FlowNotFoundError(f"merchant {merchant_id} has no order {order_id!r}", order_id=order_id)
    else:
        status = "expired" if network.now() >= request.expires_at else "requested"
    amount_minor = request.amount_minor if request else order.amount or None

    def money(minor: int) -> Money:
        return Money(amount=minor, currency=settings.currency)

    return OrderStatus(merchant_id=merchant_id, order_id=order_id, status=status, paid=money(order.amount),
                       refunded=money(order.refunded), amount=None if amount_minor is None else money(amount_minor),
                       payer=order.payer if order.paid_at else None, paid_at=order.paid_at or None,
                       expires_at=request.expires_at if request else None, operation=pending)


# ------------------------------------------------------------------ payments


def _check_payment(session: Session, settings: NodeSettings, network: Network, auth: MerchantPayment,
                   now: int) -> tuple[str, str, str, str]:
    """The acquirer's, merchant's and order's text ids of a payment that may be relayed now, and the merchant's
    wallet."""
    acquirer, merchant_id, order_id = id_text(auth.acquirer), id_text(auth.merchant_id), id_text(auth.order_id)
    check_payment_terms(network, auth, now)
    wallet = _merchant_wallet(session, acquirer, merchant_id)
    if wallet is None:  # not active as the view shows it (or another bank's merchant): ask the chain
        info = network.merchant(auth.acquirer, merchant_id)
        if info.status is not MerchantStatus.ACTIVE:
            raise MerchantNotActiveError(f"merchant {merchant_id} of bank {acquirer} is {info.status.name.lower()}",
                                         merchant_id=merchant_id, acquirer=acquirer)
        wallet = info.wallet
    _require_unpaid(session, settings, network, acquirer, merchant_id, order_id)
    return acquirer, merchant_id, order_id, wallet


def check_payment_terms(network: Network, auth: MerchantPayment, now: int) -> None:
    """Refuse a payment to another settlement contract, or expired at ``now`` (chain time)."""
    if auth.settlement != network.addresses["MerchantSettlement"]:
        raise AuthorizationInvalidError("the payment is for another settlement contract")
    if now >= auth.valid_before:
        raise PaymentRequestExpiredError(f"the payment of order {id_text(auth.order_id)} expired at "
                                         f"{auth.valid_before} (chain time {now})", expires_at=auth.valid_before)


_ACTIVE_MERCHANT = select(ChainMerchant.wallet).where(
    ChainMerchant.acquirer == bindparam("acquirer"), ChainMerchant.merchant_id == bindparam("merchant_id"),
    ChainMerchant.status == "active")
_LISTED_MERCHANT = select(DirectoryMerchant.wallet).where(
    DirectoryMerchant.acquirer == bindparam("acquirer"), DirectoryMerchant.merchant_id == bindparam("merchant_id"),
    DirectoryMerchant.status == "active")
_LISTED_SIGNER = select(DirectoryRequestSigner.signer).where(DirectoryRequestSigner.bank_id == bindparam("bank"))


def _merchant_wallet(session: Session, acquirer: str, merchant_id: str) -> str | None:
    """The wallet of the merchant if the node's view shows it active (the indexer's merchants of this bank, or
    the network's directory for another bank's), else None."""
    own = session.connection().execute(_ACTIVE_MERCHANT, {"acquirer": acquirer, "merchant_id": merchant_id}).scalar()
    if own is not None:
        return str(own)
    listed = session.connection().execute(_LISTED_MERCHANT, {"acquirer": acquirer, "merchant_id": merchant_id})
    return listed.scalar()


def decode_payment(network: Network, text: str, now: int, *, ask_chain: bool = True,
                   signer_check: RequestSignerCheck | None = None) -> PaymentRequest | SignedAuthorization[Any]:
    """The payload, checked for this network; a request (or a payment's request signature) must be signed by
    its acquirer's request signer or an active operator, as ``signer_check`` says (by default the chain; else
    AuthorizationInvalidError: an edited amount or an order its acquirer never requested). Without ``ask_chain``
    who signed a request is not checked: the caller must not use its request signature."""
    domain = network.domain()
    check = (signer_check or network.is_request_signer) if ask_chain else None
    try:
        return decode_payload(text, chain_id=domain.chain_id, contract=domain.verifying_contract,
                              settlement=network.addresses["MerchantSettlement"], token_name=domain.name, now=now,
                              is_request_signer=check)
    except ExpiredAuthorizationError as exc:
        raise PaymentRequestExpiredError(str(exc)) from None
    except (PayloadError, AuthorizationError) as exc:
        raise AuthorizationInvalidError(str(exc)) from None


def _signer_check(session: Session, settings: NodeSettings, network: Network) -> RequestSignerCheck:
    """Who may sign a bank's payment requests, with no JSON-RPC call for a bank's registered signer: this bank's
    own once its registration is confirmed, another bank's as the network's directory shows it. Anyone else (an
    operator signing requests, a signer the view does not show yet) is asked of the chain."""
    own = _bank_bytes(settings)

    def is_request_signer(bank: bytes, signer: str) -> bool:
        if bytes(bank) == own:
            known = registered_signer(session)
        else:
            known = session.connection().execute(_LISTED_SIGNER, {"bank": id_text(bank)}).scalar()
        return signer == known or network.is_request_signer(bank, signer)

    return is_request_signer


def _payment_operation(session: Session, settings: NodeSettings, signed: SignedAuthorization[MerchantPayment], *,
                       acquirer: str, merchant_id: str, order_id: str, channel: str, api_key_id: int | None,
                       signed_by: str, merchant_wallet: str, screening: risk.Screening | None) -> Operation:
    """The payment's operation and its ``merchant_pay`` row; ``screening``: the payer's bank's risk verdict
    (None: the payer is another bank's, whose engine is not this one)."""
    values, row = payment_rows(settings, signed, acquirer=acquirer, merchant_id=merchant_id, order_id=order_id,
                               channel=channel, api_key_id=api_key_id, signed_by=signed_by,
                               merchant_wallet=merchant_wallet, attribution=session.info.get(ATTRIBUTION_INFO))
    if screening is not None:
        values["status"] = screening.status
    op = insert_new(session, Operation, values, unique=("public_id",))
    assert op is not None, "public ids are 128 random bits"
    if screening is None:
        enqueue(session, row["idempotency_key"], row["kind"], row["payload"])
    else:
        risk.admit(session, settings, screening, op, row["idempotency_key"], row["kind"], row["payload"])
    return op


def payment_rows(settings: NodeSettings, signed: SignedAuthorization[MerchantPayment], *, acquirer: str,
                 merchant_id: str, order_id: str, channel: str, api_key_id: int | None, signed_by: str,
                 merchant_wallet: str, attribution: Attribution | None = None
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The operation and the outbox row (``merchant_pay``) of a payment that passed its checks, as column values."""
    auth = signed.authorization
    values = operation_row(OperationKind.MERCHANT_PAYMENT, channel=channel, api_key_id=api_key_id,
                           attribution=attribution, wallet=auth.payer, counterparty=merchant_wallet,
                           amount_minor=auth.amount, currency=settings.currency,
                           details={"acquirer": acquirer, "merchant_id": merchant_id, "order_id": order_id,
                                    "valid_before": auth.valid_before, "signed_by": signed_by,
                                    "nonce": "0x" + auth.nonce.hex()})
    public_id = values["public_id"]
    return values, new_row(f"{public_id}:pay", "merchant_pay", {**merchant_pay_payload(signed), "operation": public_id})


def pay_request(session: Session, settings: NodeSettings, network: Network, *, payer: str, payload: str,
                channel: str, api_key_id: int | None = None, totp_code: str | None = None) -> Operation:
    """The payer's bank relays the payment of a merchant's request (app or teller). ``payload`` is the payer's
    signed MerchantPayment (``WALLETNET:1:PAY:...``), or, for a custodial payer, the merchant's request
    (``WALLETNET:1:REQUEST:...``), which the bank signs with the key it keeps.

    Raises:
        FlowNotFoundError, NotCustodianError, WalletFrozenError, WalletNotActiveError: the payer's wallet.
        AuthorizationInvalidError: a malformed or tampered payload, another chain, a payment signed by another
            wallet, or a request from a self-custody wallet (which must sign itself); a request (or a payment's
            request signature) not signed by its acquirer for exactly this amount, order and expiry (an edited
            amount, an order never requested), or a payment with no request signature.
        PaymentRequestExpiredError, MerchantNotActiveError, OrderAlreadyPaidError.
        InsufficientBalanceError / LimitExceededError / SecondFactorRequiredError / SecondFactorInvalidError.
    """
    found = custodied_wallet(session, network, settings, payer, from_view=True)
    now = chain_now(session)
    item = decode_payment(network, payload, now, signer_check=_signer_check(session, settings, network))
    if isinstance(item, PaymentRequest):
        if found.record.custody is not CustodyMode.CUSTODIAL:
            raise AuthorizationInvalidError("a self-custody wallet pays with its own signed payment (PAY payload)")
        if item.amount.currency not in (None, settings.currency):
            raise FlowValidationError("payload", f"the request is in {item.amount.currency}, not {settings.currency}")
        signed: SignedAuthorization[MerchantPayment] = item.to_payment(found.address).sign(
            custodial_key(settings, found.record), network.domain())
        signed_by = "bank"
    elif isinstance(item.authorization, MerchantPayment):
        if item.authorization.request_signature is None:
            raise AuthorizationInvalidError("the payment carries no request signature of the merchant's bank: "
                                            "pay the merchant's request (its QR code) as it was issued")
        check_authorization(item, network, signer=found.address, now=now)
        signed = item
        signed_by = "customer"
    else:
        raise AuthorizationInvalidError("the payload is neither a payment request nor a signed merchant payment")
    acquirer, merchant_id, order_id, merchant_wallet = _check_payment(session, settings, network,
                                                                      signed.authorization, now)
    check_outflow(session, network, found.address, signed.authorization.amount, now=now)
    screening = risk.screen(session, settings, risk.Payment(
        "merchant_payment", found.address, merchant_wallet, signed.authorization.amount, channel, signed_by, now),
        totp_code=totp_code, api_key_id=api_key_id)
    return _payment_operation(session, settings, signed, acquirer=acquirer, merchant_id=merchant_id,
                              order_id=order_id, channel=channel, api_key_id=api_key_id, signed_by=signed_by,
                              merchant_wallet=merchant_wallet, screening=screening)


def pos_payment(session: Session, settings: NodeSettings, network: Network, merchant_id: str, *, payload: str,
                amount_minor: int | None = None, channel: str = "merchant",
                api_key_id: int | None = None) -> Operation:
    """The acquirer relays a payment the customer presented at the merchant's POS (its signed MerchantPayment,
    ``WALLETNET:1:PAY:...``); the payer may be at any bank. The acquirer signs the request the payment answers
    only for an amount the merchant asked for: the request this bank issued for that order, or, for an order not
    requested yet, ``amount_minor`` as the POS names it (the node then issues the request). The request expires
    with the payment, which must not outlive a request issued before.

    Raises:
        FlowNotFoundError / MerchantNotActiveError: the merchant.
        FlowValidationError: a bad ``amount_minor``.
        AuthorizationInvalidError: malformed, tampered, for another merchant, bank or chain; the amount differs
            from the merchant's request for that order (or from ``amount_minor``); an order never requested and
            no amount named; a payment valid after its request expires.
        PaymentRequestExpiredError, OrderAlreadyPaidError, InsufficientBalanceError, LimitExceededError.
    """
    merchant = get_merchant(session, merchant_id, lock=True)
    _require_active(merchant)
    if amount_minor is not None:
        check_amount(amount_minor)
    now = chain_now(session)
    item = decode_payment(network, payload, now)
    if not isinstance(item, SignedAuthorization) or not isinstance(item.authorization, MerchantPayment):
        raise AuthorizationInvalidError("the payload is not a signed merchant payment (PAY)")
    auth = item.authorization
    check_for_merchant(settings, merchant_id, auth)
    acquirer, _, order_id, _ = _check_payment(session, settings, network, auth, now)
    request = _requested(session, merchant_id, order_id, auth, amount_minor)
    check_authorization(item, network, signer=auth.payer, now=now)
    _require_active_payer(session, network, auth.payer)
    check_outflow(session, network, auth.payer, auth.amount, now=now)
    screening = risk.screen(session, settings, risk.Payment(
        "merchant_payment", auth.payer, merchant.wallet, auth.amount, channel, "customer", now), totp_code=None,
        api_key_id=api_key_id, second_factor_asked=False) if _keeps(session, auth.payer) else None
    if request is None:  # the POS named the amount: this bank requests the order now
        _new_request(session, settings, network, merchant_id, order_id, amount_minor=auth.amount,
                     expires_at=auth.valid_before, description="", api_key_id=api_key_id)
    key = request_signing_key(session, settings)
    signed = replace(item, authorization=auth.with_request_signature(
        auth.request_terms().sign(key, network.settlement_domain())))
    return _payment_operation(session, settings, signed, acquirer=acquirer, merchant_id=merchant_id,
                              order_id=order_id, channel=channel, api_key_id=api_key_id, signed_by="customer",
                              merchant_wallet=merchant.wallet, screening=screening)


def _keeps(session: Session, wallet: str) -> bool:
    """Whether this bank keeps ``wallet`` (its risk rules judge only its own customers' payments)."""
    return session.scalars(select(WalletRecord.id).where(WalletRecord.address == wallet)).first() is not None


def check_for_merchant(settings: NodeSettings, merchant_id: str, auth: MerchantPayment) -> None:
    """Refuse a payment a POS of ``merchant_id`` hands in that pays another merchant, or another bank's."""
    if id_text(auth.merchant_id) != merchant_id or auth.acquirer != _bank_bytes(settings):
        raise AuthorizationInvalidError(f"the payment is for merchant {id_text(auth.merchant_id)} of bank "
                                        f"{id_text(auth.acquirer)}, not {merchant_id} of {settings.bank_id}")


def _require_active_payer(session: Session, network: Network, payer: str) -> None:
    """Refuse a payer whose wallet is not active: as the node's view shows it, or the chain if the view does not
    show it active (it may be behind)."""
    local = local_wallet(session, payer)
    if local is not None and local.status == "active":
        return
    status = network.wallet(payer).status
    if status is not WalletStatus.ACTIVE:
        raise AuthorizationInvalidError(f"the payer's wallet {payer} is {status.name.lower()}")


def _requested(session: Session, merchant_id: str, order_id: str, auth: MerchantPayment,
               amount_minor: int | None) -> PaymentRequestRecord | None:
    """The request a customer-presented payment answers (None: not requested yet, and the POS named its amount).

    Raises:
        AuthorizationInvalidError: the payment is not for what the merchant asked.
    """
    request = _find_request(session, merchant_id, order_id)
    check_requested(request, order_id, auth, amount_minor)
    return request


def check_requested(request: PaymentRequestRecord | Any | None, order_id: str, auth: MerchantPayment,
                    amount_minor: int | None) -> None:
    """:func:`_requested`'s checks, of the order's request (a record or a row of its columns; None: not requested).

    Raises:
        AuthorizationInvalidError: the payment is not for what the merchant asked.
    """
    asked = request.amount_minor if request is not None else amount_minor
    if asked is None:
        raise AuthorizationInvalidError(f"order {order_id} was not requested: name the amount the customer pays "
                                        "(or create the payment request first)", order_id=order_id)
    if auth.amount != asked or (amount_minor is not None and amount_minor != asked):
        raise AuthorizationInvalidError(f"the payment is of {auth.amount}, the merchant asked for {asked}",
                                        order_id=order_id, amount=auth.amount, requested=asked)
    if request is not None and auth.valid_before > request.expires_at:
        raise AuthorizationInvalidError(f"the payment is valid until {auth.valid_before}, after its request "
                                        f"expires ({request.expires_at})", order_id=order_id)


# ------------------------------------------------------------------ refunds


def _in_flight_of(session: Session, kind: OperationKind, merchant_id: str) -> list[Operation]:
    ops = session.scalars(select(Operation).where(Operation.kind == kind, Operation.status.in_(IN_FLIGHT)))
    return [op for op in ops if op.details.get("merchant_id") == merchant_id]


def refund(session: Session, settings: NodeSettings, network: Network, merchant_id: str, order_id: str, *,
           amount_minor: int, channel: str = "merchant", api_key_id: int | None = None) -> Operation:
    """Refund part or all of a paid order to its payer, out of the merchant's pending balance.

    Raises:
        FlowNotFoundError: the merchant, or an order not paid.
        RefundExceedsRefundableError: more than the order has left to refund (less refunds in flight), or more
            than the merchant has pending (settled money is refunded by other means).
        InvalidStateError: a settlement of the merchant is on its way.
    """
    merchant = get_merchant(session, merchant_id, lock=True)  # refunds and settlements of a merchant in turn
    _identifier(order_id, "order_id")
    check_amount(amount_minor)
    if _in_flight_of(session, OperationKind.SETTLEMENT, merchant_id):
        raise InvalidStateError(f"a settlement of merchant {merchant_id} is on its way; refund when it is final")
    order, refundable, refunds = _refundable(session, settings, network, merchant_id, order_id)
    if amount_minor > refundable:
        raise RefundExceedsRefundableError(f"order {order_id} has {refundable} left to refund", order_id=order_id,
                                           refundable=refundable)
    info = network.merchant(settings.bank_id, merchant_id)
    pending = info.pending_gross - info.pending_refunds - sum(op.amount_minor or 0 for op in refunds)
    if amount_minor > pending:
        raise RefundExceedsRefundableError(f"merchant {merchant_id} has {pending} pending; money already settled "
                                           "is refunded by other means", order_id=order_id, pending=pending)
    ref = new_ref("RFND")
    op = new_operation(session, OperationKind.MERCHANT_REFUND, channel=channel, api_key_id=api_key_id,
                       wallet=order.payer, counterparty=merchant.wallet, amount_minor=amount_minor,
                       currency=settings.currency, ref=ref, details={"merchant_id": merchant_id, "order_id": order_id})
    enqueue(session, f"{op.public_id}:refund", "refund_order", operation_payload(
        op, merchant_id=merchant_id, order_id=order_id, amount=amount_minor, ref=ref))
    return op


def _refundable(session: Session, settings: NodeSettings, network: Network, merchant_id: str,
                order_id: str) -> tuple[OrderInfo, int, list[Operation]]:
    """The order's chain record, what it has left to refund less the refunds on their way, and the merchant's
    refunds on their way (FlowNotFoundError if the order is not paid)."""
    order = network.order(settings.bank_id, merchant_id, order_id)
    if not order.paid_at:
        raise FlowNotFoundError(f"order {order_id} of merchant {merchant_id} is not paid", order_id=order_id)
    refunds = _in_flight_of(session, OperationKind.MERCHANT_REFUND, merchant_id)
    on_order = sum(op.amount_minor or 0 for op in refunds if op.details.get("order_id") == order_id)
    return order, order.amount - order.refunded - on_order, refunds


def void_order(session: Session, settings: NodeSettings, network: Network, merchant_id: str, order_id: str, *,
               channel: str = "merchant", api_key_id: int | None = None) -> Operation:
    """Undo a payment the merchant should not have taken (a wrong amount, an order it did not request, the wrong
    customer): refund everything the order has left to refund, to its payer. The order id stays used on chain
    (an order is paid once): sell again under a new order id.

    Raises:
        FlowNotFoundError: the merchant, or an order not paid.
        InvalidStateError: nothing left to refund (refunded already, or refunds on their way cover it), or a
            settlement is on its way.
        RefundExceedsRefundableError: the merchant has less pending than that (settled money is refunded by
            other means).
    """
    get_merchant(session, merchant_id, lock=True)
    _identifier(order_id, "order_id")
    _, left, _ = _refundable(session, settings, network, merchant_id, order_id)
    if left <= 0:
        raise InvalidStateError(f"order {order_id} has nothing left to refund", order_id=order_id)
    return refund(session, settings, network, merchant_id, order_id, amount_minor=left, channel=channel,
                  api_key_id=api_key_id)




# ------------------------------------------------------------------ settlement


def _settle(session: Session, settings: NodeSettings, merchant: Merchant, *, channel: str,
            api_key_id: int | None) -> Operation:
    ref = new_ref("STL")
    op = new_operation(session, OperationKind.SETTLEMENT, channel=channel, api_key_id=api_key_id,
                       wallet=merchant.wallet, currency=settings.currency, account=merchant.settlement_account,
                       ref=ref, ledger=settings.ledger_adapter,
                       details={"merchant_id": merchant.merchant_id, "payout_mode": merchant.payout_mode.value})
    enqueue(session, f"{op.public_id}:settle", "settle_merchant",
            operation_payload(op, merchant_id=merchant.merchant_id, ref=ref))
    return op


def settle(session: Session, settings: NodeSettings, merchant_id: str, *, channel: str = "merchant",
           api_key_id: int | None = None) -> tuple[Operation, bool]:
    """Settle everything the merchant has pending (created False: a settlement on its way is returned).

    Raises:
        FlowNotFoundError: the merchant. MerchantNotActiveError: its onboarding is not on chain (or failed).
    """
    merchant = get_merchant(session, merchant_id, lock=True)
    if merchant.state not in (MerchantState.ACTIVE, MerchantState.SUSPENDED):
        raise MerchantNotActiveError(f"merchant {merchant_id} is {merchant.state.value}", merchant_id=merchant_id)
    pending = _in_flight_of(session, OperationKind.SETTLEMENT, merchant_id)
    if pending:
        return pending[0], False
    return _settle(session, settings, merchant, channel=channel, api_key_id=api_key_id), True


def cutoff_moment(settings: NodeSettings, now: datetime) -> datetime | None:
    """The latest daily cut-off at or before ``now`` (UTC), or None if scheduled settlement is off."""
    if settings.settlement_cutoff is None:
        return None
    hours, minutes = (int(part) for part in settings.settlement_cutoff.split(":"))
    today = datetime.combine(now.date(), time(hours, minutes), tzinfo=now.tzinfo)
    return today if today <= now else today - timedelta(days=1)


def settle_due(sessions: sessionmaker[Session], settings: NodeSettings, *, now: datetime | None = None) -> int:
    """The daily settlement (a periodic job): after each cut-off, settle every merchant of this bank holding a
    payment made before that cut-off and not settled yet (as the indexer sees them). A settlement takes
    everything pending, so one per merchant and cut-off is enough. Returns how many settlements it started."""
    moment = now or utcnow()
    cutoff = cutoff_moment(settings, moment)
    if cutoff is None:
        return 0
    started = 0
    with transaction(sessions) as session:
        due = select(MerchantOrder.merchant_id).where(MerchantOrder.batch_id.is_(None),
                                                      MerchantOrder.paid_time < cutoff).distinct()
        merchants = session.scalars(select(Merchant).where(
            Merchant.merchant_id.in_(due), Merchant.state.in_((MerchantState.ACTIVE, MerchantState.SUSPENDED)))).all()
        for merchant in merchants:
            since = session.scalars(select(Operation.id).where(  # one since the cut-off, the indexer not there yet
                Operation.kind == OperationKind.SETTLEMENT, Operation.wallet == merchant.wallet,
                Operation.created_at >= cutoff, Operation.status != OperationStatus.FAILED).limit(1)).first()
            if since is not None or _in_flight_of(session, OperationKind.SETTLEMENT, merchant.merchant_id):
                continue
            locked = get_merchant(session, merchant.merchant_id, lock=True)
            _settle(session, settings, locked, channel="scheduler", api_key_id=None)
            started += 1
    return started
