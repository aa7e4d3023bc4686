"""``/v1/vault``: the cash in the bank's vault by the ledger (admin; the regulator reads)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.auth import Admin, AdminOrRegulator
from api.common import check_currency
from api.deps import ReadSessionDep, SessionDep, SettingsDep
from api.idempotency import IdempotencyDep
from api.problems import ProblemKind
from api.routing import route
from api.schemas.atm import CashAmountIn, CashMovementOut, VaultCashOut, movement_out, vault_cash_out
from node.atm import service

router = APIRouter(prefix="/v1/vault", tags=["atm"])

_AUTH = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN)


@route(router, "GET", "", "The vault's cash by the ledger", *_AUTH, response_model=VaultCashOut)
def get_vault_cash(_key: AdminOrRegulator, session: ReadSessionDep, settings: SettingsDep) -> VaultCashOut:
    return vault_cash_out(service.vault_cash(session, settings), settings.currency)


@route(router, "POST", "/deliveries", "Book notes delivered to the vault", *_AUTH, ProblemKind.CONFLICT,
       ProblemKind.IDEMPOTENCY_KEY_REUSED, response_model=CashMovementOut)
def deliver_vault_cash(body: CashAmountIn, _key: Admin, idem: IdempotencyDep, session: SessionDep,
                       settings: SettingsDep) -> CashMovementOut:
    """Notes delivered by the central bank's cash centre: debit `cash:vault`, credit `equity`. 409 `conflict`
    if the vault would hold more than the ledger counts (2^63 - 1 minor units)."""
    check_currency(body.currency, settings)
    moved = service.deliver_to_vault(session, settings, body.amount, reference=f"vault:delivery:{uuid.uuid4().hex}")
    out = movement_out(moved)
    idem.complete(session, out)
    return out
