"""``/v1/atms``: the bank's ATMs (admin; the regulator reads): their registry, device secrets and cash by the
ledger (the ATMs' own messages are under ``/v1/atm``: :mod:`api.routes.atm`; the vault's cash under
``/v1/vault``: :mod:`api.routes.vault`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Admin, AdminOrRegulator
from api.common import Page, PageParamsDep, check_currency, paginate
from api.deps import ReadSessionDep, SessionDep, SettingsDep
from api.idempotency import IdempotencyDep, IdempotentRequest
from api.problems import ProblemKind
from api.routing import route
from api.schemas.atm import (
    AtmCashOut,
    AtmIn,
    AtmOut,
    AtmRegistrationOut,
    CashAmountIn,
    CashMovementOut,
    atm_cash_out,
    atm_out,
    movement_out,
)
from node.atm import service
from node.atm.models import Atm
from node.settings import NodeSettings
from wallet_sdk.client.atm import ATM_ID_PATTERN, CashMovement

router = APIRouter(prefix="/v1/atms", tags=["atm"])

AtmIdPath = Annotated[str, Path(pattern=ATM_ID_PATTERN, description="the ATM's id", examples=["ATM-0001"])]

_AUTH = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN)


# ------------------------------------------------------------------ the registry


@route(router, "POST", "", "Register an ATM", *_AUTH, ProblemKind.CONFLICT, status_code=201,
       response_model=AtmRegistrationOut)
def register_atm(body: AtmIn, _key: Admin, session: SessionDep, settings: SettingsDep) -> AtmRegistrationOut:
    """Register an ATM and open its cash account in the ledger. The answer carries the device secret that
    signs the ATM's messages: it is shown once (the bank keeps it encrypted); if it is lost, rotate it
    with `POST /v1/atms/{atm_id}/secret`."""
    registration = service.register_atm(session, settings, atm_id=body.atm_id, name=body.name,
                                        location=body.location)
    return AtmRegistrationOut(atm=atm_out(registration.atm), secret=registration.secret)


@route(router, "GET", "", "List the bank's ATMs", *_AUTH, response_model=Page[AtmOut])
def list_atms(_key: AdminOrRegulator, session: ReadSessionDep, page: PageParamsDep) -> Page[AtmOut]:
    """Every ATM, disabled ones included, oldest first."""
    rows, next_cursor = paginate(session, select(Atm), Atm.id, page)
    return Page[AtmOut](items=[atm_out(r) for r in rows], next_cursor=next_cursor)


@route(router, "GET", "/{atm_id}", "An ATM", *_AUTH, ProblemKind.NOT_FOUND, response_model=AtmOut)
def get_atm(atm_id: AtmIdPath, _key: AdminOrRegulator, session: ReadSessionDep) -> AtmOut:
    return atm_out(service.get_atm(session, atm_id))


@route(router, "POST", "/{atm_id}/disable", "Disable an ATM", *_AUTH, ProblemKind.NOT_FOUND, response_model=AtmOut)
def disable_atm(atm_id: AtmIdPath, _key: Admin, session: SessionDep) -> AtmOut:
    """Refuse every further message of the ATM (401 `atm-authentication-failed`). Its cash-outs that are
    held are released when their dispense timeout passes. Idempotent."""
    return atm_out(service.disable_atm(session, atm_id))


@route(router, "POST", "/{atm_id}/secret", "Give an ATM a new device secret", *_AUTH, ProblemKind.NOT_FOUND,
       response_model=AtmRegistrationOut)
def rotate_atm_secret(atm_id: AtmIdPath, _key: Admin, session: SessionDep,
                      settings: SettingsDep) -> AtmRegistrationOut:
    """Replace the ATM's device secret (when it leaked or the registration's answer was lost); messages
    signed with the old secret are refused from now on. The new secret is shown once."""
    registration = service.rotate_secret(session, settings, atm_id)
    return AtmRegistrationOut(atm=atm_out(registration.atm), secret=registration.secret)


# ------------------------------------------------------------------ their cash


def _book_notes(move: Callable[..., CashMovement], kind: str, atm_id: str, body: CashAmountIn,
                idem: IdempotentRequest, session: Session, settings: NodeSettings) -> CashMovementOut:
    """Book ``move`` (the ledger's ``kind`` of notes between the vault and the ATM) of ``body.amount``, under a
    fresh reference; the answer is recorded under the request's idempotency key."""
    check_currency(body.currency, settings)
    moved = move(session, settings, atm_id, body.amount, reference=f"atm:{atm_id}:{kind}:{uuid.uuid4().hex}")
    out = movement_out(moved)
    idem.complete(session, out)
    return out



@route(router, "GET", "/{atm_id}/cash", "An ATM's cash by the ledger", *_AUTH, ProblemKind.NOT_FOUND,
       response_model=AtmCashOut)
def get_atm_cash(atm_id: AtmIdPath, _key: AdminOrRegulator, session: ReadSessionDep,
                 settings: SettingsDep) -> AtmCashOut:
    """The notes in the ATM by the ledger (its `cash:atm:<id>` account), to compare with the ATM's own
    count, and the part reserved for cash-outs in progress."""
    cash, reserved = service.atm_cash(session, settings, atm_id)
    return atm_cash_out(atm_id, cash, reserved, settings.currency)


@route(router, "POST", "/{atm_id}/replenish", "Book notes moved from the vault into an ATM", *_AUTH,
       ProblemKind.NOT_FOUND, ProblemKind.CONFLICT, ProblemKind.IDEMPOTENCY_KEY_REUSED, response_model=CashMovementOut)
def replenish_atm(atm_id: AtmIdPath, body: CashAmountIn, _key: Admin, idem: IdempotencyDep, session: SessionDep,
                  settings: SettingsDep) -> CashMovementOut:
    """Debit the ATM's cash, credit `cash:vault`. 409 `conflict` if the vault holds less."""
    return _book_notes(service.replenish, "replenish", atm_id, body, idem, session, settings)


@route(router, "POST", "/{atm_id}/unload", "Book notes moved from an ATM into the vault", *_AUTH, ProblemKind.NOT_FOUND,
       ProblemKind.CONFLICT, ProblemKind.IDEMPOTENCY_KEY_REUSED, response_model=CashMovementOut)
def unload_atm(atm_id: AtmIdPath, body: CashAmountIn, _key: Admin, idem: IdempotencyDep, session: SessionDep,
               settings: SettingsDep) -> CashMovementOut:
    """Debit `cash:vault`, credit the ATM's cash. 409 `conflict` if the ATM holds less than that beyond the
    cash reserved for cash-outs in progress."""
    return _book_notes(service.unload, "unload", atm_id, body, idem, session, settings)
