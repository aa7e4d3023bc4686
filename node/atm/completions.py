"""How an ATM cash-out moves on (its stages, and the only moves between them) and what the chain's answer does
to a cash-in or a cash-out: the completions the chain writer runs when an outbox row of theirs becomes final
(registered at import; :mod:`node.atm.service` imports this module and moves cash-outs with it too).

A cash-out's stage is kept in its operation's ``details["stage"]`` (:class:`CashOutStage`, with the operation's
status beside it)::

    placing (pending)  -- hold placed -->  held (held)       -- hold refused -->  failed (failed)
    held               -- dispensed   -->  capturing (held)  -- burned       -->  captured (completed)
    held               -- fault, or no dispense within the timeout -->  releasing (held)  -->  released (released)
    capturing          -- capture refused -->  capture_failed (held): the next dispense confirmation retries
    releasing          -- release refused -->  release_failed (held): the sweep retries a few times

:func:`move_cash_out` is the only place a stage changes; it refuses a move not in :data:`CASH_OUT_MOVES`. The
requests (:mod:`node.atm.service`) move a held cash-out to ``capturing`` or ``releasing``; the completions
below make every other move.

Cash-in: the mint confirmed books debit the ATM's cash, credit ``chain:issued``; refused, the notes are in the
ATM but not on chain, so they are owed to the customer: debit the ATM's cash, credit ``wallet:funding`` (the
suspense account), and the operation fails with the reason.

Cash-out: each step of the hold (place, capture, release) moves the cash-out to its next stage
(:func:`move_cash_out`). A capture books debit ``chain:issued``, credit the ATM's cash (the
notes left the ATM), under the operation's ref. A release the chain refuses with ``HoldNotActive`` was done
by the holder (after the hold expired): the cash-out is released all the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from sqlalchemy.orm import Session

from node.db.base import utcnow
from node.errors import NodeError
from node.ledger.accounts import CHAIN_ISSUED, FUNDING_SUSPENSE
from node.operations.models import Operation, OperationKind, OperationStatus, completes, finish, operation_ledger
from node.outbox import OutboxRow, RowOutcome
from wallet_sdk.reverts import HoldNotActive

__all__ = ["CASH_OUT_MOVES", "STAGE_STATUS", "CashOutStage", "IllegalStageError", "cash_out_stage", "move_cash_out"]


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


class IllegalStageError(NodeError, ValueError):
    """A cash-out was asked to move between two stages :data:`CASH_OUT_MOVES` does not link (a bug: the
    services check the stage before they act, and each on-chain step completes once; so ``internal``)."""

    def __init__(self, operation: str, current: CashOutStage, target: CashOutStage) -> None:
        self.operation = operation
        self.current = current
        self.target = target
        super().__init__(f"cash-out {operation}: {current.value} -> {target.value} is not allowed")


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


# ------------------------------------------------------------------ completions


@completes(OperationKind.ATM_CASH_IN)
def _complete_cash_in(session: Session, op: Operation, row: OutboxRow, outcome: RowOutcome) -> None:
    if op.final:
        return
    amount, cash = int(op.amount_minor or 0), str(op.account)
    ledger = operation_ledger(session, op)
    if outcome.confirmed:
        ledger.debit(cash, amount, contra=CHAIN_ISSUED, reference=f"{op.public_id}:mint", correlation_id=op.ref,
                     memo=f"ATM cash-in {op.ref}")
        finish(op, OperationStatus.COMPLETED, tx_hash=row.tx_hash)
        return
    # The notes are in the ATM but nothing was minted: they are owed to the customer until someone pays out.
    ledger.debit(cash, amount, contra=FUNDING_SUSPENSE, reference=f"{op.public_id}:unminted",
                 memo=f"ATM cash-in {op.ref}: mint failed, owed to the customer")
    finish(op, OperationStatus.FAILED, error=f"the mint failed ({row.last_error or 'refused on chain'}); the "
           f"{amount} counted is booked to {FUNDING_SUSPENSE}, owed to the customer")


@completes(OperationKind.ATM_CASH_OUT)
def _complete_cash_out(session: Session, op: Operation, row: OutboxRow, outcome: RowOutcome) -> None:
    step = row.payload.get("step")
    error = row.last_error or "refused on chain"
    if step == "place":
        if outcome.confirmed:
            move_cash_out(op, CashOutStage.HELD, tx_hash=row.tx_hash, held_at=utcnow().isoformat())
        else:
            move_cash_out(op, CashOutStage.FAILED, error=f"the hold was not placed: {error}")
    elif step == "capture":
        if outcome.confirmed:
            amount = int(op.amount_minor or 0)
            ledger = operation_ledger(session, op)
            ledger.debit(CHAIN_ISSUED, amount, contra=str(op.account), reference=f"{op.public_id}:capture",
                         correlation_id=op.ref, memo=f"ATM cash-out {op.ref}: notes dispensed")
            move_cash_out(op, CashOutStage.CAPTURED, tx_hash=row.tx_hash)
        else:  # the notes are out: the hold stays; a new dispense confirmation retries the capture
            move_cash_out(op, CashOutStage.CAPTURE_FAILED, error=f"the capture failed: {error}")
    elif step == "release":
        if outcome.confirmed:
            move_cash_out(op, CashOutStage.RELEASED, tx_hash=row.tx_hash)
        elif isinstance(outcome.revert, HoldNotActive):  # only the holder can have ended it: released after expiry
            move_cash_out(op, CashOutStage.RELEASED, released_by="holder")
        else:
            move_cash_out(op, CashOutStage.RELEASE_FAILED, error=f"the release failed: {error}")
    else:
        raise ValueError(f"outbox row {row.idempotency_key} of {op.public_id} names no known step: {step!r}")
