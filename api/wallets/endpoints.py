"""``/v1/wallets``: read a wallet; open one (counter, app, bulk); change its tier; freeze and unfreeze it; bind a
bank account; close it. Changes answer 202 with the operation; poll ``GET /v1/operations/{id}`` until it is final.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy.orm import Session

from api import customers
from api.attribution import Desk, DeskDep, record_actor
from api.auth import require_scope
from api.deps import NetworkDep, ReadSessionDep, SessionDep, SettingsDep
from api.idempotency import IdempotencyDep
from api.keys import Principal, Scope
from api.operations.schemas import OperationOut, operation_out
from api.problems import FieldError, ForbiddenError, ProblemKind, ValidationProblemError, problem_responses
from api.second_factor import SECOND_FACTOR_PROBLEMS, TotpCode
from api.wallets import service
from api.wallets.schemas import (
    BindAccountIn,
    EnrolmentIn,
    EnrolmentOut,
    FreezeIn,
    NoteIn,
    OpenWalletIn,
    TierIn,
    WalletOut,
    WalletRecordOut,
)
from api.wallets.service import WalletOpeningOut
from node.wallets import service as flows
from node.wallets.models import CustodyMode

router = APIRouter(prefix="/v1/wallets", tags=["wallets"])

WalletReader = Annotated[Principal, require_scope(Scope.TELLER, Scope.APP, Scope.ADMIN, Scope.REGULATOR)]
Opener = Annotated[Principal, require_scope(Scope.TELLER, Scope.APP)]
Enroller = Annotated[Principal, require_scope(Scope.ADMIN, Scope.TELLER)]
Administrator = Annotated[Principal, require_scope(Scope.TELLER, Scope.ADMIN)]
CustomerDesk = Annotated[Principal, require_scope(Scope.TELLER, Scope.APP)]
AddressPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="the wallet's 0x address",
                                  examples=["0x" + "ab" * 20])]

_COMMON = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.IDEMPOTENCY_KEY_REUSED,
           ProblemKind.IDEMPOTENCY_KEY_IN_FLIGHT, ProblemKind.CHAIN_UNAVAILABLE)
_READ = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED,
         ProblemKind.NOT_FOUND, ProblemKind.CHAIN_UNAVAILABLE)
_ON_WALLET = (*_COMMON, ProblemKind.NOT_FOUND, ProblemKind.WALLET_NOT_CUSTODIED_HERE, ProblemKind.INVALID_STATE)


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


@router.get(
    "/{address}",
    operation_id="get_wallet",
    summary="A wallet's record and balance",
    response_model=WalletOut,
    responses=problem_responses(*_READ),
)
def get_wallet(address: AddressPath, key: WalletReader, session: ReadSessionDep, network: NetworkDep,
               settings: SettingsDep) -> WalletOut:
    """The wallet's custodian bank, tier, status and spendable balance, read from the chain (a customer session:
    its own customer's wallets only)."""
    customers.own_wallet(session, settings, key, address)
    return service.get_wallet(network, address, currency=settings.currency)


@router.get(
    "/{address}/record",
    operation_id="get_wallet_record",
    summary="This bank's record of a wallet it opened",
    response_model=WalletRecordOut,
    responses=problem_responses(*_READ, ProblemKind.WALLET_NOT_CUSTODIED_HERE),
)
def get_wallet_record(address: AddressPath, key: WalletReader, session: ReadSessionDep, network: NetworkDep,
                      settings: SettingsDep) -> WalletRecordOut:
    """Customer, channel, verification, tier, custody, state and bound account, as this bank recorded them."""
    customers.own_wallet(session, settings, key, address)
    return service.record_out(flows.wallet_record(session, settings, network, address))


@router.post(
    "",
    operation_id="open_wallet",
    summary="Open a wallet (counter or app)",
    status_code=202,
    response_model=WalletOpeningOut,
    responses=problem_responses(*_COMMON, ProblemKind.CONFLICT, ProblemKind.CUSTOMER_SESSION_REQUIRED),
)
def open_wallet(body: OpenWalletIn, key: Opener, desk: DeskDep, idem: IdempotencyDep, session: SessionDep,
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
    out = service.opening_out(opening)
    idem.complete(session, out, status=202)
    return out


@router.post(
    "/enrolments",
    operation_id="enrol_wallets",
    summary="Enrol existing customers in bulk",
    response_model=EnrolmentOut,
    responses=problem_responses(*_COMMON),
)
def enrol_wallets(body: EnrolmentIn, key: Enroller, desk: DeskDep, idem: IdempotencyDep, session: SessionDep,
                  settings: SettingsDep, network: NetworkDep) -> EnrolmentOut:
    """Open wallets for up to 500 existing customers (a chunk of the enrolment CSV). Each row is checked and
    opened on its own: the answer has one result per row, in order: ``opened``, ``existing`` (the customer
    was enrolled before: same wallet) or ``failed`` with the problem it would be alone. Sending rows again is
    harmless, so an interrupted enrolment is resumed by sending the rest (``walletnet wallets enrol``)."""
    rows = [row.model_dump() for row in body.rows]
    actor = _acting(session, key, desk, Scope.TELLER, Scope.ADMIN)
    outcomes = flows.enrol(session, settings, network, rows, actor=actor)
    out = service.enrolment_out(outcomes)
    idem.complete(session, out, status=200)
    return out


@router.post(
    "/{address}/tier",
    operation_id="change_wallet_tier",
    summary="Upgrade or downgrade a wallet's tier",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_ON_WALLET),
)
def change_tier(address: AddressPath, body: TierIn, key: Administrator, desk: DeskDep, idem: IdempotencyDep,
                session: SessionDep, settings: SettingsDep, network: NetworkDep) -> OperationOut:
    """Set the wallet's tier (1..4), e.g. after a further identity check; its limits change with it."""
    actor = _acting(session, key, desk, Scope.TELLER, Scope.ADMIN)
    op = flows.change_tier(session, settings, network, address, body.tier, reason=body.reason, actor=actor)
    out = operation_out(op)
    idem.complete(session, out, status=202)
    return out


@router.post(
    "/{address}/freeze",
    operation_id="freeze_wallet",
    summary="Freeze a wallet with a reason code",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_ON_WALLET),
)
def freeze_wallet(address: AddressPath, body: FreezeIn, key: Administrator, desk: DeskDep, idem: IdempotencyDep,
                  session: SessionDep, settings: SettingsDep, network: NetworkDep) -> OperationOut:
    """Freeze an active wallet: it can neither send nor receive. The reason code is kept on chain and in the
    bank's record."""
    actor = _acting(session, key, desk, Scope.TELLER, Scope.ADMIN)
    op = flows.freeze(session, settings, network, address, body.reason, note=body.note, actor=actor)
    out = operation_out(op)
    idem.complete(session, out, status=202)
    return out


@router.post(
    "/{address}/unfreeze",
    operation_id="unfreeze_wallet",
    summary="Lift the bank's freeze of a wallet",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_ON_WALLET),
)
def unfreeze_wallet(address: AddressPath, key: Administrator, desk: DeskDep, idem: IdempotencyDep,
                    session: SessionDep, settings: SettingsDep, network: NetworkDep,
                    body: NoteIn | None = None) -> OperationOut:
    """Make a wallet the bank froze active again (a regulator's freeze is lifted by the regulator only)."""
    actor = _acting(session, key, desk, Scope.TELLER, Scope.ADMIN)
    op = flows.unfreeze(session, settings, network, address, note=body.note if body else None, actor=actor)
    out = operation_out(op)
    idem.complete(session, out, status=202)
    return out


@router.post(
    "/{address}/account",
    operation_id="bind_wallet_account",
    summary="Bind a bank account to a wallet",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_ON_WALLET, ProblemKind.CUSTOMER_SESSION_REQUIRED),
)
def bind_account(address: AddressPath, body: BindAccountIn, key: CustomerDesk, desk: DeskDep, idem: IdempotencyDep,
                 session: SessionDep, settings: SettingsDep, network: NetworkDep) -> OperationOut:
    """Bind a deposit account of this bank to the wallet: redemptions and the closure pay out to it. The chain
    keeps a salted hash of the account code; the code and salt stay with the bank."""
    customers.own_wallet(session, settings, key, address)
    actor = _acting(session, key, desk, Scope.TELLER, Scope.APP)
    op = flows.bind_account(session, settings, network, address, body.account, actor=actor)
    out = operation_out(op)
    idem.complete(session, out, status=202)
    return out


@router.post(
    "/{address}/close",
    operation_id="close_wallet",
    summary="Close a wallet, paying its balance out to the bound account",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_ON_WALLET, ProblemKind.CUSTOMER_SESSION_REQUIRED, ProblemKind.ACCOUNT_NOT_BOUND,
                                *SECOND_FACTOR_PROBLEMS),
)
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
    out = operation_out(op)
    idem.complete(session, out, status=202)
    return out
