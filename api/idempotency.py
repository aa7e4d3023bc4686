"""``IdempotencyDep``: the dependency every POST that moves money takes (built on :mod:`node.idempotency`).

The request must carry an ``Idempotency-Key`` header (1..255 characters; missing -> 422 problem). The key is
scoped to the calling API key (and, for a customer session, its customer) and bound to a hash of method, path
and JSON body:

- first call: the key is claimed (committed as in flight) and the endpoint runs; it records its response
  with :meth:`IdempotentRequest.complete` in the same transaction as its work;
- same key and body again: the recorded response is returned as is (header ``Idempotent-Replayed: true``)
  and the endpoint does not run;
- same key, other body: 409 ``idempotency-key-reused``; same key while the first call runs: 409
  ``idempotency-key-in-flight``;
- if the endpoint fails before recording anything, the claim is dropped so a retry starts afresh.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from sqlalchemy.orm import Session

from api.auth import CurrentKey
from api.deps import AppState, AppStateDep, after_session
from api.errors import ReplayedResponse
from node import idempotency as records
from node.idempotency import MAX_KEY_LENGTH, IdempotencyError, IdempotencyRecord

__all__ = ["IdempotencyDep", "IdempotentRequest"]


class IdempotentRequest:
    """A claimed idempotency key; the endpoint calls :meth:`complete` with its response."""

    def __init__(self, state: AppState, record_id: int, key: str) -> None:
        self._state = state
        self.record_id = record_id
        self.key = key
        self.completed = False

    def complete(self, session: Session, body: Any, *, status: int = 200) -> Any:
        """Record ``body`` (made JSON-able) as the response; flushed in ``session`` with the work."""
        encoded = jsonable_encoder(body)
        record = session.get(IdempotencyRecord, self.record_id, with_for_update=True)
        if record is None:  # pragma: no cover - the claim is committed before the endpoint runs
            raise IdempotencyError(f"idempotency key {self.key!r} vanished")
        records.complete(session, record, status=status, body=encoded)
        self.completed = True
        return encoded

    def _abandon(self) -> None:
        with self._state.sessions.begin() as session:
            record = session.get(IdempotencyRecord, self.record_id)
            if record is not None and record.state is records.IdempotencyState.IN_FLIGHT:
                # work committed at a recovery point keeps the key, so that a retry resumes it
                with contextlib.suppress(IdempotencyError):
                    records.abandon(session, record)


def _body_value(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return {"json": json.loads(raw)}
    except (ValueError, UnicodeDecodeError):
        return {"bytes_hex": raw.hex()}


def _claim(state: AppState, scope: str, key: str, digest: str) -> records.Claim:
    with state.sessions.begin() as session:
        claim = records.begin(session, scope=scope, key=key, request_hash=digest)
        session.flush()
        return claim


async def idempotent_request(
    request: Request,
    state: AppStateDep,
    api_key: CurrentKey,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=MAX_KEY_LENGTH,
                                           description="a unique key per operation; retry with the same key")],
) -> AsyncIterator[IdempotentRequest]:
    raw = await request.body()
    digest = records.request_hash(request.method, request.url.path, _body_value(raw))
    claim = await run_in_threadpool(_claim, state, api_key.idempotency_scope, idempotency_key, digest)
    if claim.replay is not None:
        raise ReplayedResponse(claim.replay.status, claim.replay.body)
    handle = IdempotentRequest(state, claim.record.id, idempotency_key)
    try:
        yield handle
    except BaseException:
        await _abandon_unless_completed(request, handle)
        raise
    await _abandon_unless_completed(request, handle)  # returned without recording: a retry runs it again


async def _abandon_unless_completed(request: Request, handle: IdempotentRequest) -> None:
    if handle.completed:
        return
    # While the request's own session is open (it may hold SQLite's write lock), dropping the claim waits
    # for it to close; otherwise it happens now.
    if not after_session(request, handle._abandon):
        await run_in_threadpool(handle._abandon)


IdempotencyDep = Annotated[IdempotentRequest, Depends(idempotent_request, scope="function")]
