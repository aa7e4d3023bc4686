"""What the chain's answer does to a wallet's record: the completions of the wallet flows (opening, tier change,
freeze, unfreeze, bank-account binding, closure), which the chain writer runs when their outbox row becomes
final (registered at import; :mod:`node.wallets.service` imports this module).

Confirmed, the record takes the change (an opened wallet becomes active, a frozen one frozen ...); refused,
the operation fails with the chain's reason and the record stays as it was (an opening's record fails). A
closure credits what ``closeWallet`` burned to the bound account against ``chain:issued``: the amount is read
from the ``WalletClosed`` event the writer hands over (:class:`~node.outbox.RowOutcome`), else the balance
seen when the closure was accepted (exact: the closure is refused while any other operation is in flight).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from node.db.base import utcnow
from node.ledger.accounts import CHAIN_ISSUED, FUNDING_SUSPENSE
from node.operations.models import (
    Operation,
    OperationKind,
    OperationStatus,
    completes,
    completes_in_bulk,
    finish,
    operation_ledger,
)
from node.outbox import OutboxRow, RowOutcome, before_final
from node.wallets.models import WalletRecord, WalletState, find_wallet

__all__: list[str] = []  # nothing to call: the completions are registered with node.operations.models

_OPENING: Final = "walletnet_opening_wallets"  # session.info: the records a writer's batch of openings completes


@before_final
def _lock_openings(session: Session, rows: Sequence[OutboxRow]) -> None:
    """Read and lock the records a writer's batch of openings completes, in one query (each would be read on its
    own by :func:`_opened`: a bulk enrolment's batch has a few hundred)."""
    wallets = [row.payload["wallet"] for row in rows if row.kind == "open_wallet" and isinstance(row.payload, dict)
               and isinstance(row.payload.get("wallet"), str)]
    if len(wallets) > 1:
        found = session.scalars(select(WalletRecord).where(WalletRecord.address.in_(wallets)).with_for_update())
        session.info.setdefault(_OPENING, {}).update({record.address: record for record in found})


@completes(OperationKind.WALLET_OPEN)
def _opened(session: Session, op: Operation, row: OutboxRow, outcome: RowOutcome) -> None:
    record = session.info.get(_OPENING, {}).get(op.wallet) or find_wallet(session, op.wallet or "", lock=True)
    if record is not None and record.state is WalletState.PENDING:
        record.state = WalletState.ACTIVE if outcome.confirmed else WalletState.FAILED
        record.updated_at = utcnow()
    _done(op, row, outcome, "the chain refused the opening")


@completes_in_bulk(OperationKind.WALLET_OPEN)
def _opened_in_bulk(session: Session, ops: Sequence[Row[Any]], _tx_hash: str) -> None:
    """:func:`_opened` for a batch of openings the chain confirmed whole: their pending records become active."""
    session.execute(update(WalletRecord).where(WalletRecord.address.in_([op.wallet for op in ops]),
                                              WalletRecord.state == WalletState.PENDING)
                    .values(state=WalletState.ACTIVE, updated_at=utcnow()).execution_options(synchronize_session=False))


def _set_tier(record: WalletRecord, op: Operation) -> None:
    record.tier = int(op.details["tier"])


def _freeze(record: WalletRecord, op: Operation) -> None:
    if record.state is WalletState.ACTIVE:
        record.state = WalletState.FROZEN
    record.freeze_reason = int(op.details["reason"])


def _unfreeze(record: WalletRecord, _op: Operation) -> None:
    if record.state is WalletState.FROZEN:
        record.state = WalletState.ACTIVE
    record.freeze_reason = None


def _bind(record: WalletRecord, op: Operation) -> None:
    record.account_code = op.account
    record.account_salt = op.details["account_salt"]
    record.account_hash = op.details["account_hash"]


_CHANGES: Final[Mapping[OperationKind, Callable[[WalletRecord, Operation], None]]] = {
    OperationKind.TIER_CHANGE: _set_tier,
    OperationKind.FREEZE: _freeze,
    OperationKind.UNFREEZE: _unfreeze,
    OperationKind.ACCOUNT_BINDING: _bind,
}
"""What each administrative change does to the wallet's record once the chain has it."""


@completes(OperationKind.TIER_CHANGE)
@completes(OperationKind.FREEZE)
@completes(OperationKind.UNFREEZE)
@completes(OperationKind.ACCOUNT_BINDING)
def _changed(session: Session, op: Operation, row: OutboxRow, outcome: RowOutcome) -> None:
    """An administrative change confirmed applies to the record; refused, the record stays as it was."""
    record = find_wallet(session, op.wallet or "", lock=True)
    if outcome.confirmed and record is not None:
        _CHANGES[op.kind](record, op)
        record.updated_at = utcnow()
    _done(op, row, outcome, "the chain refused the change")


def _done(op: Operation, row: OutboxRow, outcome: RowOutcome, refused: str) -> None:
    if outcome.confirmed:
        finish(op, OperationStatus.COMPLETED, tx_hash=row.tx_hash)
    else:
        finish(op, OperationStatus.FAILED, error=row.last_error or refused)


def _burned(op: Operation, row: OutboxRow, outcome: RowOutcome) -> tuple[int, str]:
    """The amount ``closeWallet`` burned, and where it was read from."""
    for event in outcome.events:
        if event.name == "WalletClosed" and event["wallet"] == op.wallet:
            return int(event["redeemed"]), "receipt"
    return int(row.payload.get("expected_amount", op.amount_minor or 0)), "balance_at_request"


@completes(OperationKind.WALLET_CLOSE)
def _closed(session: Session, op: Operation, row: OutboxRow, outcome: RowOutcome) -> None:
    record = find_wallet(session, op.wallet or "", lock=True)
    if not outcome.confirmed:
        if record is not None and record.state is WalletState.CLOSING:
            record.state = WalletState(op.details.get("previous_state", WalletState.ACTIVE.value))
            record.updated_at = utcnow()
        finish(op, OperationStatus.FAILED, error=row.last_error or "the chain refused the closure")
        return
    burned, source = _burned(op, row, outcome)
    if burned:
        ledger = operation_ledger(session, op)
        # Paid out to the bound account; without one (money arrived after a zero-balance check) it waits in
        # the funding suspense account for the bank to pay it out by hand.
        payee = op.account or FUNDING_SUSPENSE
        ledger.credit(payee, burned, contra=CHAIN_ISSUED, reference=f"{op.ref}:payout", correlation_id=op.ref,
                      memo=f"closure of wallet {op.wallet}")
    if record is not None:
        record.state = WalletState.CLOSED
        record.updated_at = utcnow()
    op.amount_minor = burned
    finish(op, OperationStatus.COMPLETED, tx_hash=row.tx_hash, burned=burned, burned_from=source)
