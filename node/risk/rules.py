"""The risk rules a bank screens every outflow with: what each kind looks at, its parameters and its action.

A bank's rules start as the setting ``risk_rules`` (a list in the config file; the defaults below when it is not
set) and are replaced as a whole through the API (``PUT /v1/risk/rules``, audited in ``risk_rule_sets``). Each
rule has a kind (what it measures), an action (what happens when it fires) and a scope (which payments it looks
at: flows, channels, who signed). The defaults are tuned so that ordinary traffic, the test suite and the
benchmarks (a few self-custody payers paying thousands of payees) never trip them, while a stolen app
credential driving a custodial wallet is stopped within three payments (docs/risk.md says why each is set so).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["DEFAULT_RULES", "FLOWS", "MAX_EVENTS", "Action", "Rule", "RuleKind", "default_rules", "stronger"]

MAX_EVENTS: Final = 100  # a wallet's recent outflows the engine keeps (node.risk.state): counts saturate here


class Action(StrEnum):
    """What a decision does, weakest first."""

    ALLOW = "allow"
    STEP_UP = "step_up"  # the second factor even below its threshold
    REVIEW = "review"  # the operation waits as pending_review for a risk officer (a timeout declines)
    DECLINE = "decline"  # problem risk-declined, nothing moves
    FREEZE = "freeze"  # declined, and the wallet frozen on chain (the customer is notified)


_ORDER: Final = {action: n for n, action in enumerate(Action)}


def stronger(a: Action, b: Action) -> Action:
    return a if _ORDER[a] >= _ORDER[b] else b


class RuleKind(StrEnum):
    VELOCITY = "velocity"  # more than max_count payments, or more than max_amount, in window seconds
    AMOUNT_VS_HISTORY = "amount_vs_history"  # above multiple x the median of the last 30 days (min_history of them)
    NEW_PAYEE_AMOUNT = "new_payee_amount"  # a first payment to a payee, at or above min_amount
    FAN_OUT = "fan_out"  # more than max_count new payees in window seconds
    STRUCTURING = "structuring"  # max_count or more payments just below the second-factor threshold in window
    SECOND_FACTOR_FAILURES = "second_factor_failures"  # max_count or more wrong TOTP codes (lock-outs count max)
    NIGHT_HIGH_VALUE = "night_high_value"  # at or above min_amount between night_start and night_end, bank time
    NEW_WALLET_FULL_LIMIT = "new_wallet_full_limit"  # opened < window s ago, one payment >= percent% of daily limit


FLOWS: Final = ("p2p", "merchant_payment", "redemption", "atm_cash_out")
_NAME = r"^[a-z0-9][a-z0-9_-]{0,47}$"
_BIG: Final = 2**63 - 1


class Rule(BaseModel):
    """One rule. Parameters a kind does not use are ignored; ``None`` in a scope list means any."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME, description="unique in the set; decisions name it")
    kind: RuleKind
    action: Action
    enabled: bool = True
    flows: list[Literal["p2p", "merchant_payment", "redemption", "atm_cash_out"]] | None = Field(
        None, max_length=4, description="the outflows it looks at (any if null)")
    channels: list[Literal["app", "teller", "merchant", "atm"]] | None = Field(
        None, max_length=4, description="the channels it looks at (any if null)")
    signed_by: Literal["bank", "customer"] | None = Field(
        None, description="bank: payments the bank signs for a custodial wallet on a credential's word alone")
    window: int = Field(3600, ge=1, le=30 * 86_400, description="seconds")
    max_count: int = Field(10, ge=1, le=MAX_EVENTS - 1)
    max_amount: int | None = Field(None, ge=1, le=_BIG, description="minor units (velocity)")
    min_amount: int = Field(0, ge=0, le=_BIG, description="minor units")
    multiple: int = Field(5, ge=2, le=1000, description="amount_vs_history: times the median")
    min_history: int = Field(5, ge=1, le=MAX_EVENTS - 1, description="amount_vs_history: payments needed first")
    percent: int = Field(90, ge=1, le=100, description="structuring / new_wallet_full_limit: of the limit")
    night_start: int = Field(0, ge=0, le=23, description="hour, bank time")
    night_end: int = Field(6, ge=0, le=23, description="hour, bank time (exclusive)")

    def applies(self, flow: str, channel: str, signed_by: str | None) -> bool:
        return self.enabled and (self.flows is None or flow in self.flows) \
            and (self.channels is None or channel in self.channels) \
            and (self.signed_by is None or self.signed_by == signed_by)


class RuleSet(BaseModel):
    """A whole set, names unique."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[Rule] = Field(max_length=64)

    @model_validator(mode="after")
    def _unique(self) -> RuleSet:
        names = [r.name for r in self.rules]
        if len(names) != len(set(names)):
            raise ValueError("rule names must be unique")
        return self


DEFAULT_RULES: Final[tuple[Rule, ...]] = (
    # a credential alone driving a custodial wallet: the 4th new payee within 10 minutes freezes it
    Rule(name="fan-out-new-payees", kind=RuleKind.FAN_OUT, action=Action.FREEZE, window=600, max_count=3,
         channels=["app"], signed_by="bank"),
    Rule(name="velocity-app", kind=RuleKind.VELOCITY, action=Action.REVIEW, window=600, max_count=20,
         channels=["app"], signed_by="bank"),
    Rule(name="new-payee-large", kind=RuleKind.NEW_PAYEE_AMOUNT, action=Action.REVIEW, min_amount=500_000,
         flows=["p2p"]),
    Rule(name="above-history", kind=RuleKind.AMOUNT_VS_HISTORY, action=Action.STEP_UP, multiple=5, min_history=5,
         min_amount=20_000),
    Rule(name="structuring", kind=RuleKind.STRUCTURING, action=Action.REVIEW, window=86_400, max_count=3,
         percent=90),
    Rule(name="second-factor-failures", kind=RuleKind.SECOND_FACTOR_FAILURES, action=Action.REVIEW, max_count=10),
    Rule(name="night-high-value", kind=RuleKind.NIGHT_HIGH_VALUE, action=Action.STEP_UP, min_amount=1_000_000,
         night_start=0, night_end=6),
    Rule(name="new-wallet-full-limit", kind=RuleKind.NEW_WALLET_FULL_LIMIT, action=Action.REVIEW, window=600,
         percent=90),
)


def default_rules() -> list[Rule]:
    return list(DEFAULT_RULES)
