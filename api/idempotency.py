"""``IdempotencyDep``: the dependency every POST that moves money takes (built on :mod:`node.idempotency`).

The request must carry an ``Idempotency-Key`` header (1..255 characters; missing -> 422 problem). The key is
scoped to the calling API key (and, for a customer session, its customer) and bound to a hash of method, path
and JSON body:

- first call: the key is claimed (committed as in flight) and the endpoint runs; it records its response
  with :meth:`IdempotentRequest.complete` in the same transaction as its work;
- same key and body again: the recorded response is returned (header ``Idempotent-Replayed: true``) and the
  endpoint does not run. A secret the first answer showed (a field declared with :func:`api.shown_once.shown_once`)
  was never recorded: the replay carries ``"[redacted: shown once]"`` in its place and names the fields in the
  header ``Idempotent-Redacted`` (e.g. ``secret, provisioning_uri``);
- same key, other body: 409 ``idempotency-key-reused``; same key while the first call runs: 409
  ``idempotency-key-in-flight``;
- if the endpoint fails before recording anything, the claim is dropped so a retry starts afresh.

Completed keys are pruned after the setting ``idempotency_retention`` (24 h; :func:`node.idempotency.prune_expired`
in the node's periodic jobs): the same key is then a new request.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Final

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.auth import CurrentKey
from api.deps import AppState, AppStateDep, after_session
from api.problems import ReplayedResponse
from api.shown_once import redacted, redacted_paths
from node import idempotency as records
from node.idempotency import MAX_KEY_LENGTH, IdempotencyError, IdempotencyRecord

__all__ = ["IDEMPOTENCY_HEADER", "REDACTED_HEADER", "IdempotencyDep", "IdempotencyKey", "IdempotentRequest", "replay",
           "request_digest"]

REDACTED_HEADER = "Idempotent-Redacted"
"""On a replay: the fields of the first answer that held a secret shown once, now ``[redacted: shown once]``."""


class IdempotentRequest:
    """A claimed idempotency key; the endpoint calls :meth:`complete` with its response."""

    def __init__(self, state: AppState, record_id: int, key: str) -> None:
        self._state = state
        self.record_id = record_id
        self.key = key
        self.completed = False

    def complete(self, session: Session, body: BaseModel, *, status: int = 200) -> Any:
        """Record ``body`` as the response, its secrets redacted (api/shown_once.py); flushed in ``session``
        with the work. Returns the body as recorded (what a replay answers)."""
        if not isinstance(body, BaseModel):  # a model says which of its fields are secrets; a dict cannot
            raise TypeError(f"record a response model, not {type(body).__name__}")
        encoded, _ = redacted(body)
        records.complete(session, self.record_id, self.key, status=status, body=encoded)
        self.completed = True
        return encoded

    def _abandon(self) -> None:
        with self._state.sessions.begin() as session:
            record = session.get(IdempotencyRecord, self.record_id)
            if record is not None and record.state is records.IdempotencyState.IN_FLIGHT:
                # the request rolled back: the key is dropped so a retry runs it afresh
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


IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
IdempotencyKeyHeader = Annotated[str, Header(alias=IDEMPOTENCY_HEADER, min_length=1, max_length=MAX_KEY_LENGTH,
                                             description="a unique key per operation; retry with the same key")]


async def idempotency_key(key: IdempotencyKeyHeader) -> str:
    return key


IdempotencyKey = Annotated[str, Depends(idempotency_key)]
"""The ``Idempotency-Key`` header (422 when missing), for an endpoint that records its key itself (documented
where :data:`IdempotencyDep` documents it)."""


async def request_digest(request: Request) -> str:
    """The hash an idempotency key is bound to: method, path and JSON body (:func:`node.idempotency.request_hash`)."""
    return records.request_hash(request.method, request.url.path, _body_value(await request.body()))


def replay(status: int, body: Any) -> ReplayedResponse:
    """The answer recorded under a key, to raise as the response of a request that repeats it (with the
    ``Idempotent-Redacted`` header if a secret shown once is left out)."""
    hidden = list(redacted_paths(body))
    return ReplayedResponse(status, body, headers={REDACTED_HEADER: ", ".join(hidden)} if hidden else None)


async def idempotent_request(
    request: Request,
    state: AppStateDep,
    api_key: CurrentKey,
    idempotency_key: IdempotencyKeyHeader,
) -> AsyncIterator[IdempotentRequest]:
    digest = await request_digest(request)
    claim = await run_in_threadpool(_claim, state, api_key.idempotency_scope, idempotency_key, digest)
    if claim.replay is not None:
        raise replay(claim.replay.status, claim.replay.body)
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
