"""``/v1/atm``: the ATMs' own messages (cash-in, cash-out and its dispense or fault), each authenticated by a key of
scope ``atm`` AND the device's signature; the flows are :mod:`node.atm.service`.

The signature check runs in its own short transaction, committed before the endpoint: the message's
signature is remembered even if the endpoint then fails, so the same message can never be accepted twice.
:func:`handle_event` gives an ATM event (its ``event_id``) its first answer again when it is re-sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api.auth import require_scope
from api.common import PAYING_WALLET_PROBLEMS, SECOND_FACTOR_PROBLEMS, SPENDING_PROBLEMS, check_currency
from api.deps import AppState, AppStateDep, NetworkDep, SessionDep, SettingsDep
from api.problems import ProblemKind, ReplayedResponse
from api.routing import operation_route
from api.schemas.atm import CashInIn, CashOutIn, DispenseIn, FaultIn
from api.schemas.operations import OperationOut, operation_out
from api.shown_once import redacted
from node.api_keys import Principal, Scope
from node.atm import service
from node.atm.auth import Replay, authenticate, claim_event, complete_event
from node.atm.models import Atm
from node.idempotency import request_hash
from node.operations.models import Operation
from wallet_sdk.client.atm import (
    ATM_ID_HEADER,
    ATM_NONCE_HEADER,
    ATM_SIGNATURE_HEADER,
    ATM_TIMESTAMP_HEADER,
)

router = APIRouter(prefix="/v1/atm", tags=["atm"])

OperationIdPath = Annotated[str, Path(pattern=r"^op_[0-9a-f]{32}$", description="the cash-out's operation id")]

_AUTH = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN)
_ATM = (*_AUTH, ProblemKind.ATM_AUTHENTICATION_FAILED, ProblemKind.ATM_MESSAGE_REPLAYED,
        ProblemKind.IDEMPOTENCY_KEY_REUSED, ProblemKind.IDEMPOTENCY_KEY_IN_FLIGHT)
_WALLET = (ProblemKind.NOT_FOUND, *PAYING_WALLET_PROBLEMS, ProblemKind.CHAIN_UNAVAILABLE)


# ------------------------------------------------------------------ an ATM message: key and device signature


AtmKey = Annotated[Principal, require_scope(Scope.ATM)]


@dataclass(frozen=True)
class AtmCall:
    """An authenticated ATM message: which ATM, with which key, and what it asked (method, path, body)."""

    atm_id: str
    api_key_id: int
    method: str
    path: str
    body: Any  # the JSON body, parsed

    def request_hash(self) -> str:
        return request_hash(self.method, self.path, self.body)


def _authenticate(state: AppState, **message: Any) -> str:
    with state.sessions.begin() as session:
        atm = authenticate(session, state.settings, **message)
        return atm.atm_id


async def atm_call(
    request: Request,
    state: AppStateDep,
    key: AtmKey,
    atm_id: Annotated[str | None, Header(alias=ATM_ID_HEADER, description="the ATM's id")] = None,
    timestamp: Annotated[str | None, Header(alias=ATM_TIMESTAMP_HEADER,
                                            description="Unix seconds when the message was signed")] = None,
    nonce: Annotated[str | None, Header(alias=ATM_NONCE_HEADER,
                                        description="a fresh random value per message (16-64 of A-Za-z0-9_-)")] = None,
    signature: Annotated[str | None, Header(alias=ATM_SIGNATURE_HEADER,
                                            description="hex HMAC-SHA256 with the device secret of "
                                                        "timestamp, nonce, method, path and body")] = None,
) -> AtmCall:
    raw = await request.body()
    path = request.url.path
    checked = await run_in_threadpool(_authenticate, state, atm_id=atm_id, timestamp=timestamp, nonce=nonce,
                                      signature=signature, method=request.method, path=path, body=raw)
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        body = {"bytes_hex": raw.hex()}  # FastAPI refuses the body itself (422)
    return AtmCall(atm_id=checked, api_key_id=key.id, method=request.method, path=path, body=body)


AtmCallDep = Annotated[AtmCall, Depends(atm_call)]


def handle_event(session: Session, call: AtmCall, event_id: str,
                 work: Callable[[Atm], Operation], *, status: int = 202) -> OperationOut:
    """Run ``work`` for the ATM's event ``event_id`` once: a re-sent event gets its first answer (raised as a
    :class:`ReplayedResponse`); the same event id with another body is 409 ``idempotency-key-reused``."""
    atm = service.get_atm(session, call.atm_id)
    claim = claim_event(session, atm, event_id, call.request_hash())
    if isinstance(claim, Replay):
        raise ReplayedResponse(claim.status, claim.body)
    op = work(atm)
    out = operation_out(op)
    recorded, _ = redacted(out)  # like every recorded answer: a secret it may carry one day is not kept
    complete_event(session, claim, status, recorded, operation=op.public_id)
    return out


# ------------------------------------------------------------------ the messages


@operation_route(router, "/cash-ins", "ATM: notes counted for a wallet (mint)", *_ATM, *_WALLET,
                 ProblemKind.LIMIT_EXCEEDED)
def atm_report_cash_in(body: CashInIn, call: AtmCallDep, session: SessionDep, settings: SettingsDep,
                       network: NetworkDep) -> OperationOut:
    """The ATM counted `notes` for `wallet`; the bank mints their total into it. The answer is the
    `atm_cash_in` operation, `pending` until the mint is confirmed (`completed`); if the chain refuses the
    mint the operation `failed` and the notes are booked as owed to the customer. The wallet must be an
    active wallet of this bank (`wallet-not-custodied-here` otherwise) with room under its balance cap."""
    check_currency(body.currency, settings)
    notes = [service.NoteCount(n.denomination, n.count) for n in body.notes]
    return handle_event(session, call, body.event_id, lambda atm: service.cash_in(
        session, settings, network, atm, event_id=body.event_id, wallet=body.wallet, amount_minor=body.amount,
        notes=notes, api_key_id=call.api_key_id))


@operation_route(router, "/cash-outs", "ATM: a scanned withdrawal code (place the hold)", *_ATM, *_WALLET,
                 *SPENDING_PROBLEMS, ProblemKind.CONFLICT, *SECOND_FACTOR_PROBLEMS)
def atm_submit_withdrawal(body: CashOutIn, call: AtmCallDep, session: SessionDep, settings: SettingsDep,
                          network: NetworkDep) -> OperationOut:
    """The customer's signed hold, as scanned from the app's QR code. The bank checks it (signature,
    network, expiry, the wallet is its own and active, balance and limits, the ATM's cash) and places the
    hold on chain. The answer is the `atm_cash_out` operation, `pending`; dispense once it is `held`
    (poll `GET /v1/operations/{id}`), or not at all if it `failed`."""
    return handle_event(session, call, body.event_id, lambda atm: service.submit_cash_out(
        session, settings, network, atm, event_id=body.event_id, code=body.code, totp=body.totp,
        api_key_id=call.api_key_id))


@operation_route(router, "/cash-outs/{operation_id}/dispense",
                 "ATM: the notes of a held cash-out were dispensed (capture)", *_ATM, ProblemKind.NOT_FOUND,
                 ProblemKind.INVALID_STATE)
def atm_confirm_dispense(operation_id: OperationIdPath, body: DispenseIn, call: AtmCallDep,
                         session: SessionDep) -> OperationOut:
    """The bank captures (burns) the hold; the operation is `completed` once that is confirmed. 409
    `invalid-state` if the cash-out is not held yet (retry) or was released or failed."""
    return handle_event(session, call, body.event_id, lambda atm: service.confirm_dispense(
        session, atm, operation_id, event_id=body.event_id))


@operation_route(router, "/cash-outs/{operation_id}/fault", "ATM: a held cash-out could not be dispensed (release)",
                 *_ATM, ProblemKind.NOT_FOUND, ProblemKind.INVALID_STATE)
def atm_report_dispense_fault(operation_id: OperationIdPath, body: FaultIn, call: AtmCallDep,
                              session: SessionDep) -> OperationOut:
    """The bank releases the hold back to the wallet; the operation is `released` once that is confirmed.
    409 `invalid-state` if the cash-out is not held yet (retry) or its dispense was confirmed."""
    return handle_event(session, call, body.event_id, lambda atm: service.report_fault(
        session, atm, operation_id, event_id=body.event_id, reason=body.reason))
