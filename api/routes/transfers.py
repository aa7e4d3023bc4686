"""``/v1/transfers``: P2P payments relayed by the payer's bank (the flow is :mod:`node.transfers.service`; a
wallet's history and balance are under ``/v1/wallets``: :mod:`api.routes.wallets`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api import customers
from api.attribution import BRANCH_HEADER, OPERATOR_HEADER, Desk, DeskDep, attribution_of
from api.auth import PAYER_SCOPES, Payer
from api.common import (
    PAYING_WALLET_PROBLEMS,
    SECOND_FACTOR_PROBLEMS,
    SPENDING_PROBLEMS,
    TOTP_HEADER,
    TotpCode,
    check_currency,
)
from api.deps import AppStateDep
from api.idempotency import IdempotencyKey, request_digest
from api.problems import ProblemKind
from api.routing import bind_common, bound_fast, flow_lane, in_lane, operation_route, respond
from api.schemas.transfers import TransferIn
from node.api_keys import Scope
from node.lanes import Keyed
from node.operations.checks import channel_of
from node.transfers.lane import TransferLane, TransferRequest

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])



_PAYER = frozenset(PAYER_SCOPES)
_LEFT_TO_FASTAPI = (TOTP_HEADER, BRANCH_HEADER, OPERATOR_HEADER)


async def _common_transfer(request: Request) -> dict[str, Any] | None:
    """The arguments of :func:`transfer` for the common request (an app's: no TOTP code, no teller desk), as
    FastAPI's dependencies would give them; None for any other request, which FastAPI binds
    (api.routing.bound_fast)."""
    common = await bind_common(request, _PAYER, TransferIn, left_to_fastapi=_LEFT_TO_FASTAPI)
    if common is None:
        return None
    key, idempotency_key, body = common
    return {"request": request, "body": body, "key": key, "desk": Desk(), "idempotency_key": idempotency_key,
            "state": request.app.state.walletnet, "totp": None}


@operation_route(router, "", "Pay another wallet (P2P, relayed by the payer's bank)", ProblemKind.UNAUTHORIZED,
                 ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED, ProblemKind.NOT_FOUND,
                 *PAYING_WALLET_PROBLEMS, *SPENDING_PROBLEMS, *SECOND_FACTOR_PROBLEMS,
                 ProblemKind.IDEMPOTENCY_KEY_REUSED, ProblemKind.CHAIN_UNAVAILABLE)
@bound_fast(_common_transfer)
@in_lane
async def transfer(request: Request, body: TransferIn, key: Payer, desk: DeskDep, idempotency_key: IdempotencyKey,
                   state: AppStateDep, totp: TotpCode = None) -> Any:
    """Relay the payer's signed RelayedTransfer (`authorization` as fields, or `payload` as its QR text) to
    the payee, who may be at any bank; for a custodial payer the bank signs. This bank must keep the payer's
    wallet. The signature, chain, token, deadline and nonce are checked first (`authorization-invalid`), then
    the payer's spendable balance and tier limits (`insufficient-balance`, `limit-exceeded`). The answer is
    the `p2p` operation, `pending`; the transfer goes on chain in the bank's next relay batch, and the
    operation becomes `completed`, or `failed` with the contract's reason (`details.reason`, e.g.
    `BalanceCapExceeded` when the payee's tier cannot take the money). A customer session pays from its own
    customer's wallets only; a teller names its desk (`X-Teller-Branch`, `X-Teller-Operator`)."""
    # admitted in batches, many requests in one transaction, the key recorded with the answer (node.transfers.lane)
    settings = state.settings
    channel = channel_of(key.scope_set, Scope.APP, Scope.TELLER)

    def check() -> None:  # after the key is judged: a repeated request is answered as recorded first
        check_currency(body.currency, settings)
        customers.customer_of(key, settings)
        attribution_of(key, desk, channel=channel, moves_money=True)

    authorization = None
    if body.authorization is not None:
        a = body.authorization
        authorization = {"from_": a.from_, "to": a.to, "value": a.value, "valid_before": a.valid_before,
                         "nonce": int(a.nonce), "v": a.v, "r": bytes.fromhex(a.r[2:]), "s": bytes.fromhex(a.s[2:])}
    answer = await flow_lane(state, "transfers", TransferLane).submit(TransferRequest(
        keyed=Keyed(key.idempotency_scope, idempotency_key, await request_digest(request)), api_key_id=key.id,
        channel=channel,
        attribution=attribution_of(key, desk, channel=channel), customer_ref=key.customer_ref, payer=body.payer,
        payee=body.payee, amount_minor=body.amount, authorization=authorization,
        payload=body.payload if authorization is None else None, totp_code=totp, check=check))
    return respond(answer)
