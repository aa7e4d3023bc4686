"""Bodies of the risk API (node/risk/): rules (strict, bounded: the same bounds as node.risk.rules.Rule), decisions,
reviews and the suspicious-activity export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.common import MAX_DB_INT, RequestModel, StrictInt

__all__ = ["DecisionOut", "ExportOut", "ReviewIn", "RuleIn", "RuleSetChangeOut", "RulesIn", "RulesOut"]

_DAY30 = 30 * 86_400
Count = Annotated[StrictInt, Field(ge=1, le=99)]


class RuleIn(RequestModel):
    """One rule (docs/risk.md lists each kind with the parameters it reads; the others are ignored)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$", description="unique in the set; decisions name it")
    kind: Literal["velocity", "amount_vs_history", "new_payee_amount", "fan_out", "structuring",
                  "second_factor_failures", "night_high_value", "new_wallet_full_limit"]
    action: Literal["allow", "step_up", "review", "decline", "freeze"]
    enabled: bool = True
    flows: list[Literal["p2p", "merchant_payment", "redemption", "atm_cash_out"]] | None = Field(None, max_length=4)
    channels: list[Literal["app", "teller", "merchant", "atm"]] | None = Field(None, max_length=4)
    signed_by: Literal["bank", "customer"] | None = None
    window: StrictInt = Field(3600, ge=1, le=_DAY30, description="seconds")
    max_count: Count = 10
    max_amount: StrictInt | None = Field(None, ge=1, le=MAX_DB_INT, description="minor units")
    min_amount: StrictInt = Field(0, ge=0, le=MAX_DB_INT, description="minor units")
    multiple: StrictInt = Field(5, ge=2, le=1000)
    min_history: Count = 5
    percent: StrictInt = Field(90, ge=1, le=100)
    night_start: StrictInt = Field(0, ge=0, le=23, description="hour, bank time")
    night_end: StrictInt = Field(6, ge=0, le=23, description="hour, bank time (exclusive)")


class RulesIn(RequestModel):
    rules: list[RuleIn] = Field(max_length=64, description="the whole new set (names unique)")
    reason: str = Field(min_length=1, max_length=500, description="why (kept in the audit record)")


class RulesOut(BaseModel):
    rules: list[dict[str, Any]] = Field(description="the rules in force")
    version: int | None = Field(description="the rule set's id; null: the node's settings (or the defaults)")
    changed_at: datetime | None = None
    reason: str | None = None


class RuleSetChangeOut(BaseModel):
    version: int
    rules: list[dict[str, Any]]
    previous: list[dict[str, Any]] | None
    reason: str
    api_key_id: int | None
    created_at: datetime


class DecisionOut(BaseModel):
    id: str = Field(description="rd_ + 32 hex digits")
    action: str = Field(description="step_up, review, decline or freeze")
    flow: str
    channel: str
    wallet: str
    counterparty: str | None
    amount: int = Field(description="minor units of currency")
    currency: str
    hits: list[dict[str, Any]] = Field(description="each rule that fired: rule, kind, action and the features it "
                                                   "saw with their values")
    operation_id: str | None = Field(description="the operation held for review, or the freeze's")
    review_state: str | None = Field(description="pending, approved, declined, expired; null: not held")
    expires_at: datetime | None
    review_reason: str | None
    reviewed_at: datetime | None
    created_at: datetime


class ReviewIn(RequestModel):
    reason: str = Field(min_length=1, max_length=500, description="why (kept with the decision; shown to auditors)")


class ExportOut(BaseModel):
    start: str
    end: str
    items: list[dict[str, Any]] = Field(description="each suspicious decision, with its rules and features")
