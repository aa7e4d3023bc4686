"""``AtmCallDep``: an ATM message (``/v1/atm/...``, :mod:`api.routes.atm`), authenticated by an ``atm`` API key
AND the device's signature.

The signature check runs in its own short transaction, committed before the endpoint: the message's
signature is remembered even if the endpoint then fails, so the same message can never be accepted twice.
:func:`handle_event` gives an ATM event (its ``event_id``) its first answer again when it is re-sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from api.auth import require_scope
from api.deps import AppState, AppStateDep
from api.problems import ReplayedResponse
from api.schemas.operations import OperationOut, operation_out
from api.shown_once import redacted
from node.api_keys import Principal, Scope
from node.atm.auth import Replay, authenticate, claim_event, complete_event
from node.atm.models import Atm
from node.atm.service import get_atm
from node.idempotency import request_hash
from node.operations.models import Operation
from wallet_sdk.client.atm import (
    ATM_ID_HEADER,
    ATM_NONCE_HEADER,
    ATM_SIGNATURE_HEADER,
    ATM_TIMESTAMP_HEADER,
)

__all__ = ["AtmCall", "AtmCallDep", "handle_event"]

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
    atm = get_atm(session, call.atm_id)
    claim = claim_event(session, atm, event_id, call.request_hash())
    if isinstance(claim, Replay):
        raise ReplayedResponse(claim.status, claim.body)
    op = work(atm)
    out = operation_out(op)
    recorded, _ = redacted(out)  # like every recorded answer: a secret it may carry one day is not kept
    complete_event(session, claim, status, recorded, operation=op.public_id)
    return out
