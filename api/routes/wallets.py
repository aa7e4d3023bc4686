"""``/v1/wallets``: every route under it. Read a wallet; open one (counter, app, bulk); change its tier; freeze and
unfreeze it; bind a bank account; close it; enrol or reset its TOTP second factor; top it up from and redeem it to
its bound deposit account; read its history and its balance with limits; read its customer's notifications (list,
read marks, a Server-Sent Events stream).

Changes answer 202 with the operation; poll ``GET /v1/operations/{id}`` until it is final. The flows themselves
are in the node (:mod:`node.wallets`, :mod:`node.second_factor`, :mod:`node.funding`); the bodies and their
shaping in :mod:`api.schemas.wallets`, :mod:`api.schemas.second_factor` and :mod:`api.schemas.funding`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Final

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import customers
from api.attribution import Desk, DeskDep, record_actor
from api.auth import authenticate_request, require_scope
from api.common import (
    MAX_DB_INT,
    PAYING_WALLET_PROBLEMS,
    SECOND_FACTOR_PROBLEMS,
    SPENDING_PROBLEMS,
    AddressPath,
    Page,
    PageParamsDep,
    TotpCode,
    check_currency,
    paginate,
)
from api.deps import AppStateDep, NetworkDep, ReadSessionDep, SessionDep, SettingsDep
from api.idempotency import IdempotencyDep
from api.problems import (
    FieldError,
    ForbiddenError,
    NotFoundError,
    ProblemKind,
    UnauthorizedError,
    ValidationProblemError,
)
from api.routing import accepted, operation_route, route, streams
from api.schemas.funding import RedemptionIn, TopUpIn
from api.schemas.notifications import MarkReadIn, MarkReadOut, NotificationOut, notification_out
from api.schemas.operations import OperationOut
from api.schemas.second_factor import TotpEnrolmentOut, TotpResetIn, TotpResetOut
from api.schemas.wallets import (
    BindAccountIn,
    EnrolmentIn,
    EnrolmentOut,
    FreezeIn,
    HistoryItemOut,
    NoteIn,
    OpenWalletIn,
    TierIn,
    WalletBalanceOut,
    WalletOpeningOut,
    WalletOut,
    WalletRecordOut,
    balance_out,
    enrolment_out,
    history_item_out,
    opening_out,
    record_out,
    wallet_out,
)
from node.api_keys import Principal, Scope
from node.funding import service as funding
from node.indexer.models import WalletHistory
from node.notifications import service as notifications
from node.notifications.models import Notification
from node.second_factor import service as second_factor
from node.settings import NodeSettings
from node.wallets import bulk, history
from node.wallets import service as flows
from node.wallets.models import CustodyMode, find_wallet
from wallet_sdk.chain.network import to_address

router = APIRouter(prefix="/v1/wallets")  # each route names its tag: the document's tags predate this router

# Who may call: each alias lists its scopes in the order the OpenAPI document shows them (x-required-scopes).
WalletReader = Annotated[Principal, require_scope(Scope.TELLER, Scope.APP, Scope.ADMIN, Scope.REGULATOR)]
CustomerDesk = Annotated[Principal, require_scope(Scope.TELLER, Scope.APP)]
CustomerChannel = Annotated[Principal, require_scope(Scope.APP, Scope.TELLER)]
Enroller = Annotated[Principal, require_scope(Scope.ADMIN, Scope.TELLER)]
Administrator = Annotated[Principal, require_scope(Scope.TELLER, Scope.ADMIN)]
Teller = Annotated[Principal, require_scope(Scope.TELLER)]

_COMMON = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.IDEMPOTENCY_KEY_REUSED,
           ProblemKind.IDEMPOTENCY_KEY_IN_FLIGHT, ProblemKind.CHAIN_UNAVAILABLE)
_READ = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED,
         ProblemKind.NOT_FOUND, ProblemKind.CHAIN_UNAVAILABLE)
_ON_WALLET = (*_COMMON, ProblemKind.NOT_FOUND, ProblemKind.WALLET_NOT_CUSTODIED_HERE, ProblemKind.INVALID_STATE)
_MONEY_MOVE = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED,
               ProblemKind.NOT_FOUND, *PAYING_WALLET_PROBLEMS, ProblemKind.ACCOUNT_NOT_BOUND, *SECOND_FACTOR_PROBLEMS,
               ProblemKind.IDEMPOTENCY_KEY_REUSED, ProblemKind.CHAIN_UNAVAILABLE)
_CODE_PROBLEMS = (ProblemKind.SECOND_FACTOR_REQUIRED, ProblemKind.SECOND_FACTOR_INVALID,
                  ProblemKind.SECOND_FACTOR_LOCKED)
"""What checking a customer's TOTP code may answer (besides ``second-factor-cooling-off`` above the threshold)."""


def _actor(key: Principal, *scopes: Scope) -> flows.Actor:
    """The operation's channel: the first of ``scopes`` the key has (the route admitted it for one of them)."""
    channel = next(s for s in scopes if s in key.scope_set)
    return flows.Actor(channel.value, key.id)


def _acting(session: Session, key: Principal, desk: Desk, *scopes: Scope, moves_money: bool = False) -> flows.Actor:
    """:func:`_actor`, with who asks recorded on the operations the request makes (api/attribution.py)."""
    actor = _actor(key, *scopes)
    record_actor(session, key, desk, channel=actor.channel, moves_money=moves_money)
    return actor


def _opening_channel(key: Principal, requested: str | None) -> flows.Channel:
    held = [s for s in (Scope.TELLER, Scope.APP) if s in key.scope_set]
    if requested is not None:
        if Scope(requested) not in held:
            raise ForbiddenError(f"this key may not open wallets in the {requested} channel",
                                 required_scopes=[requested])
        return flows.Channel(requested)
    if len(held) > 1:
        raise ValidationProblemError("the key has the teller and the app scope: say which channel opens the wallet",
                                     errors=[FieldError(loc=["body", "channel"], msg="required for this key",
                                                        type="missing")])
    return flows.Channel(held[0].value)


def _opened_here(session: Session, address: str) -> str:
    """The checksummed ``address`` of a wallet this bank opened (its second factor is the bank's to keep)."""
    wallet = to_address(address, "address")
    if find_wallet(session, wallet) is None:
        raise NotFoundError(f"this bank opened no wallet at {wallet}", address=wallet)
    return wallet


# ------------------------------------------------------------------ the wallet and its changes


@route(router, "GET", "/{address}", "A wallet's record and balance", *_READ, response_model=WalletOut, tags=["wallets"])
def get_wallet(address: AddressPath, key: WalletReader, session: ReadSessionDep, network: NetworkDep,
               settings: SettingsDep) -> WalletOut:
    """The wallet's custodian bank, tier, status and spendable balance, read from the chain (a customer session:
    its own customer's wallets only)."""
    customers.own_wallet(session, settings, key, address)
    return wallet_out(history.registered_wallet(network, address), settings.currency)


@route(router, "GET", "/{address}/record", "This bank's record of a wallet it opened", *_READ,
       ProblemKind.WALLET_NOT_CUSTODIED_HERE, response_model=WalletRecordOut, tags=["wallets"])
def get_wallet_record(address: AddressPath, key: WalletReader, session: ReadSessionDep, network: NetworkDep,
                      settings: SettingsDep) -> WalletRecordOut:
    """Customer, channel, verification, tier, custody, state and bound account, as this bank recorded them."""
    customers.own_wallet(session, settings, key, address)
    return record_out(flows.wallet_record(session, settings, network, address))


@route(router, "POST", "", "Open a wallet (counter or app)", *_COMMON, ProblemKind.CONFLICT,
       ProblemKind.CUSTOMER_SESSION_REQUIRED, status_code=202, response_model=WalletOpeningOut, tags=["wallets"])
def open_wallet(body: OpenWalletIn, key: CustomerDesk, desk: DeskDep, idem: IdempotencyDep, session: SessionDep,
                settings: SettingsDep, network: NetworkDep) -> WalletOpeningOut:
    """At the counter (teller key) after an in-person identity check: tier 1. In the app (app key): a verified
    deposit account of this bank (bound to the wallet): tier 2; an identity document: tier 3; a phone number
    only: tier 4. ``custodial``: the bank makes and keeps the key; ``self``: the customer's app registers its
    address (in the app with ``proof``, the key's signature). One wallet per customer and channel: opening again
    returns it (``created`` false). The wallet is usable once the operation is completed. A customer session
    opens wallets for its own customer only."""
    customers.own_customer(settings, key, body.customer_ref)
    channel = _opening_channel(key, body.channel)
    record_actor(session, key, desk, channel=channel.value)
    request = flows.OpeningRequest(customer_ref=body.customer_ref, verification=body.verification, channel=channel,
                                   custody=CustodyMode(body.custody), address=body.address, proof=body.proof,
                                   phone=body.phone, account=body.account)
    opening = flows.open_wallet(session, settings, network, request, actor=flows.Actor(channel.value, key.id))
    out = opening_out(opening)
    idem.complete(session, out, status=202)
    return out


@route(router, "POST", "/enrolments", "Enrol existing customers in bulk", *_COMMON, response_model=EnrolmentOut,
       tags=["wallets"])
def enrol_wallets(body: EnrolmentIn, key: Enroller, desk: DeskDep, idem: IdempotencyDep, session: SessionDep,
                  settings: SettingsDep, network: NetworkDep) -> EnrolmentOut:
    """Open wallets for up to 500 existing customers (a chunk of the enrolment CSV). Each row is checked and
    opened on its own: the answer has one result per row, in order: ``opened``, ``existing`` (the customer
    was enrolled before: same wallet) or ``failed`` with the problem it would be alone. Sending rows again is
    harmless, so an interrupted enrolment is resumed by sending the rest (``walletnet wallets enrol``)."""
    rows = [row.model_dump() for row in body.rows]
    actor = _acting(session, key, desk, Scope.TELLER, Scope.ADMIN)
    outcomes = bulk.enrol(session, settings, network, rows, actor=actor)
    out = enrolment_out(outcomes)
    idem.complete(session, out, status=200)
    return out


@operation_route(router, "/{address}/tier", "Upgrade or downgrade a wallet's tier", *_ON_WALLET, tags=["wallets"])
def change_wallet_tier(address: AddressPath, body: TierIn, key: Administrator, desk: DeskDep, idem: IdempotencyDep,
                       session: SessionDep, settings: SettingsDep, network: NetworkDep) -> OperationOut:
    """Set the wallet's tier (1..4), e.g. after a further identity check; its limits change with it."""
    actor = _acting(session, key, desk, Scope.TELLER, Scope.ADMIN)
    op = flows.change_tier(session, settings, network, address, body.tier, reason=body.reason, actor=actor)
    return accepted(idem, session, op)


@operation_route(router, "/{address}/freeze", "Freeze a wallet with a reason code", *_ON_WALLET, tags=["wallets"])
def freeze_wallet(address: AddressPath, body: FreezeIn, key: Administrator, desk: DeskDep, idem: IdempotencyDep,
                  session: SessionDep, settings: SettingsDep, network: NetworkDep) -> OperationOut:
    """Freeze an active wallet: it can neither send nor receive. The reason code is kept on chain and in the
    bank's record."""
    actor = _acting(session, key, desk, Scope.TELLER, Scope.ADMIN)
    op = flows.freeze(session, settings, network, address, body.reason, note=body.note, actor=actor)
    return accepted(idem, session, op)


@operation_route(router, "/{address}/unfreeze", "Lift the bank's freeze of a wallet", *_ON_WALLET, tags=["wallets"])
def unfreeze_wallet(address: AddressPath, key: Administrator, desk: DeskDep, idem: IdempotencyDep,
                    session: SessionDep, settings: SettingsDep, network: NetworkDep,
                    body: NoteIn | None = None) -> OperationOut:
    """Make a wallet the bank froze active again (a regulator's freeze is lifted by the regulator only)."""
    actor = _acting(session, key, desk, Scope.TELLER, Scope.ADMIN)
    op = flows.unfreeze(session, settings, network, address, note=body.note if body else None, actor=actor)
    return accepted(idem, session, op)


@operation_route(router, "/{address}/account", "Bind a bank account to a wallet", *_ON_WALLET,
                 ProblemKind.CUSTOMER_SESSION_REQUIRED, tags=["wallets"])
def bind_wallet_account(address: AddressPath, body: BindAccountIn, key: CustomerDesk, desk: DeskDep,
                        idem: IdempotencyDep, session: SessionDep, settings: SettingsDep,
                        network: NetworkDep) -> OperationOut:
    """Bind a deposit account of this bank to the wallet: redemptions and the closure pay out to it. The chain
    keeps a salted hash of the account code; the code and salt stay with the bank."""
    customers.own_wallet(session, settings, key, address)
    actor = _acting(session, key, desk, Scope.TELLER, Scope.APP)
    op = flows.bind_account(session, settings, network, address, body.account, actor=actor)
    return accepted(idem, session, op)


@operation_route(router, "/{address}/close", "Close a wallet, paying its balance out to the bound account", *_ON_WALLET,
                 ProblemKind.CUSTOMER_SESSION_REQUIRED, ProblemKind.ACCOUNT_NOT_BOUND, *SECOND_FACTOR_PROBLEMS,
                 tags=["wallets"])
def close_wallet(address: AddressPath, key: CustomerDesk, desk: DeskDep, idem: IdempotencyDep, session: SessionDep,
                 settings: SettingsDep, network: NetworkDep, totp: TotpCode = None) -> OperationOut:
    """Close the wallet for good: the chain burns its whole balance and the bank credits it to the bound
    account (``amount`` of the completed operation). Refused while money is on hold or another operation on
    the wallet is in flight, and without a bound account when there is a balance. A balance above the bank's
    second-factor threshold needs the customer's code in ``X-TOTP-Code``; a teller names the branch and
    operator (``X-Teller-Branch``, ``X-Teller-Operator``)."""
    customers.own_wallet(session, settings, key, address)
    actor = _acting(session, key, desk, Scope.TELLER, Scope.APP, moves_money=True)
    op = flows.close_wallet(session, settings, network, address, totp=totp, actor=actor)
    return accepted(idem, session, op)


# ------------------------------------------------------------------ its second factor (TOTP)


@route(router, "POST", "/{address}/totp",
       "Enrol a TOTP authenticator for a wallet, or replace it with the current code", ProblemKind.UNAUTHORIZED,
       ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED, ProblemKind.NOT_FOUND,
       ProblemKind.IDEMPOTENCY_KEY_REUSED, *_CODE_PROBLEMS, status_code=201, response_model=TotpEnrolmentOut,
       tags=["second factor"])
def enrol_totp(address: AddressPath, key: CustomerDesk, session: SessionDep, settings: SettingsDep,
               idem: IdempotencyDep, totp: TotpCode = None) -> TotpEnrolmentOut:
    """Make a new TOTP secret for the wallet's customer. Operations above the bank's threshold then need the
    current code in the ``X-TOTP-Code`` header.

    A wallet that has an authenticator already keeps it unless the request carries its current code in
    ``X-TOTP-Code`` (``second-factor-required`` without one; a wrong code counts towards the lock-out like any
    other). A customer who lost the authenticator asks a teller for a reset (``POST .../totp/reset``). The
    customer sees the change as a notice in the wallet's history (``totp_enrolled`` / ``totp_changed``)."""
    customers.own_wallet(session, settings, key, address)
    wallet = _opened_here(session, address)
    enrolment = second_factor.enrol(session, settings, wallet, code=totp, api_key_id=key.id)
    out = TotpEnrolmentOut(wallet=wallet, secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri)
    idem.complete(session, out, status=201)
    return out


@route(router, "POST", "/{address}/totp/reset",
       "Reset a wallet's TOTP authenticator in person (teller), with a cooling-off", ProblemKind.UNAUTHORIZED,
       ProblemKind.FORBIDDEN, ProblemKind.NOT_FOUND, ProblemKind.INVALID_STATE, ProblemKind.IDEMPOTENCY_KEY_REUSED,
       status_code=201, response_model=TotpResetOut, tags=["second factor"])
def reset_totp(address: AddressPath, body: TotpResetIn, key: Teller, session: SessionDep, settings: SettingsDep,
               idem: IdempotencyDep) -> TotpResetOut:
    """A teller replaces the TOTP secret of a customer who lost the authenticator, after checking the customer's
    identity in person; no code is needed (``409 invalid-state`` for a wallet without one: enrol instead).

    The reset is recorded with the teller's API key, ``branch_id``, ``operator_id`` and ``reason``; wrong codes
    and a lock-out are forgotten; and until ``cooling_off_until`` (the node's
    ``second_factor_reset_cooling_off``, 24 h by default) operations above the second-factor threshold are refused
    with ``second-factor-cooling-off``, whatever the code; smaller ones go on. The customer sees a ``totp_reset``
    notice in the wallet's history."""
    wallet = _opened_here(session, address)
    teller = second_factor.TellerReset(api_key_id=key.id, branch_id=body.branch_id, operator_id=body.operator_id,
                                       reason=body.reason)
    enrolment = second_factor.reset(session, settings, wallet, teller)
    assert enrolment.cooling_off_until is not None
    out = TotpResetOut(wallet=wallet, secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri,
                       cooling_off_until=enrolment.cooling_off_until)
    idem.complete(session, out, status=201)
    return out


# ------------------------------------------------------------------ money in and out: top-ups and redemptions


@operation_route(router, "/{address}/topups", "Top up a wallet from its bound deposit account", *_MONEY_MOVE,
                 ProblemKind.INSUFFICIENT_FUNDS, tags=["funding"])
def top_up(address: AddressPath, body: TopUpIn, key: CustomerChannel, desk: DeskDep, idem: IdempotencyDep,
           session: SessionDep, settings: SettingsDep, network: NetworkDep, totp: TotpCode = None) -> OperationOut:
    """Hold `amount` on the wallet's bound deposit account and mint it into the wallet. The answer is the
    `topup` operation, `pending`; once the mint is confirmed the hold is captured and the operation is
    `completed`. If the chain refuses the mint (e.g. the tier's balance cap), the hold is released and the
    operation is `failed` with the contract's reason (`details.reason`). Above the bank's second-factor
    threshold the customer's TOTP code goes in `X-TOTP-Code`."""
    check_currency(body.currency, settings)
    channel = customers.money_move(session, settings, key, desk, address)
    op = funding.top_up(session, settings, network, wallet=address, amount_minor=body.amount, channel=channel,
                        api_key_id=key.id, totp_code=totp)
    return accepted(idem, session, op)


@operation_route(router, "/{address}/redemptions", "Redeem wallet money to the bound deposit account", *_MONEY_MOVE,
                 *SPENDING_PROBLEMS, tags=["funding"])
def redeem(address: AddressPath, body: RedemptionIn, key: CustomerChannel, desk: DeskDep, idem: IdempotencyDep,
           session: SessionDep, settings: SettingsDep, network: NetworkDep, totp: TotpCode = None) -> OperationOut:
    """Burn `amount` from the wallet and credit the bound deposit account once the burn is confirmed.

    A self-custody wallet's app sends the customer's signed Redemption (`authorization` as fields, or
    `payload` as its QR text); the bank checks it first (the wallet's signature, this chain and token, not
    expired, value = amount, nonce unused) and answers `authorization-invalid` otherwise. For a custodial
    wallet the bank signs. The wallet's spendable balance and tier limits are checked at once
    (`insufficient-balance`, `limit-exceeded`)."""
    check_currency(body.currency, settings)
    channel = customers.money_move(session, settings, key, desk, address)
    signed = None
    if body.authorization is not None:
        a = body.authorization
        signed = funding.signed_redemption(network, holder=a.holder, value=a.value, valid_before=a.valid_before,
                                           nonce=bytes.fromhex(a.nonce[2:]), v=a.v, r=bytes.fromhex(a.r[2:]),
                                           s=bytes.fromhex(a.s[2:]))
    elif body.payload is not None:
        signed = funding.decode_redemption(network, body.payload)
    op = funding.redeem(session, settings, network, wallet=address, amount_minor=body.amount, signed=signed,
                        channel=channel, api_key_id=key.id, totp_code=totp)
    return accepted(idem, session, op)


# ------------------------------------------------------------------ its history and balance


@route(router, "GET", "/{address}/history", "A wallet's history", ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN,
       ProblemKind.CUSTOMER_SESSION_REQUIRED, ProblemKind.NOT_FOUND, ProblemKind.WALLET_NOT_CUSTODIED_HERE,
       response_model=Page[HistoryItemOut], tags=["transfers"])
def get_history(address: AddressPath, key: WalletReader, session: ReadSessionDep, settings: SettingsDep,
                page: PageParamsDep) -> Page[HistoryItemOut]:
    """The wallet's transactions as the bank's indexer saw them on chain, oldest first (cursor-paginated):
    transfers in and out (with the counterparty), mints and burns (with their ref), and ATM holds. Each event
    appears once. Among them, in the order the bank wrote them, the bank's notices to the customer about the
    wallet's second factor (``totp_enrolled``, ``totp_changed``, ``totp_reset``, ``totp_locked``; with a
    ``note``, no block or transaction, no effect on the balance). The bank shows its own customers' wallets (a
    customer session: its customer's); the regulator any wallet."""
    customers.own_wallet(session, settings, key, address)
    wallet = history.readable_history(session, settings, address, any_bank=Scope.REGULATOR in key.scope_set)
    rows, next_cursor = paginate(session, history.history_query(wallet), WalletHistory.id, page)
    return Page[HistoryItemOut](items=[history_item_out(r) for r in rows], next_cursor=next_cursor)


@route(router, "GET", "/{address}/balance", "A wallet's balance, limits and what is left of today's limit",
       ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED, ProblemKind.NOT_FOUND,
       ProblemKind.WALLET_NOT_CUSTODIED_HERE, ProblemKind.CHAIN_UNAVAILABLE, response_model=WalletBalanceOut,
       tags=["transfers"])
def get_balance(address: AddressPath, key: WalletReader, session: ReadSessionDep, settings: SettingsDep,
                network: NetworkDep) -> WalletBalanceOut:
    """Spendable and held balance, the tier's limits (balance cap, single payment, daily outflow) and what the
    daily limit still allows today, read from the chain at one block. The bank shows its own customers'
    wallets (a customer session: its customer's); the regulator any wallet."""
    customers.own_wallet(session, settings, key, address)
    balance = history.wallet_balance(network, settings, address, any_bank=Scope.REGULATOR in key.scope_set)
    return balance_out(balance)


# ------------------------------------------------------------------ its notifications

_NOTIFICATION_READ = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED,
                      ProblemKind.NOT_FOUND, ProblemKind.WALLET_NOT_CUSTODIED_HERE)
STREAM_BATCH: Final = 100  # notifications a stream reads at a time


def _notified_wallet(session: Session, settings: NodeSettings, key: Principal, address: str) -> tuple[str, str]:
    """The checksummed wallet whose notifications ``key`` may see (as its history), and its customer's language."""
    customers.own_wallet(session, settings, key, address)
    wallet = history.readable_history(session, settings, address, any_bank=Scope.REGULATOR in key.scope_set)
    record = find_wallet(session, wallet)
    return wallet, notifications.language_of(session, record.customer_ref if record is not None else None)


@route(router, "GET", "/{address}/notifications", "A wallet's notifications", *_NOTIFICATION_READ,
       response_model=Page[NotificationOut], tags=["notifications"])
def list_notifications(address: AddressPath, key: WalletReader, session: ReadSessionDep, settings: SettingsDep,
                       page: PageParamsDep,
                       unread: Annotated[bool | None, Query(description="true: unread only; false: read only")] = None,
                       ) -> Page[NotificationOut]:
    """The notifications of the wallet's customer about it, oldest first (cursor-paginated), each with its stable
    `type`, its `params` and its `text` in the customer's language. The bank shows its own customers' wallets (a
    customer session: its customer's); the regulator any wallet this bank keeps."""
    wallet, language = _notified_wallet(session, settings, key, address)
    rows, next_cursor = paginate(session, notifications.notifications_query(wallet, unread=unread), Notification.id,
                                 page)
    return Page[NotificationOut](items=[notification_out(r, language) for r in rows], next_cursor=next_cursor)


@route(router, "POST", "/{address}/notifications/read", "Mark a wallet's notifications read", *_NOTIFICATION_READ,
       ProblemKind.VALIDATION, response_model=MarkReadOut, tags=["notifications"])
def mark_notifications_read(address: AddressPath, body: MarkReadIn, key: CustomerDesk, session: SessionDep,
                            settings: SettingsDep) -> MarkReadOut:
    """Mark the wallet's notifications read: every one up to `up_to` (inclusive), and those in `ids`. Marking a
    read one again changes nothing, so the request is safe to repeat (no Idempotency-Key)."""
    wallet, _language = _notified_wallet(session, settings, key, address)
    return MarkReadOut(marked=notifications.mark_read(session, wallet, up_to=body.up_to, ids=body.ids))


@dataclass(frozen=True)
class _Stream:
    wallet: str
    language: str
    after: int  # the last notification id the client has


def _stream_start(address: AddressPath, key: WalletReader, session: ReadSessionDep, settings: SettingsDep,
                  last_event_id: Annotated[str | None, Header(
                      alias="Last-Event-ID", description="the id of the last event received: the stream goes on "
                                                         "after it; without it, it sends only what comes next")] = None,
                  ) -> _Stream:
    wallet, language = _notified_wallet(session, settings, key, address)
    if last_event_id is not None and last_event_id.strip():
        text = last_event_id.strip()
        if not text.isdigit() or int(text) > MAX_DB_INT:
            raise ValidationProblemError("Last-Event-ID is the id of a notification this stream sent", errors=[
                FieldError(loc=["header", "Last-Event-ID"], msg="not a notification id", type="int_parsing")])
        return _Stream(wallet, language, int(text))
    newest = session.scalar(select(func.max(Notification.id)).where(Notification.wallet == wallet))
    return _Stream(wallet, language, int(newest or 0))


def _sse(row: Notification, language: str) -> bytes:
    data = notification_out(row, language).model_dump_json()
    return f"id: {row.id}\nevent: notification\ndata: {data}\n\n".encode()


@route(router, "GET", "/{address}/notifications/stream", "A wallet's notifications as they come (Server-Sent Events)",
       *_NOTIFICATION_READ, ProblemKind.VALIDATION, ProblemKind.SERVICE_UNAVAILABLE, response_class=StreamingResponse,
       tags=["notifications"],
       responses={200: {"description": "an event stream: each event's `id` is the notification's id, its `data` the "
                                       "notification as the list shows it; a comment line every "
                                       "`notification_heartbeat` seconds while nothing happens",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
@streams
async def stream_notifications(start: Annotated[_Stream, Depends(_stream_start)], state: AppStateDep,
                               request: Request) -> StreamingResponse:
    """The wallet's notifications as Server-Sent Events, as they are made: after the one named by `Last-Event-ID`
    (a client that reconnects, even to another node process, misses none and gets none twice), or from now on.
    Idle, a `: heartbeat` comment comes every `notification_heartbeat` seconds (15). Who may see it as for the
    list. The stream takes no turn of the node's in-flight limit (api/admission.py); an API process serves at most
    `notification_streams_max` streams (503 beyond). Its credential is checked again at every heartbeat: the
    stream ends once the key or customer session is revoked or expired."""
    heartbeat = state.settings.notification_heartbeat
    headers = dict(request.headers)
    hub = state.stream_hub
    hub.check_room()  # before the response starts, so that a refusal is a 503 problem

    def still_valid() -> bool:
        try:
            authenticate_request(state, headers)  # a fresh look-up, not the cache
        except UnauthorizedError:
            return False
        return True

    def newer(after: int) -> list[tuple[int, bytes]]:
        with state.read_sessions.begin() as session:
            return [(row.id, _sse(row, start.language))
                    for row in notifications.newer_than(session, start.wallet, after, limit=STREAM_BATCH)]

    async def events() -> AsyncIterator[bytes]:
        after, quiet_since = start.after, time.monotonic()
        checked = quiet_since
        subscription = hub.join(start.wallet)  # here, so that the finally below always leaves it
        try:
            yield b"retry: 1000\n: connected\n\n"
            while True:
                if time.monotonic() - checked >= heartbeat:
                    if not await anyio.to_thread.run_sync(still_valid):
                        return
                    checked = time.monotonic()
                subscription.arm()  # news made from here on wakes the wait below
                sent = await anyio.to_thread.run_sync(newer, after)
                for notification_id, event in sent:
                    yield event
                    after = notification_id
                if sent:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since >= heartbeat:
                    yield b": heartbeat\n\n"
                    quiet_since = time.monotonic()
                if len(sent) < STREAM_BATCH:  # a full batch: more are waiting, send them at once
                    now = time.monotonic()
                    await subscription.wait(max(0.0, min(quiet_since, checked) + heartbeat - now))
        finally:
            subscription.close()

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
