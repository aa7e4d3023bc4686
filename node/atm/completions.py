"""What the chain's answer does to an ATM cash-in or cash-out: the completions the chain writer runs when an
outbox row of theirs becomes final (registered at import; :mod:`node.atm.service` imports this module).

Cash-in: the mint confirmed books debit the ATM's cash, credit ``chain:issued``; refused, the notes are in the
ATM but not on chain, so they are owed to the customer: debit the ATM's cash, credit ``wallet:funding`` (the
suspense account), and the operation fails with the reason.

Cash-out: each step of the hold (place, capture, release) moves the cash-out to its next stage
(:func:`~node.atm.models.move_cash_out`). A capture books debit ``chain:issued``, credit the ATM's cash (the
notes left the ATM), under the operation's ref. A release the chain refuses with ``HoldNotActive`` was done
by the holder (after the hold expired): the cash-out is released all the same.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from node.atm.models import CashOutStage, move_cash_out
from node.db.base import utcnow
from node.ledger.accounts import CHAIN_ISSUED, FUNDING_SUSPENSE
from node.operations.models import Operation, OperationKind, OperationStatus, completes, finish, operation_ledger
from node.outbox import OutboxRow, RowOutcome
from wallet_sdk.contract_errors import HoldNotActive

__all__: list[str] = []  # nothing to call: the completions are registered with node.operations.models


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
