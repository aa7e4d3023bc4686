"""``/v1/atm``: the ATMs' own messages (cash-in, cash-out and its dispense or fault), each authenticated by a key of
scope ``atm`` AND the device's signature; the flows are :mod:`node.atm.service`.

The signature check is committed whatever the message's work does: the message's signature is remembered even
if the work then fails, so the same message can never be accepted twice. Cash-ins go through the cash-in lane
(:mod:`node.atm.lane`: many in one transaction), which records an accepted message whatever becomes of its
cash-in; the other messages check it in a short transaction of its own before the endpoint runs.
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
from api.routing import flow_lane, in_lane, operation_route, respond
from api.schemas.atm import CashInIn, CashOutIn, DispenseIn, FaultIn
from api.schemas.operations import OperationOut, operation_out
from api.shown_once import redacted
from node.api_keys import Principal, Scope
from node.atm import service
from node.atm.auth import Replay, authenticate, claim_event, complete_event
from node.atm.lane import CashInLane, CashInRequest
from node.atm.models import Atm
from node.idempotency import request_hash
from node.operations.models import Operation
from node.settings import NodeSettings
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


@dataclass(frozen=True)
class SignedMessage:
    """An ATM message as received, its device signature not checked yet (:meth:`authenticate`)."""

    api_key_id: int
    headers: dict[str, str | None]  # atm_id, timestamp, nonce, signature
    method: str
    path: str
    raw: bytes

    def authenticate(self, session: Session, settings: NodeSettings) -> str:
        """The id of the ATM that signed it; the signature is recorded so a replay is refused (node.atm.auth)."""
        return authenticate(session, settings, **self.headers, method=self.method, path=self.path, body=self.raw).atm_id

    def call(self, atm_id: str) -> AtmCall:
        """The message as :meth:`authenticate` found it signed by ``atm_id``."""
        try:
            body = json.loads(self.raw) if self.raw else None
        except (ValueError, UnicodeDecodeError):
            body = {"bytes_hex": self.raw.hex()}  # FastAPI refuses the body itself (422)
        return AtmCall(atm_id=atm_id, api_key_id=self.api_key_id, method=self.method, path=self.path, body=body)


async def signed_message(
    request: Request,
    key: AtmKey,
    atm_id: Annotated[str | None, Header(alias=ATM_ID_HEADER, description="the ATM's id")] = None,
    timestamp: Annotated[str | None, Header(alias=ATM_TIMESTAMP_HEADER,
                                            description="Unix seconds when the message was signed")] = None,
    nonce: Annotated[str | None, Header(alias=ATM_NONCE_HEADER,
                                        description="a fresh random value per message (16-64 of A-Za-z0-9_-)")] = None,
    signature: Annotated[str | None, Header(alias=ATM_SIGNATURE_HEADER,
                                            description="hex HMAC-SHA256 with the device secret of "
                                                        "timestamp, nonce, method, path and body")] = None,
) -> SignedMessage:
    return SignedMessage(api_key_id=key.id, headers={"atm_id": atm_id, "timestamp": timestamp, "nonce": nonce,
                                                     "signature": signature},
                         method=request.method, path=request.url.path, raw=await request.body())


SignedMessageDep = Annotated[SignedMessage, Depends(signed_message)]


def _authenticate(state: AppState, message: SignedMessage) -> str:
    with state.sessions.begin() as session:
        return message.authenticate(session, state.settings)


async def atm_call(state: AppStateDep, message: SignedMessageDep) -> AtmCall:
    return message.call(await run_in_threadpool(_authenticate, state, message))


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
@in_lane
async def atm_report_cash_in(body: CashInIn, message: SignedMessageDep, state: AppStateDep) -> Any:
    """The ATM counted `notes` for `wallet`; the bank mints their total into it. The answer is the
    `atm_cash_in` operation, `pending` until the mint is confirmed (`completed`); if the chain refuses the
    mint the operation `failed` and the notes are booked as owed to the customer. The wallet must be an
    active wallet of this bank (`wallet-not-custodied-here` otherwise) with room under its balance cap."""
    # many cash-ins in one transaction (node.atm.lane); the signature is recorded even if the cash-in fails
    settings = state.settings
    lane = flow_lane(state, "cash-ins", CashInLane)
    return respond(await lane.submit(CashInRequest(
        api_key_id=message.api_key_id, headers=message.headers, method=message.method, path=message.path,
        raw=message.raw, request_hash=message.call("").request_hash(), event_id=body.event_id, wallet=body.wallet,
        amount_minor=body.amount, notes=[service.NoteCount(n.denomination, n.count) for n in body.notes],
        check=lambda: check_currency(body.currency, settings))))


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
