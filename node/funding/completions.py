"""What the chain's answer does to a top-up or a redemption: the completions the chain writer runs when their
outbox row becomes final (registered at import; :mod:`node.funding.service` imports this module).

Top-up: the mint confirmed captures the deposit account's hold against ``chain:issued`` under the mint's ref;
refused (a cap, a paused network ...), the hold is released: the money is back in the account. Redemption: the
burn confirmed credits the account, debiting ``chain:issued``; a refused burn books nothing.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from node.ledger.accounts import CHAIN_ISSUED
from node.operations.models import Operation, OperationKind, completes, confirmed, operation_ledger, refused
from node.outbox import OutboxRow, RowOutcome

__all__: list[str] = []  # nothing to call: the completions are registered with node.operations.models


@completes(OperationKind.TOPUP)
def _top_up_done(session: Session, op: Operation, row: OutboxRow, outcome: RowOutcome) -> None:
    ledger = operation_ledger(session, op)
    hold_ref = str(op.details["hold"])
    if outcome.confirmed:
        ledger.capture(hold_ref, contra=CHAIN_ISSUED, entry_reference=op.ref, memo=f"top-up {op.ref}")
        confirmed(op, row)
    else:
        ledger.release(hold_ref)
        refused(op, row, outcome, "the mint failed")


@completes(OperationKind.REDEMPTION)
def _redemption_done(session: Session, op: Operation, row: OutboxRow, outcome: RowOutcome) -> None:
    if not outcome.confirmed:
        refused(op, row, outcome, "the burn failed")
        return
    assert op.account is not None and op.amount_minor is not None and op.ref is not None
    ledger = operation_ledger(session, op)
    ledger.credit(op.account, op.amount_minor, contra=CHAIN_ISSUED, reference=op.ref, correlation_id=op.ref,
                  memo=f"redemption {op.ref} from wallet {op.wallet}")
    confirmed(op, row)
