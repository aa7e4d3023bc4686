"""The operation document every flow endpoint answers with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.common import Money
from node.operations.models import Operation

__all__ = ["OperationOut", "operation_out"]


class OperationOut(BaseModel):
    id: str = Field(description="the operation's id (op_...); poll GET /v1/operations/{id} until it is final")
    kind: str = Field(description="wallet_open, tier_change, freeze, unfreeze, account_binding, wallet_close, "
                                  "topup, redemption, atm_cash_in, atm_cash_out, p2p, merchant_onboard, "
                                  "merchant_payment, merchant_refund, settlement")
    status: str = Field(description="pending, pending_review (held by the bank's risk rules for a risk officer), held, "
                                    "completed, failed or released")
    final: bool = Field(description="true once the status will not change any more")
    channel: str
    api_key_id: int | None = Field(None, description="the API key that asked (for a customer session: the key "
                                                     "that minted it)")
    branch: str | None = Field(None, description="the teller's branch (X-Teller-Branch), if a teller asked")
    operator: str | None = Field(None, description="the teller (X-Teller-Operator), if a teller asked")
    customer_session: int | None = Field(None, description="the customer session the app acted in, if any")
    wallet: str | None = None
    counterparty: str | None = None
    amount: Money | None = None
    account: str | None = Field(None, description="the bank account involved, if any")
    ref: str | None = Field(None, description="the reference its on-chain effect carries")
    error: str | None = Field(None, description="why it failed, if it did")
    tx_hash: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None


def operation_out(op: Operation) -> OperationOut:
    amount = None
    if op.amount_minor is not None:
        amount = Money(amount=op.amount_minor, currency=op.currency or "")
    return OperationOut(id=op.public_id, kind=op.kind.value, status=op.status.value, final=op.final,
                        channel=op.channel, api_key_id=op.api_key_id, branch=op.branch, operator=op.operator,
                        customer_session=op.customer_session_id, wallet=op.wallet, counterparty=op.counterparty,
                        amount=amount, account=op.account, ref=op.ref, error=op.error, tx_hash=op.tx_hash,
                        details=dict(op.details or {}), created_at=op.created_at, updated_at=op.updated_at,
                        completed_at=op.completed_at)
