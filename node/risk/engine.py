"""The rule engine: a payment and what the node knows of its wallet in, a verdict out. Pure and in memory, so the
P2P lane runs it per payment on state it read once per batch (node.risk.state); the flows outside the lanes run
it through node.risk.service.

A verdict's action is the strongest of the rules that fired (allow < step_up < review < decline < freeze); each
hit keeps the features its rule saw, with their values, so a decision can be explained to the customer and to
the regulator.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from node.risk.rules import MAX_EVENTS, Action, Rule, RuleKind, stronger

__all__ = ["HISTORY_SECONDS", "Engine", "Hit", "Payment", "Profile", "Verdict", "recorded"]

HISTORY_SECONDS: Final = 30 * 86_400  # the "30-day median" and the longest window a rule may have
FROZEN_RULE: Final = "frozen-by-risk"  # the engine froze the wallet; the freeze is on its way to the chain


@dataclass(frozen=True)
class Payment:
    """An outflow as the engine sees it (``signed_by``: ``bank`` for a custodial wallet the bank signs for)."""

    flow: str
    wallet: str
    payee: str | None
    amount_minor: int
    channel: str
    signed_by: str | None
    now: int  # unix seconds


@dataclass
class Profile:
    """What the node knows of the paying wallet (``spent_today`` is read only if a rule needs it)."""

    events: list[list[int]]  # [time, amount, new payee 0/1], newest last
    known_payee: bool
    opened_at: int | None = None
    second_factor_failures: int = 0
    daily_limit: int | None = None
    frozen: bool = False


@dataclass(frozen=True)
class Hit:
    rule: str
    kind: str
    action: Action
    features: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "kind": self.kind, "action": self.action.value, "features": self.features}


@dataclass(frozen=True)
class Verdict:
    action: Action
    hits: tuple[Hit, ...] = field(default=())

    @property
    def allowed(self) -> bool:
        return self.action is Action.ALLOW


ALLOW: Final = Verdict(Action.ALLOW)


def _within(events: list[list[int]], now: int, window: int) -> list[list[int]]:
    since = now - window
    return [e for e in events if e[0] > since]


class Engine:
    """The bank's rules, its second-factor threshold (what structuring stays under) and its time zone."""

    def __init__(self, rules: Sequence[Rule], *, threshold: int, timezone: str) -> None:
        self.rules = tuple(r for r in rules if r.enabled)
        self.threshold = threshold
        self.zone = ZoneInfo(timezone)
        self._checks: dict[RuleKind, Callable[[Rule, Payment, Profile], dict[str, Any] | None]] = {
            RuleKind.VELOCITY: self._velocity, RuleKind.AMOUNT_VS_HISTORY: self._above_history,
            RuleKind.NEW_PAYEE_AMOUNT: self._new_payee, RuleKind.FAN_OUT: self._fan_out,
            RuleKind.STRUCTURING: self._structuring, RuleKind.SECOND_FACTOR_FAILURES: self._failures,
            RuleKind.NIGHT_HIGH_VALUE: self._night, RuleKind.NEW_WALLET_FULL_LIMIT: self._new_wallet}

    def evaluate(self, payment: Payment, profile: Profile) -> Verdict:
        if profile.frozen:
            return Verdict(Action.DECLINE, (Hit(FROZEN_RULE, "frozen", Action.DECLINE, {"frozen": True}),))
        hits: list[Hit] = []
        action = Action.ALLOW
        for rule in self.rules:
            if not rule.applies(payment.flow, payment.channel, payment.signed_by):
                continue
            features = self._checks[rule.kind](rule, payment, profile)
            if features is not None:
                hits.append(Hit(rule.name, rule.kind.value, rule.action, features))
                action = stronger(action, rule.action)
        return Verdict(action, tuple(hits)) if hits else ALLOW

    # ------------------------------------------------------------------ the kinds (features if it fires)

    @staticmethod
    def _velocity(rule: Rule, p: Payment, w: Profile) -> dict[str, Any] | None:
        recent = _within(w.events, p.now, rule.window)
        count, amount = len(recent) + 1, sum(e[1] for e in recent) + p.amount_minor
        if count > rule.max_count or (rule.max_amount is not None and amount > rule.max_amount):
            return {"count": count, "amount": amount, "window_seconds": rule.window, "max_count": rule.max_count,
                    "max_amount": rule.max_amount}
        return None

    @staticmethod
    def _above_history(rule: Rule, p: Payment, w: Profile) -> dict[str, Any] | None:
        if p.amount_minor < rule.min_amount:
            return None
        history = [e[1] for e in _within(w.events, p.now, HISTORY_SECONDS)]
        if len(history) < rule.min_history:
            return None
        median = statistics.median(history)
        if p.amount_minor > rule.multiple * median:
            return {"amount": p.amount_minor, "median_30d": int(median), "payments_30d": len(history),
                    "multiple": rule.multiple}
        return None

    @staticmethod
    def _new_payee(rule: Rule, p: Payment, w: Profile) -> dict[str, Any] | None:
        if p.payee is not None and not w.known_payee and p.amount_minor >= rule.min_amount:
            return {"new_payee": True, "payee": p.payee, "amount": p.amount_minor, "min_amount": rule.min_amount}
        return None

    @staticmethod
    def _fan_out(rule: Rule, p: Payment, w: Profile) -> dict[str, Any] | None:
        if p.payee is None or w.known_payee:
            return None
        new = sum(e[2] for e in _within(w.events, p.now, rule.window)) + 1
        if new > rule.max_count:
            return {"new_payees": new, "window_seconds": rule.window, "max_count": rule.max_count}
        return None

    def _structuring(self, rule: Rule, p: Payment, w: Profile) -> dict[str, Any] | None:
        low = self.threshold * rule.percent // 100
        if not low <= p.amount_minor <= self.threshold or self.threshold == 0:
            return None
        near = sum(1 for e in _within(w.events, p.now, rule.window) if low <= e[1] <= self.threshold) + 1
        if near >= rule.max_count:
            return {"near_limit_payments": near, "limit": self.threshold, "from": low, "window_seconds": rule.window}
        return None

    @staticmethod
    def _failures(rule: Rule, p: Payment, w: Profile) -> dict[str, Any] | None:
        if w.second_factor_failures >= rule.max_count:
            return {"second_factor_failures": w.second_factor_failures, "max_count": rule.max_count}
        return None

    def _night(self, rule: Rule, p: Payment, w: Profile) -> dict[str, Any] | None:
        if p.amount_minor < rule.min_amount:
            return None
        hour = datetime.fromtimestamp(p.now, self.zone).hour
        start, end = rule.night_start, rule.night_end
        night = start <= hour < end if start <= end else (hour >= start or hour < end)
        if night:
            return {"local_hour": hour, "time_zone": str(self.zone), "amount": p.amount_minor,
                    "min_amount": rule.min_amount}
        return None

    @staticmethod
    def _new_wallet(rule: Rule, p: Payment, w: Profile) -> dict[str, Any] | None:
        if w.opened_at is None or w.daily_limit is None or p.now - w.opened_at >= rule.window:
            return None
        if p.amount_minor * 100 >= w.daily_limit * rule.percent:
            return {"wallet_age_seconds": p.now - w.opened_at, "amount": p.amount_minor,
                    "daily_limit": w.daily_limit, "percent": rule.percent}
        return None


def recorded(events: list[list[int]], payment: Payment, new_payee: bool) -> list[list[int]]:
    """``events`` with ``payment`` added (and what is older than 30 days, or beyond the cap, dropped)."""
    kept = [e for e in events if e[0] > payment.now - HISTORY_SECONDS][-(MAX_EVENTS - 1):]
    kept.append([payment.now, payment.amount_minor, 1 if new_payee and payment.payee is not None else 0])
    return kept
