"""Idempotency keys for requests that move money.

A request carrying an ``Idempotency-Key`` is recorded with a hash of what it asked for. The first call
claims the key (state ``in_flight``) in a transaction of its own and commits; the request's work and its
response (state ``completed``) then commit together, in one transaction. A later call with

- the same key and the same request gets the recorded response back (nothing is done twice);
- the same key and another request is refused (:class:`IdempotencyKeyReusedError`, HTTP 409);
- the same key while the first call is still running is refused (:class:`IdempotencyKeyInFlightError`,
  409), unless the first call's lock is older than ``lock_timeout``: then the caller takes the key over and
  runs the request (the first process is presumed dead, and its work, uncommitted, died with it).

There are no recovery points inside a request (brandur's rocket-rides-atomic has them for requests that call
out between their transactions): no request of this node commits work before its last transaction. The
on-chain steps of a flow are recorded in that transaction as outbox rows, each under its own key, and the flow
moves on through its operation's state as they complete (an ATM cash-out's stages, node.atm.models): that is
where a multi-step operation resumes after a crash. The ``recovery_point`` column says ``started`` or
``finished``.

Keys are unique per ``scope`` (the API client), so two clients may use the same key. A completed key is kept
for the setting ``idempotency_retention`` (24 h by default) and then pruned by the node's periodic jobs
(:func:`prune_expired`): from then on the same key is a new request. Keys still in flight are never pruned (a
stale one is taken over by the next call with it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Index, Integer, String, UniqueConstraint, bindparam, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.orm.util import identity_key

from node.db.base import Base, IdType, JsonType, UTCDateTime, str_enum, utcnow
from node.db.engine import reads_of, transaction
from node.db.inserts import insert_new
from node.errors import ConflictProblem
from node.settings import NodeSettings
from wallet_sdk.exceptions import DeclaredError, error_message

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "STARTED",
    "Claim",
    "IdempotencyError",
    "IdempotencyKeyInFlightError",
    "IdempotencyKeyReusedError",
    "IdempotencyRecord",
    "IdempotencyState",
    "RecordedResponse",
    "abandon",
    "begin",
    "complete",
    "completed_row",
    "prune",
    "prune_expired",
    "recorded",
    "request_hash",
    "verdict",
]

DEFAULT_LOCK_TIMEOUT: Final = timedelta(minutes=5)
STARTED: Final = "started"
MAX_KEY_LENGTH: Final = 255
PRUNE_BATCH: Final = 1000  # keys deleted per transaction, so pruning never holds the write lock for long


class IdempotencyState(StrEnum):
    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"


class IdempotencyError(DeclaredError, ConflictProblem):
    """Root of the idempotency errors (declared: see :class:`~wallet_sdk.exceptions.DeclaredError`)."""


@error_message("idempotency key {key!r} was already used for a different request")
class IdempotencyKeyReusedError(IdempotencyError):
    """The key was first used for a different request."""

    problem = "idempotency-key-reused"

    scope: str
    key: str


@error_message("a request with idempotency key {key!r} is still in progress (at {recovery_point!r})")
class IdempotencyKeyInFlightError(IdempotencyError):
    """The first request with this key has not finished yet: retry in a second."""

    problem = "idempotency-key-in-flight"

    scope: str
    key: str
    recovery_point: str

    def retry_after(self) -> int:
        return 1


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),
                      Index("ix_idempotency_keys_completed_at", "completed_at"))  # pruning, every round (0008)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[IdempotencyState] = mapped_column(str_enum(IdempotencyState, "idempotency_state"),
                                                    default=IdempotencyState.IN_FLIGHT)
    recovery_point: Mapped[str] = mapped_column(String(64), default=STARTED)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"IdempotencyRecord(scope={self.scope!r}, key={self.key!r}, state={self.state.value!r})"


@dataclass(frozen=True)
class RecordedResponse:
    """The answer recorded under a completed key (HTTP status and JSON body), which a replay answers again."""

    status: int
    body: Any


@dataclass(frozen=True)
class Claim:
    """What :func:`begin` hands back: the record, and the recorded response if the request already ran
    (then return it and do nothing else)."""

    record: IdempotencyRecord
    replay: RecordedResponse | None = None


def request_hash(method: str, path: str, body: Mapping[str, Any] | None = None) -> str:
    """A stable hash of what a request asks for: method, path and JSON body (key order does not matter)."""
    canonical = json.dumps({"method": method.upper(), "path": path, "body": body}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _find(session: Session, scope: str, key: str) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def verdict(record: IdempotencyRecord | Any, digest: str, now: datetime,
            lock_timeout: timedelta = DEFAULT_LOCK_TIMEOUT) -> RecordedResponse | None:
    """What a request hashed ``digest`` gets for a key that holds ``record`` (an :class:`IdempotencyRecord`, or a
    row of its columns): the recorded response, or None if the key is its to take over (the first caller's lock
    is older than ``lock_timeout``: presumed dead, its work uncommitted).

    Raises:
        IdempotencyKeyReusedError, IdempotencyKeyInFlightError: as :func:`begin`.
    """
    if record.request_hash != digest:
        raise IdempotencyKeyReusedError(record.scope, record.key)
    if record.state == IdempotencyState.COMPLETED:
        assert record.response_status is not None
        return RecordedResponse(record.response_status, record.response_body)
    if record.locked_at is not None and now - record.locked_at < lock_timeout:
        raise IdempotencyKeyInFlightError(record.scope, record.key, record.recovery_point)
    return None


def _judge(session: Session, record: IdempotencyRecord, digest: str, now: datetime, lock_timeout: timedelta) -> Claim:
    replay = verdict(record, digest, now, lock_timeout)
    if replay is not None:
        return Claim(record, replay)
    record.locked_at = now  # the first caller is presumed dead (its work was not committed): take the key over
    session.flush()
    return Claim(record)


_RECORDS_OF = select(IdempotencyRecord.__table__).where(
    IdempotencyRecord.scope.in_(bindparam("scopes", expanding=True)),
    IdempotencyRecord.key.in_(bindparam("keys", expanding=True)))
"""By scope and key, the order of the unique index: by key alone the index cannot be used, and every batch of
payments read the whole table of keys."""


def recorded(session: Session, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The records of those (scope, key) ``pairs`` that are taken, as rows of their columns; one query for all.
    (For a request that records its key only with its answer, in its work's transaction: node.lanes.)"""
    wanted = set(pairs)
    if not wanted:
        return {}
    rows = session.connection().execute(_RECORDS_OF, {"scopes": list({scope for scope, _ in wanted}),
                                                      "keys": list({key for _, key in wanted})})
    return {(row.scope, row.key): row for row in rows if (row.scope, row.key) in wanted}


def completed_row(*, scope: str, key: str, request_hash: str, status: int, body: Any,
                  now: datetime | None = None) -> dict[str, Any]:
    """The column values of a key recorded at once as completed with its answer (the request's work commits in
    the same transaction, so the key is never seen in flight)."""
    now = now or utcnow()
    return {"scope": scope, "key": key, "request_hash": request_hash, "state": IdempotencyState.COMPLETED,
            "recovery_point": "finished", "created_at": now, "locked_at": None, "response_status": status,
            "response_body": body, "completed_at": now}


def begin(
    session: Session,
    *,
    scope: str,
    key: str,
    request_hash: str,
    lock_timeout: timedelta = DEFAULT_LOCK_TIMEOUT,
    now: datetime | None = None,
) -> Claim:
    """Claim ``key`` for this request, or return the recorded response of the request that already ran.

    Commit the session right after a fresh claim, so other callers see the key as in flight.

    Raises:
        IdempotencyKeyReusedError: the key belongs to a different request.
        IdempotencyKeyInFlightError: the first request with the key is still running.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"an idempotency key must be 1..{MAX_KEY_LENGTH} characters")
    now = now or utcnow()
    existing = _find(session, scope, key)
    if existing is not None:
        return _judge(session, existing, request_hash, now, lock_timeout)
    record = insert_new(session, IdempotencyRecord, {
        "scope": scope, "key": key, "request_hash": request_hash, "state": IdempotencyState.IN_FLIGHT,
        "recovery_point": STARTED, "created_at": now, "locked_at": now, "response_status": None,
        "response_body": None, "completed_at": None}, unique=("scope", "key"))
    if record is None:
        existing = _find(session, scope, key)  # a concurrent twin got there first and has committed
        assert existing is not None, "the insert found the key, so it is there"
        return _judge(session, existing, request_hash, now, lock_timeout)
    return Claim(record)


_RECORDS: Final = IdempotencyRecord.__table__
_COMPLETE: Final = (  # built once (the table, not the class): a request's completion costs one cached statement
    update(_RECORDS).where(_RECORDS.c.id == bindparam("record_id"), _RECORDS.c.state == IdempotencyState.IN_FLIGHT)
    .values(state=bindparam("new_state", type_=_RECORDS.c.state.type),
            recovery_point=bindparam("new_point", type_=_RECORDS.c.recovery_point.type),
            response_status=bindparam("status", type_=_RECORDS.c.response_status.type),
            response_body=bindparam("body", type_=_RECORDS.c.response_body.type),
            completed_at=bindparam("completed", type_=_RECORDS.c.completed_at.type), locked_at=None))


def complete(session: Session, record_id: int, key: str, *, status: int, body: Any) -> RecordedResponse:
    """Store the response of the claim ``record_id`` (of ``key``; commit it with the request's last piece of
    work) and release the key. One conditional UPDATE, with no read first: every request that records its
    answer runs it, and the condition is what makes a second completion fail."""
    done = session.connection().execute(_COMPLETE, {
        "record_id": record_id, "new_state": IdempotencyState.COMPLETED, "new_point": "finished", "status": status,
        "body": body, "completed": utcnow()})
    if done.rowcount != 1:
        raise IdempotencyError(f"idempotency key {key!r} is already completed")
    loaded = session.identity_map.get(identity_key(IdempotencyRecord, record_id))
    if loaded is not None:  # the session holds the record: it must not go on seeing it in flight
        session.expire(loaded)
    return RecordedResponse(status, body)


def abandon(session: Session, record: IdempotencyRecord) -> None:
    """Forget an in-flight key whose request failed (its work rolled back), so a retry starts afresh."""
    if record.state is not IdempotencyState.IN_FLIGHT:
        raise IdempotencyError(f"idempotency key {record.key!r} is completed and cannot be abandoned")
    session.delete(record)
    session.flush()


def prune(session: Session, *, retention: timedelta, now: datetime | None = None, limit: int = PRUNE_BATCH) -> int:
    """Delete up to ``limit`` keys completed more than ``retention`` ago (oldest first); how many went.

    In-flight keys are kept whatever their age: a retry with the key takes a stale one over."""
    cutoff = (now or utcnow()) - retention
    expired = (select(IdempotencyRecord.id).where(IdempotencyRecord.completed_at < cutoff)
               .order_by(IdempotencyRecord.completed_at).limit(limit))
    ids = list(session.scalars(expired))
    if ids:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(ids)))
    return len(ids)


def prune_expired(sessions: sessionmaker[Session], settings: NodeSettings) -> int:
    """The node's periodic job (node.jobs.periodic_jobs): prune keys past ``settings.idempotency_retention``."""
    cutoff = utcnow() - timedelta(seconds=settings.idempotency_retention)
    with transaction(reads_of(sessions)) as look:  # none expired (most rounds): no write lock taken
        if look.scalar(select(IdempotencyRecord.id).where(IdempotencyRecord.completed_at < cutoff).limit(1)) is None:
            return 0
    with sessions.begin() as session:
        return prune(session, retention=timedelta(seconds=settings.idempotency_retention))
