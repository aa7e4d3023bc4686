"""The outbox: every on-chain effect of an off-chain event, recorded in the business transaction.

A service that, say, books an ATM cash-in calls :func:`enqueue` with the same session it writes the
business record with, before committing; both commit together or neither does. The chain writer (a later
module) picks rows up in state ``received`` and moves them along::

    received -> submitted -> confirmed -> reversed
        |           |  ^
        |           +--+  (re-submitted: a replacement transaction, new hash, same nonce)
        +-----------+-----> failed

    and two ways back or across:
    submitted -> received   its batch transaction was mined reverted, which changed nothing: it goes again, alone
    received -> confirmed   the chain holds its effect already, made by an earlier transaction (a restored backup)

State changes happen here and only here (:func:`transition`; :func:`submit_rows` for a writer's batch); assigning
``OutboxRow.state`` anywhere else raises. The idempotency key is unique: enqueueing the same effect again returns
the existing row, and the same key with another effect is a conflict.

When a row becomes final (``confirmed`` or ``failed``) the hooks registered with :func:`on_final` run in the
same transaction with a :class:`RowOutcome`: what the chain did with the row as the writer saw it (the
receipt's decoded events, the decoded refusal). That is how a flow completes (:mod:`node.operations.models`
registers the hook): the outbox sits below the flows and imports none of them.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import BigInteger, Index, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, validates

from node.db.base import Base, IdType, JsonType, UTCDateTime, str_enum, utcnow
from node.db.inserts import insert_new
from node.errors import ConflictProblem, InvalidStateProblem, NodeError, ValidationProblem
from wallet_sdk.chain.events import Event
from wallet_sdk.exceptions import ContractRevertError, DeclaredError, error_message

__all__ = [
    "TRANSITIONS",
    "BulkConfirmation",
    "IllegalTransitionError",
    "OutboxConflictError",
    "OutboxError",
    "OutboxPayloadError",
    "OutboxRow",
    "OutboxState",
    "OutcomeHook",
    "RowOutcome",
    "before_final",
    "confirm_batch",
    "confirms_in_bulk",
    "enqueue",
    "final_batch",
    "new_row",
    "on_final",
    "submit_rows",
    "transition",
]

MAX_KEY_LENGTH: Final = 200
TX_HASH_LENGTH: Final = 66  # "0x" + 64 hex digits


class OutboxState(StrEnum):
    RECEIVED = "received"  # written with the business record; nothing sent yet
    SUBMITTED = "submitted"  # a transaction with this row's nonce was sent
    CONFIRMED = "confirmed"  # its receipt succeeded with enough confirmations
    FAILED = "failed"  # given up: refused before sending, or reverted on chain
    REVERSED = "reversed"  # a confirmed effect later undone (by a compensating effect or a reorg)


TRANSITIONS: Final[Mapping[OutboxState, frozenset[OutboxState]]] = {
    OutboxState.RECEIVED: frozenset({OutboxState.SUBMITTED, OutboxState.CONFIRMED, OutboxState.FAILED}),
    OutboxState.SUBMITTED: frozenset({OutboxState.SUBMITTED, OutboxState.CONFIRMED, OutboxState.FAILED,
                                      OutboxState.RECEIVED}),
    OutboxState.CONFIRMED: frozenset({OutboxState.REVERSED}),
    OutboxState.FAILED: frozenset(),
    OutboxState.REVERSED: frozenset(),
}


# ------------------------------------------------------------------ errors


class OutboxError(DeclaredError, NodeError):
    """Root of the outbox's errors (declared: see :class:`~wallet_sdk.exceptions.DeclaredError`)."""


@error_message("outbox payload at {path}: {reason}")
class OutboxPayloadError(OutboxError, ValidationProblem, ValueError):
    """The payload is not plain JSON of dicts, lists, str, int, bool and None (floats are refused: amounts
    are integers of minor units)."""

    path: str
    reason: str


@error_message("outbox key {key!r} already holds a different {existing_kind!r} effect (got {kind!r})")
class OutboxConflictError(OutboxError, ConflictProblem):
    """The idempotency key is already used by another effect (other kind or payload)."""

    key: str
    existing_kind: str
    kind: str


@error_message("outbox row {key!r}: {current.value} -> {target.value} is not allowed{_because}")
class IllegalTransitionError(OutboxError, InvalidStateProblem):
    """The requested state change is not in :data:`TRANSITIONS`, or lacks what the new state needs."""

    key: str
    current: OutboxState
    target: OutboxState
    reason: str = ""

    @property
    def _because(self) -> str:
        return f": {self.reason}" if self.reason else ""


# ------------------------------------------------------------------ the table

_in_transition: contextvars.ContextVar[bool] = contextvars.ContextVar("outbox_in_transition", default=False)


@contextmanager
def _transitioning() -> Iterator[None]:
    token = _in_transition.set(True)
    try:
        yield
    finally:
        _in_transition.reset(token)


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_id", "state", "id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    payload_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[OutboxState] = mapped_column(str_enum(OutboxState, "outbox_state"), default=OutboxState.RECEIVED)
    tx_hash: Mapped[str | None] = mapped_column(String(TX_HASH_LENGTH), index=True)
    nonce: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @validates("state")
    def _guard_state(self, _key: str, value: OutboxState) -> OutboxState:
        # A new row starts in RECEIVED; any later change must come through transition().
        if not _in_transition.get() and not (self.state is None and value is OutboxState.RECEIVED):
            current = self.state if self.state is not None else OutboxState.RECEIVED
            raise IllegalTransitionError(self.idempotency_key, current, OutboxState(value),
                                         "state changes go through node.outbox.transition()")
        return value

    def __repr__(self) -> str:
        return f"OutboxRow(key={self.idempotency_key!r}, kind={self.kind!r}, state={self.state!r})"


# ------------------------------------------------------------------ enqueue


def _check_json(value: object, path: str = "$") -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        raise OutboxPayloadError(path, "floats are refused; amounts are integers of minor units")
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise OutboxPayloadError(path, f"keys must be strings, not {type(k).__name__}")
            _check_json(v, f"{path}.{k}")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]")
        return
    raise OutboxPayloadError(path, f"{type(value).__name__} is not JSON")


def _payload_hash(kind: str, payload: Mapping[str, Any]) -> str:
    canonical = json.dumps({"kind": kind, "payload": payload}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _by_key(session: Session, key: str) -> OutboxRow | None:
    return session.scalars(select(OutboxRow).where(OutboxRow.idempotency_key == key)).one_or_none()


def _same_or_conflict(row: OutboxRow, key: str, kind: str, digest: str) -> OutboxRow:
    if row.kind != kind or row.payload_hash != digest:
        raise OutboxConflictError(key, row.kind, kind)
    return row


def new_row(key: str, kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The column values of a new row of ``kind`` under ``key`` (received now), checked: for :func:`enqueue` or
    for an insert of many at once (node.transfers.lane).

    Raises:
        OutboxPayloadError: the payload is not plain JSON (floats included).
        ValueError: empty or over-long key or kind.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"outbox key must be 1..{MAX_KEY_LENGTH} characters")
    if not kind or len(kind) > 64:
        raise ValueError("outbox kind must be 1..64 characters")
    if not isinstance(payload, Mapping):
        raise OutboxPayloadError("$", "the payload must be a JSON object")
    _check_json(payload)
    now = utcnow()
    return {"idempotency_key": key, "kind": kind, "payload": json.loads(json.dumps(payload)),
            "payload_hash": _payload_hash(kind, payload), "state": OutboxState.RECEIVED, "attempts": 0,
            "tx_hash": None, "nonce": None, "last_error": None, "created_at": now, "updated_at": now,
            "submitted_at": None, "completed_at": None}


def enqueue(session: Session, key: str, kind: str, payload: Mapping[str, Any]) -> OutboxRow:
    """Record the on-chain effect ``kind`` with ``payload`` under the event's idempotency ``key``, in the
    caller's transaction (nothing is committed here; the row is flushed so a clash shows at once).

    Returns the new row, or the existing one if this exact effect was enqueued before.

    Raises:
        OutboxConflictError: ``key`` already holds another effect.
        OutboxPayloadError, ValueError: as :func:`new_row`.
    """
    values = new_row(key, kind, payload)
    row = insert_new(session, OutboxRow, values, unique=("idempotency_key",))
    if row is not None:
        return row
    existing = _by_key(session, key)  # this effect enqueued before, or a concurrent twin committed first
    assert existing is not None, "the insert found the key, so it is there"
    return _same_or_conflict(existing, key, kind, values["payload_hash"])


# ------------------------------------------------------------------ outcomes


@dataclass(frozen=True)
class RowOutcome:
    """How a row ended, as the chain writer saw it, handed to the :func:`on_final` hooks in the transaction that
    makes the row final: a completion reads the chain's answer here, never from session-wide state or from
    the text of ``last_error``."""

    confirmed: bool
    events: Sequence[Event] = ()  # decoded events of the transaction that made the row's effect
    revert: ContractRevertError | None = None  # the contract's decoded refusal of this row, if that failed it

    @property
    def reason(self) -> str | None:
        """The name of the contract's custom error that refused the row (e.g. ``"HoldNotActive"``), if any."""
        return self.revert.name if self.revert is not None else None


OutcomeHook = Callable[[Session, "OutboxRow", RowOutcome], None]
"""``hook(session, row, outcome)``: runs when ``row`` becomes confirmed or failed, in that transaction."""

_final_hooks: list[OutcomeHook] = []


def on_final(hook: OutcomeHook) -> OutcomeHook:
    """Register ``hook`` to run whenever a row becomes final (once per hook; usable as a decorator). The layer
    above the outbox registers itself here at import, so the outbox never imports it."""
    if hook not in _final_hooks:
        _final_hooks.append(hook)
    return hook


BulkConfirmation = Callable[[Session, Mapping[int, Any], str], "Callable[[], None] | None"]
"""``confirm(session, payloads, tx_hash)`` of an :func:`on_final` hook: whether it can complete at once the rows
``payloads`` (their payloads by outbox id) that the chain confirmed in ``tx_hash``; the function that does so, or
None (the rows then become final one by one, through :func:`transition`). It must not write before it is
called."""
_bulk_confirmations: dict[OutcomeHook, BulkConfirmation] = {}


def confirms_in_bulk(hook: OutcomeHook) -> Callable[[BulkConfirmation], BulkConfirmation]:
    """Register how the :func:`on_final` ``hook`` completes a batch of confirmed rows at once (a decorator)."""

    def register(bulk: BulkConfirmation) -> BulkConfirmation:
        _bulk_confirmations[hook] = bulk
        return bulk

    return register


BatchHook = Callable[[Session, Sequence[OutboxRow]], None]
_batch_hooks: list[BatchHook] = []


def before_final(hook: BatchHook) -> BatchHook:
    """Register ``hook(session, rows)`` to run when a writer is about to make many rows final in one
    transaction (:func:`final_batch`): it may read at once what the :func:`on_final` hooks will need of each."""
    if hook not in _batch_hooks:
        _batch_hooks.append(hook)
    return hook


def final_batch(session: Session, rows: Sequence[OutboxRow]) -> None:
    """Say that ``rows`` are about to become final in ``session``'s transaction (see :func:`before_final`)."""
    for hook in _batch_hooks:
        hook(session, rows)


def _run_final_hooks(session: Session, row: OutboxRow, outcome: RowOutcome) -> None:
    if not _final_hooks and isinstance(row.payload, dict) and "operation" in row.payload:
        raise RuntimeError(f"outbox row {row.idempotency_key!r} completes operation {row.payload['operation']!r}, "
                           "but no outcome hook is registered: a process that finalizes rows imports node.jobs")
    for hook in _final_hooks:
        hook(session, row, outcome)


# ------------------------------------------------------------------ transitions


def confirm_batch(session: Session, payloads: Mapping[int, Any], tx_hash: str) -> bool:
    """What :func:`transition` to ``confirmed`` does row by row, for the ``submitted`` rows ``payloads`` (their
    payloads by id) that the chain confirmed, every one, in ``tx_hash``: one UPDATE of the rows, and every
    :func:`on_final` hook completing them at once (:func:`confirms_in_bulk`). A writer's batch of a few hundred
    openings spent most of its recording, with the write lock held, on the ORM's work for each row, its operation
    and its wallet record. Returns False, having changed nothing, when a hook cannot (it has no bulk form, or
    the rows are not all of a kind it completes so) or a row is not ``submitted``: the caller then transitions
    each row."""
    if len(tx_hash) != TX_HASH_LENGTH or not tx_hash.startswith("0x") or not payloads or not _final_hooks \
            or any(hook not in _bulk_confirmations for hook in _final_hooks):
        return False  # (no hook at all: transition says why a row naming an operation cannot become final)
    ids = sorted(payloads)
    states = session.execute(select(OutboxRow.state).where(OutboxRow.id.in_(ids)).with_for_update()).scalars().all()
    if len(states) != len(ids) or any(OutboxState(state) is not OutboxState.SUBMITTED for state in states):
        return False
    completions = [_bulk_confirmations[hook](session, payloads, tx_hash) for hook in _final_hooks]
    if any(complete is None for complete in completions):
        return False
    now = utcnow()
    session.execute(update(OutboxRow).where(OutboxRow.id.in_(ids))
                    .values(state=OutboxState.CONFIRMED, tx_hash=tx_hash, completed_at=now, updated_at=now)
                    .execution_options(synchronize_session=False))
    for complete in completions:
        assert complete is not None
        complete()
    return True


def submit_rows(session: Session, ids: Sequence[int], *, tx_hash: str, nonce: int) -> None:
    """Move the ``received`` rows ``ids`` to ``submitted`` in the transaction ``tx_hash`` with ``nonce``, in the
    caller's transaction, with one UPDATE (a writer's batch: a row-by-row :func:`transition` of a few hundred
    rows was most of the time it spent storing a signed batch). Nothing runs on ``submitted``: no hook is missed.

    Raises:
        IllegalTransitionError: one of the rows is not ``received`` any more (another writer took it); the
            caller rolls back.
    """
    if len(tx_hash) != TX_HASH_LENGTH or not tx_hash.startswith("0x"):
        raise IllegalTransitionError(str(ids), OutboxState.RECEIVED, OutboxState.SUBMITTED,
                                     f"malformed tx hash {tx_hash!r}")
    now = utcnow()
    moved = session.execute(
        update(OutboxRow).where(OutboxRow.id.in_(ids), OutboxRow.state == OutboxState.RECEIVED)
        .values(state=OutboxState.SUBMITTED, tx_hash=tx_hash, nonce=nonce, attempts=OutboxRow.attempts + 1,
                submitted_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    if moved.rowcount != len(set(ids)):  # type: ignore[attr-defined]
        raise IllegalTransitionError(str(list(ids)), OutboxState.RECEIVED, OutboxState.SUBMITTED,
                                     f"only {moved.rowcount} of the {len(set(ids))} rows were received")  # type: ignore[attr-defined]


def transition(
    session: Session,
    row: OutboxRow,
    to: OutboxState,
    *,
    tx_hash: str | None = None,
    nonce: int | None = None,
    error: str | None = None,
    events: Sequence[Event] = (),
    revert: ContractRevertError | None = None,
    locked: bool = False,
) -> OutboxRow:
    """Move ``row`` to state ``to``, in the caller's transaction (the row is locked first and re-read, so
    two writers cannot both move it; ``locked``: the caller read it in this transaction with
    ``with_for_update()`` already, as the chain writer reads a batch's rows at once).

    - ``submitted`` needs ``tx_hash`` and ``nonce`` and counts an attempt; from ``submitted`` it records a
      replacement transaction (same nonce, new hash).
    - ``confirmed`` may give the final ``tx_hash`` (if a replacement was the one mined); from ``received``
      (the effect was made before, by the transaction ``tx_hash``) it needs it.
    - ``failed`` records ``error``.
    - ``received`` again (from ``submitted``: its batch transaction was mined reverted) clears the hash and
      nonce and records ``error``; the attempt count stays, and tells the writer to send the row alone.

    On ``confirmed`` or ``failed`` the :func:`on_final` hooks run, in this same transaction, with a
    :class:`RowOutcome` of ``events`` (the decoded events of the transaction that made the effect) and
    ``revert`` (the contract's decoded refusal): a row whose payload names an operation (``"operation"``, see
    :mod:`node.operations.models`) so completes that operation's flow.

    Raises:
        IllegalTransitionError: not an allowed transition, or a required field is missing.
    """
    target = OutboxState(to)
    if not locked:
        row = session.scalars(select(OutboxRow).where(OutboxRow.id == row.id).with_for_update()
                              .execution_options(populate_existing=True)).one()
    current = row.state
    if target not in TRANSITIONS[current]:
        raise IllegalTransitionError(row.idempotency_key, current, target)
    if tx_hash is not None and (len(tx_hash) != TX_HASH_LENGTH or not tx_hash.startswith("0x")):
        raise IllegalTransitionError(row.idempotency_key, current, target, f"malformed tx hash {tx_hash!r}")
    now = utcnow()
    with _transitioning():
        if target is OutboxState.SUBMITTED:
            if tx_hash is None or nonce is None:
                raise IllegalTransitionError(row.idempotency_key, current, target, "needs tx_hash and nonce")
            if current is OutboxState.SUBMITTED and nonce != row.nonce:
                raise IllegalTransitionError(row.idempotency_key, current, target,
                                             f"a replacement keeps nonce {row.nonce}, got {nonce}")
            row.tx_hash = tx_hash
            row.nonce = nonce
            row.attempts += 1
            row.submitted_at = now
        elif target is OutboxState.CONFIRMED:
            if tx_hash is None and current is OutboxState.RECEIVED:
                raise IllegalTransitionError(row.idempotency_key, current, target,
                                             "needs the tx_hash of the transaction that made the effect")
            if tx_hash is not None:
                row.tx_hash = tx_hash
            row.completed_at = now
        elif target is OutboxState.RECEIVED:
            row.tx_hash = None
            row.nonce = None
            row.last_error = error
        elif target is OutboxState.FAILED:
            row.last_error = error
            row.completed_at = now
        elif target is OutboxState.REVERSED and error is not None:
            row.last_error = error
        row.state = target
        row.updated_at = now
    if not locked:  # (a batch's rows, read and locked together, are flushed together: one UPDATE for many)
        session.flush()
    if target in (OutboxState.CONFIRMED, OutboxState.FAILED):
        _run_final_hooks(session, row, RowOutcome(target is OutboxState.CONFIRMED, events, revert))
    return row
