"""The ATM tables: the registry of the bank's ATMs, the signed messages seen (to refuse replays) and the ATM
events answered (so an ATM's retry of an event gets the first answer); and the stages of a cash-out.

A cash-out's stage is kept in its operation's ``details["stage"]`` (:class:`CashOutStage`, with the operation's
status beside it)::

    placing (pending)  -- hold placed -->  held (held)       -- hold refused -->  failed (failed)
    held               -- dispensed   -->  capturing (held)  -- burned       -->  captured (completed)
    held               -- fault, or no dispense within the timeout -->  releasing (held)  -->  released (released)
    capturing          -- capture refused -->  capture_failed (held): the next dispense confirmation retries
    releasing          -- release refused -->  release_failed (held): the sweep retries a few times

:func:`move_cash_out` is the only place a stage changes; it refuses a move not in :data:`CASH_OUT_MOVES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.db.base import Base, IdType, JsonType, UTCDateTime, str_enum, utcnow
from node.operations.models import Operation, OperationStatus, finish

__all__ = [
    "CASH_OUT_MOVES",
    "STAGE_STATUS",
    "Atm",
    "AtmEvent",
    "AtmMessage",
    "AtmState",
    "CashOutStage",
    "IllegalStageError",
    "cash_out_stage",
    "hold_key",
    "move_cash_out",
]


class AtmState(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # every message of the ATM is refused


class Atm(Base):
    __tablename__ = "atms"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    atm_id: Mapped[str] = mapped_column(String(32), unique=True)  # the bank's name for the device
    name: Mapped[str] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[AtmState] = mapped_column(str_enum(AtmState, "atm_state"))
    secret_ciphertext: Mapped[str] = mapped_column(Text)  # the device secret, encrypted (node.custody)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:  # never the secret
        return f"Atm({self.atm_id!r}, {self.state.value})"


class AtmMessage(Base):
    """A signed message that passed authentication; the same signature again is a replay. Rows older than
    the clock-skew window are pruned: such a message would be refused for its timestamp anyway."""

    __tablename__ = "atm_messages"
    __table_args__ = (UniqueConstraint("atm_id", "signature"), Index("ix_atm_messages_timestamp", "timestamp"))

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    atm_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(64))  # hex HMAC-SHA256
    timestamp: Mapped[int] = mapped_column(BigInteger)  # the message's, Unix seconds
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AtmEvent(Base):
    """An ATM event (its ``event_id``) and the answer it got: the same event again gets the same answer."""

    __tablename__ = "atm_events"
    __table_args__ = (UniqueConstraint("atm_id", "event_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    atm_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))  # sha256 of method, path and JSON body
    operation: Mapped[str | None] = mapped_column(String(40))  # the operation's public id, if any
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# ------------------------------------------------------------------ the stages of a cash-out


class CashOutStage(StrEnum):
    """Where a cash-out's hold is (stored as ``details["stage"]``; the values are those rows already hold)."""

    PLACING = "placing"  # the hold is enqueued, not on chain yet
    HELD = "held"  # the hold is on chain: the ATM may dispense
    FAILED = "failed"  # the chain refused the hold: nothing happened
    CAPTURING = "capturing"  # dispensed: the capture (burn) is enqueued
    CAPTURED = "captured"  # burned: the cash-out is done
    CAPTURE_FAILED = "capture_failed"  # the chain refused the capture; the next dispense confirmation retries
    RELEASING = "releasing"  # not dispensed (fault or timeout): the release is enqueued
    RELEASED = "released"  # the money is back in the wallet
    RELEASE_FAILED = "release_failed"  # the chain refused the release; the sweep retries


STAGE_STATUS: Final[Mapping[CashOutStage, OperationStatus]] = {
    CashOutStage.PLACING: OperationStatus.PENDING,
    CashOutStage.HELD: OperationStatus.HELD,
    CashOutStage.FAILED: OperationStatus.FAILED,
    CashOutStage.CAPTURING: OperationStatus.HELD,
    CashOutStage.CAPTURED: OperationStatus.COMPLETED,
    CashOutStage.CAPTURE_FAILED: OperationStatus.HELD,
    CashOutStage.RELEASING: OperationStatus.HELD,
    CashOutStage.RELEASED: OperationStatus.RELEASED,
    CashOutStage.RELEASE_FAILED: OperationStatus.HELD,
}
"""The operation's status in each stage."""

CASH_OUT_MOVES: Final[Mapping[CashOutStage, frozenset[CashOutStage]]] = {
    CashOutStage.PLACING: frozenset({CashOutStage.HELD, CashOutStage.FAILED}),
    CashOutStage.HELD: frozenset({CashOutStage.CAPTURING, CashOutStage.RELEASING}),
    CashOutStage.CAPTURING: frozenset({CashOutStage.CAPTURED, CashOutStage.CAPTURE_FAILED}),
    CashOutStage.CAPTURE_FAILED: frozenset({CashOutStage.CAPTURING}),
    CashOutStage.RELEASING: frozenset({CashOutStage.RELEASED, CashOutStage.RELEASE_FAILED}),
    CashOutStage.RELEASE_FAILED: frozenset({CashOutStage.RELEASING}),
    CashOutStage.FAILED: frozenset(),
    CashOutStage.CAPTURED: frozenset(),
    CashOutStage.RELEASED: frozenset(),
}
"""The stages a cash-out may move to from each stage; the three final ones lead nowhere."""


class IllegalStageError(ValueError):
    """A cash-out was asked to move between two stages :data:`CASH_OUT_MOVES` does not link (a bug: the
    services check the stage before they act, and each on-chain step completes once)."""

    def __init__(self, operation: str, current: CashOutStage, target: CashOutStage) -> None:
        self.operation = operation
        self.current = current
        self.target = target
        super().__init__(f"cash-out {operation}: {current.value} -> {target.value} is not allowed")


def hold_key(hold_id: str, step: str, attempt: int = 1) -> str:
    """The outbox key of a cash-out's hold ``step`` (place, capture, release): by the hold's id, so a withdrawal
    code is placed once at this bank whatever the ATM event; retries of a step count their attempt."""
    return f"atm-hold:{hold_id}:{step}" if attempt == 1 else f"atm-hold:{hold_id}:{step}:{attempt}"


def cash_out_stage(op: Operation) -> CashOutStage:
    return CashOutStage(str((op.details or {}).get("stage", CashOutStage.PLACING.value)))


def move_cash_out(op: Operation, to: CashOutStage, *, error: str | None = None, tx_hash: str | None = None,
                  **details: Any) -> Operation:
    """Move the cash-out ``op`` to stage ``to`` and its operation to that stage's status, recording ``error``,
    ``tx_hash`` and ``details``.

    Raises:
        IllegalStageError: ``to`` is not a stage the current one may move to.
    """
    current = cash_out_stage(op)
    if to not in CASH_OUT_MOVES[current]:
        raise IllegalStageError(op.public_id, current, to)
    return finish(op, STAGE_STATUS[to], error=error, tx_hash=tx_hash, stage=to.value, **details)
