"""ATM cash: the registry and cash of the bank's ATMs and vault (``/v1/atms``, ``/v1/vault``; admin) and the
ATMs' own signed messages (``/v1/atm/...``; scope atm plus the device's signature, see :mod:`api.atm.deps`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import select

from api.atm.deps import AtmCallDep, handle_event
from api.atm.schemas import (
    AtmCashOut,
    AtmIn,
    AtmOut,
    AtmRegistrationOut,
    CashAmountIn,
    CashInIn,
    CashMovementOut,
    CashOutIn,
    DispenseIn,
    FaultIn,
    VaultCashOut,
    atm_out,
)
from api.auth import require_scope
from api.deps import NetworkDep, ReadSessionDep, SessionDep, SettingsDep
from api.idempotency import IdempotencyDep
from api.keys import Principal, Scope
from api.operations.schemas import OperationOut
from api.pagination import Page, PageParamsDep, paginate
from api.problems import FieldError, ProblemKind, ValidationProblemError, problem_responses
from api.second_factor import SECOND_FACTOR_PROBLEMS
from api.wallets.schemas import Money
from node.atm import service
from node.atm.models import Atm
from node.settings import NodeSettings
from wallet_sdk.client.atm import ATM_ID_PATTERN

router = APIRouter(tags=["atm"])

Admin = Annotated[Principal, require_scope(Scope.ADMIN)]
Reader = Annotated[Principal, require_scope(Scope.ADMIN, Scope.REGULATOR)]
AtmIdPath = Annotated[str, Path(pattern=ATM_ID_PATTERN, description="the ATM's id", examples=["ATM-0001"])]
OperationIdPath = Annotated[str, Path(pattern=r"^op_[0-9a-f]{32}$", description="the cash-out's operation id")]

_AUTH = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN)
_ATM = (*_AUTH, ProblemKind.ATM_AUTHENTICATION_FAILED, ProblemKind.ATM_MESSAGE_REPLAYED,
        ProblemKind.IDEMPOTENCY_KEY_REUSED, ProblemKind.IDEMPOTENCY_KEY_IN_FLIGHT)
_WALLET = (ProblemKind.NOT_FOUND, ProblemKind.WALLET_NOT_CUSTODIED_HERE, ProblemKind.WALLET_FROZEN,
           ProblemKind.WALLET_NOT_ACTIVE, ProblemKind.CHAIN_UNAVAILABLE)


def _money(amount: int, settings: NodeSettings) -> Money:
    return Money(amount=amount, currency=settings.currency)


def _check_currency(currency: str | None, settings: NodeSettings) -> None:
    if currency is not None and currency != settings.currency:
        raise ValidationProblemError(f"this node moves {settings.currency} only", errors=[
            FieldError(loc=["body", "currency"], msg=f"expected {settings.currency}", type="currency")])


def _movement_out(moved: service.CashMovement, settings: NodeSettings) -> CashMovementOut:
    return CashMovementOut(reference=moved.reference, amount=_money(moved.amount_minor, settings),
                           vault_cash=_money(moved.vault_minor, settings), atm_id=moved.atm_id,
                           atm_cash=None if moved.atm_minor is None else _money(moved.atm_minor, settings))


# ------------------------------------------------------------------ registry (admin)


@router.post(
    "/v1/atms",
    operation_id="register_atm",
    summary="Register an ATM",
    status_code=201,
    response_model=AtmRegistrationOut,
    responses=problem_responses(*_AUTH, ProblemKind.CONFLICT),
)
def register_atm(body: AtmIn, _key: Admin, session: SessionDep, settings: SettingsDep) -> AtmRegistrationOut:
    """Register an ATM and open its cash account in the ledger. The answer carries the device secret that
    signs the ATM's messages: it is shown once (the bank keeps it encrypted); if it is lost, rotate it
    with `POST /v1/atms/{atm_id}/secret`."""
    registration = service.register_atm(session, settings, atm_id=body.atm_id, name=body.name,
                                        location=body.location)
    return AtmRegistrationOut(atm=atm_out(registration.atm), secret=registration.secret)


@router.get(
    "/v1/atms",
    operation_id="list_atms",
    summary="List the bank's ATMs",
    response_model=Page[AtmOut],
    responses=problem_responses(*_AUTH),
)
def list_atms(_key: Reader, session: ReadSessionDep, page: PageParamsDep) -> Page[AtmOut]:
    """Every ATM, disabled ones included, oldest first."""
    rows, next_cursor = paginate(session, select(Atm), Atm.id, page)
    return Page[AtmOut](items=[atm_out(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/v1/atms/{atm_id}",
    operation_id="get_atm",
    summary="An ATM",
    response_model=AtmOut,
    responses=problem_responses(*_AUTH, ProblemKind.NOT_FOUND),
)
def get_atm(atm_id: AtmIdPath, _key: Reader, session: ReadSessionDep) -> AtmOut:
    return atm_out(service.get_atm(session, atm_id))


@router.post(
    "/v1/atms/{atm_id}/disable",
    operation_id="disable_atm",
    summary="Disable an ATM",
    response_model=AtmOut,
    responses=problem_responses(*_AUTH, ProblemKind.NOT_FOUND),
)
def disable_atm(atm_id: AtmIdPath, _key: Admin, session: SessionDep) -> AtmOut:
    """Refuse every further message of the ATM (401 `atm-authentication-failed`). Its cash-outs that are
    held are released when their dispense timeout passes. Idempotent."""
    return atm_out(service.disable_atm(session, atm_id))


@router.post(
    "/v1/atms/{atm_id}/secret",
    operation_id="rotate_atm_secret",
    summary="Give an ATM a new device secret",
    response_model=AtmRegistrationOut,
    responses=problem_responses(*_AUTH, ProblemKind.NOT_FOUND),
)
def rotate_atm_secret(atm_id: AtmIdPath, _key: Admin, session: SessionDep,
                      settings: SettingsDep) -> AtmRegistrationOut:
    """Replace the ATM's device secret (when it leaked or the registration's answer was lost); messages
    signed with the old secret are refused from now on. The new secret is shown once."""
    registration = service.rotate_secret(session, settings, atm_id)
    return AtmRegistrationOut(atm=atm_out(registration.atm), secret=registration.secret)


# ------------------------------------------------------------------ cash (admin)


@router.get(
    "/v1/atms/{atm_id}/cash",
    operation_id="get_atm_cash",
    summary="An ATM's cash by the ledger",
    response_model=AtmCashOut,
    responses=problem_responses(*_AUTH, ProblemKind.NOT_FOUND),
)
def get_atm_cash(atm_id: AtmIdPath, _key: Reader, session: ReadSessionDep, settings: SettingsDep) -> AtmCashOut:
    """The notes in the ATM by the ledger (its `cash:atm:<id>` account), to compare with the ATM's own
    count, and the part reserved for cash-outs in progress."""
    cash, reserved = service.atm_cash(session, settings, atm_id)
    return AtmCashOut(atm_id=atm_id, cash=_money(cash, settings), reserved=_money(reserved, settings))


@router.post(
    "/v1/atms/{atm_id}/replenish",
    operation_id="replenish_atm",
    summary="Book notes moved from the vault into an ATM",
    response_model=CashMovementOut,
    responses=problem_responses(*_AUTH, ProblemKind.NOT_FOUND, ProblemKind.CONFLICT,
                                ProblemKind.IDEMPOTENCY_KEY_REUSED),
)
def replenish_atm(atm_id: AtmIdPath, body: CashAmountIn, _key: Admin, idem: IdempotencyDep, session: SessionDep,
                  settings: SettingsDep) -> CashMovementOut:
    """Debit the ATM's cash, credit `cash:vault`. 409 `conflict` if the vault holds less."""
    _check_currency(body.currency, settings)
    moved = service.replenish(session, settings, atm_id, body.amount,
                              reference=f"atm:{atm_id}:replenish:{uuid.uuid4().hex}")
    out = _movement_out(moved, settings)
    idem.complete(session, out)
    return out


@router.post(
    "/v1/atms/{atm_id}/unload",
    operation_id="unload_atm",
    summary="Book notes moved from an ATM into the vault",
    response_model=CashMovementOut,
    responses=problem_responses(*_AUTH, ProblemKind.NOT_FOUND, ProblemKind.CONFLICT,
                                ProblemKind.IDEMPOTENCY_KEY_REUSED),
)
def unload_atm(atm_id: AtmIdPath, body: CashAmountIn, _key: Admin, idem: IdempotencyDep, session: SessionDep,
               settings: SettingsDep) -> CashMovementOut:
    """Debit `cash:vault`, credit the ATM's cash. 409 `conflict` if the ATM holds less than that beyond the
    cash reserved for cash-outs in progress."""
    _check_currency(body.currency, settings)
    moved = service.unload(session, settings, atm_id, body.amount,
                           reference=f"atm:{atm_id}:unload:{uuid.uuid4().hex}")
    out = _movement_out(moved, settings)
    idem.complete(session, out)
    return out


@router.get(
    "/v1/vault",
    operation_id="get_vault_cash",
    summary="The vault's cash by the ledger",
    response_model=VaultCashOut,
    responses=problem_responses(*_AUTH),
)
def get_vault_cash(_key: Reader, session: ReadSessionDep, settings: SettingsDep) -> VaultCashOut:
    return VaultCashOut(cash=_money(service.vault_cash(session, settings), settings))


@router.post(
    "/v1/vault/deliveries",
    operation_id="deliver_vault_cash",
    summary="Book notes delivered to the vault",
    response_model=CashMovementOut,
    responses=problem_responses(*_AUTH, ProblemKind.CONFLICT, ProblemKind.IDEMPOTENCY_KEY_REUSED),
)
def deliver_vault_cash(body: CashAmountIn, _key: Admin, idem: IdempotencyDep, session: SessionDep,
                       settings: SettingsDep) -> CashMovementOut:
    """Notes delivered by the central bank's cash centre: debit `cash:vault`, credit `equity`. 409 `conflict`
    if the vault would hold more than the ledger counts (2^63 - 1 minor units)."""
    _check_currency(body.currency, settings)
    moved = service.deliver_to_vault(session, settings, body.amount, reference=f"vault:delivery:{uuid.uuid4().hex}")
    out = _movement_out(moved, settings)
    idem.complete(session, out)
    return out


# ------------------------------------------------------------------ the ATMs' messages (atm + signature)


@router.post(
    "/v1/atm/cash-ins",
    operation_id="atm_report_cash_in",
    summary="ATM: notes counted for a wallet (mint)",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_ATM, *_WALLET, ProblemKind.LIMIT_EXCEEDED),
)
def atm_report_cash_in(body: CashInIn, call: AtmCallDep, session: SessionDep, settings: SettingsDep,
                       network: NetworkDep) -> OperationOut:
    """The ATM counted `notes` for `wallet`; the bank mints their total into it. The answer is the
    `atm_cash_in` operation, `pending` until the mint is confirmed (`completed`); if the chain refuses the
    mint the operation `failed` and the notes are booked as owed to the customer. The wallet must be an
    active wallet of this bank (`wallet-not-custodied-here` otherwise) with room under its balance cap."""
    _check_currency(body.currency, settings)
    notes = [service.NoteCount(n.denomination, n.count) for n in body.notes]
    return handle_event(session, call, body.event_id, lambda atm: service.cash_in(
        session, settings, network, atm, event_id=body.event_id, wallet=body.wallet, amount_minor=body.amount,
        notes=notes, api_key_id=call.api_key_id))


@router.post(
    "/v1/atm/cash-outs",
    operation_id="atm_submit_withdrawal",
    summary="ATM: a scanned withdrawal code (place the hold)",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_ATM, *_WALLET, ProblemKind.AUTHORIZATION_INVALID,
                                ProblemKind.INSUFFICIENT_BALANCE, ProblemKind.LIMIT_EXCEEDED, ProblemKind.CONFLICT,
                                *SECOND_FACTOR_PROBLEMS),
)
def atm_submit_withdrawal(body: CashOutIn, call: AtmCallDep, session: SessionDep, settings: SettingsDep,
                          network: NetworkDep) -> OperationOut:
    """The customer's signed hold, as scanned from the app's QR code. The bank checks it (signature,
    network, expiry, the wallet is its own and active, balance and limits, the ATM's cash) and places the
    hold on chain. The answer is the `atm_cash_out` operation, `pending`; dispense once it is `held`
    (poll `GET /v1/operations/{id}`), or not at all if it `failed`."""
    return handle_event(session, call, body.event_id, lambda atm: service.submit_cash_out(
        session, settings, network, atm, event_id=body.event_id, code=body.code, totp=body.totp,
        api_key_id=call.api_key_id))


@router.post(
    "/v1/atm/cash-outs/{operation_id}/dispense",
    operation_id="atm_confirm_dispense",
    summary="ATM: the notes of a held cash-out were dispensed (capture)",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_ATM, ProblemKind.NOT_FOUND, ProblemKind.INVALID_STATE),
)
def atm_confirm_dispense(operation_id: OperationIdPath, body: DispenseIn, call: AtmCallDep,
                         session: SessionDep) -> OperationOut:
    """The bank captures (burns) the hold; the operation is `completed` once that is confirmed. 409
    `invalid-state` if the cash-out is not held yet (retry) or was released or failed."""
    return handle_event(session, call, body.event_id, lambda atm: service.confirm_dispense(
        session, atm, operation_id, event_id=body.event_id))


@router.post(
    "/v1/atm/cash-outs/{operation_id}/fault",
    operation_id="atm_report_dispense_fault",
    summary="ATM: a held cash-out could not be dispensed (release)",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_ATM, ProblemKind.NOT_FOUND, ProblemKind.INVALID_STATE),
)
def atm_report_dispense_fault(operation_id: OperationIdPath, body: FaultIn, call: AtmCallDep,
                              session: SessionDep) -> OperationOut:
    """The bank releases the hold back to the wallet; the operation is `released` once that is confirmed.
    409 `invalid-state` if the cash-out is not held yet (retry) or its dispense was confirmed."""
    return handle_event(session, call, body.event_id, lambda atm: service.report_fault(
        session, atm, operation_id, event_id=body.event_id, reason=body.reason))
