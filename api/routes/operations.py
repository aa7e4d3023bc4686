"""``/v1/operations``: where a request that moves money or changes a wallet stands."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api import customers
from api.auth import require_scope
from api.deps import ReadSessionDep, SettingsDep
from api.problems import ProblemKind
from api.routing import route
from api.schemas.operations import OperationOut, operation_out
from node.api_keys import Principal, Scope
from node.operations import models as operations

router = APIRouter(prefix="/v1/operations", tags=["operations"])

OperationReader = Annotated[Principal, require_scope(Scope.TELLER, Scope.APP, Scope.ATM, Scope.ADMIN,
                                                     Scope.REGULATOR, Scope.MERCHANT)]
OperationId = Annotated[str, Path(pattern=r"^op_[0-9a-f]{32}$", description="the id a flow endpoint returned")]


@route(router, "GET", "/{operation_id}", "An operation's status", ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN,
       ProblemKind.CUSTOMER_SESSION_REQUIRED, ProblemKind.NOT_FOUND, response_model=OperationOut)
def get_operation(operation_id: OperationId, key: OperationReader, session: ReadSessionDep,
                  settings: SettingsDep) -> OperationOut:
    """Where a request stands: ``pending`` while its on-chain effects are in flight, then ``completed`` or
    ``failed`` (with the reason); an ATM cash-out is ``held`` until the dispense is confirmed. Who asked shows
    in ``api_key_id``, ``branch`` and ``operator`` (a teller) or ``customer_session``. A merchant key sees only
    its merchant's operations (payments it relayed, refunds, settlements); a customer session only those on its
    customer's wallets."""
    op = operations.get_operation(session, operation_id)
    if key.scope_set == {Scope.MERCHANT} and (op.details or {}).get("merchant_id") != key.merchant_id:
        # as if it did not exist: no probing of others' operations
        raise operations.OperationNotFoundError(operation_id)
    customers.own_operation(session, settings, key, op)
    return operation_out(op)
