"""What the chain's answer does to a merchant flow: the completions the chain writer runs when an outbox row of
an onboarding, a payment, a refund or a settlement becomes final (registered at import;
:mod:`node.merchants.service` imports this module).

- Onboarding: its wallets become active (or failed) as their openings end; the registration's outcome is the
  merchant's and the operation's.
- Payment and refund: one call each; the chain's answer is the operation's. Nothing is booked: the money moves
  between wallets and the settlement contract, no bank's issuance changes.
- Settlement: the MerchantSettled event of the transaction (handed over in the row's
  :class:`~node.outbox.RowOutcome`) gives the amounts: the acquirer's fee income is booked (Dr the fee wallet's
  ``digital_cash`` account, Cr ``income:fees``) and, for a bank-account payout, the burned net (Dr
  ``chain:issued``, Cr the merchant's settlement account), both under the settlement's ref.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from node.chain_ids import id_bytes
from node.db.base import utcnow
from node.ledger.accounts import CHAIN_ISSUED, FEE_INCOME
from node.ledger.types import AccountKind
from node.merchants.models import FEE_WALLET_ACCOUNT, MerchantState, PayoutMode, find_merchant
from node.operations.models import Operation, OperationKind, completes, confirmed, operation_ledger, refused
from node.outbox import OutboxRow, RowOutcome
from node.wallets.models import WalletState, find_wallet
from wallet_sdk.chain.events import Event

__all__: list[str] = []  # nothing to call: the completions are registered with node.operations.models

log = logging.getLogger(__name__)


@completes(OperationKind.MERCHANT_ONBOARD)
def _onboarded(session: Session, op: Operation, row: OutboxRow, outcome: RowOutcome) -> None:
    step = row.payload.get("step")
    if step in ("open", "fee_open"):
        record = find_wallet(session, str(row.payload.get("wallet")), lock=True)
        if record is not None and record.state is WalletState.PENDING:
            record.state = WalletState.ACTIVE if outcome.confirmed else WalletState.FAILED
            record.updated_at = utcnow()
    if step == "fee_set" and not outcome.confirmed:
        log.error("the fee wallet of %s could not be set: %s", op.details.get("fee_wallet"), row.last_error)
    if step != "register":
        return
    merchant = find_merchant(session, str(op.details.get("merchant_id")), lock=True)
    if merchant is not None and merchant.state is MerchantState.PENDING:
        merchant.state = MerchantState.ACTIVE if outcome.confirmed else MerchantState.FAILED
        merchant.updated_at = utcnow()
    if outcome.confirmed:
        confirmed(op, row)
    else:
        refused(op, row, outcome, "the chain refused the registration")


@completes(OperationKind.MERCHANT_PAYMENT)
@completes(OperationKind.MERCHANT_REFUND)
def _relayed(session: Session, op: Operation, row: OutboxRow, outcome: RowOutcome) -> None:
    if outcome.confirmed:
        confirmed(op, row)
    else:
        refused(op, row, outcome, f"the chain refused the {op.kind.value}", tx_hash=row.tx_hash)


def _settled_event(op: Operation, outcome: RowOutcome) -> Event | None:
    ref = id_bytes(op.ref or "")
    return next((e for e in outcome.events if e.name == "MerchantSettled" and bytes(e["ref"]) == ref), None)


@completes(OperationKind.SETTLEMENT)
def _settled(session: Session, op: Operation, row: OutboxRow, outcome: RowOutcome) -> None:
    if not outcome.confirmed:
        refused(op, row, outcome, "the settlement failed", tx_hash=row.tx_hash)
        return
    event = _settled_event(op, outcome)
    if event is None:  # the writer always hands the receipt over; without it the amounts are unknown here
        log.error("settlement %s confirmed without its MerchantSettled event: nothing booked", op.public_id)
        confirmed(op, row, booked=False)
        return
    fee, net = int(event["fee"]), int(event["net"])
    ledger = operation_ledger(session, op)
    if fee:
        ledger.open_account(FEE_WALLET_ACCOUNT, AccountKind.DIGITAL_CASH, op.currency or "", name="fee wallet")
        ledger.credit(FEE_INCOME, fee, contra=FEE_WALLET_ACCOUNT, reference=f"{op.ref}:fee", correlation_id=op.ref,
                      memo=f"acquiring fee, merchant {op.details.get('merchant_id')} batch {int(event['batchId'])}")
    if net and op.details.get("payout_mode") == PayoutMode.BANK_ACCOUNT.value:
        ledger.credit(op.account or "", net, contra=CHAIN_ISSUED, reference=f"{op.ref}:payout", correlation_id=op.ref,
                      memo=f"settlement of merchant {op.details.get('merchant_id')} batch {int(event['batchId'])}")
    op.amount_minor = net
    confirmed(op, row, batch_id=int(event["batchId"]), gross=int(event["gross"]), refunds=int(event["refunds"]),
              fee=fee, net=net, booked=True)
