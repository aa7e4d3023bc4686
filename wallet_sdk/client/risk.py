"""The bank's risk API for its risk officers (``risk`` scope; reads also ``regulator``, rules also ``admin``): the
review queue, approving or declining a held payment with a reason, the engine's decisions with the features each
rule saw, the rules in force and their audited changes, and the suspicious-activity export.

::

    with Client(BANK, RISK_KEY) as risk:
        for held in risk.list_risk_reviews().items:
            risk.approve_risk_review(held.id, reason="customer confirmed by phone")
        rules = risk.get_risk_rules()
        risk.set_risk_rules([*rules.rules, {"name": "big-night", "kind": "night_high_value",
                                            "action": "review", "min_amount": 500_000}], reason="ticket 7")
        csv_text = risk.export_risk_activity("2026-12-01", "2026-12-31", format="csv")
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from wallet_sdk.client._core import ApiRequest, Endpoint, model
from wallet_sdk.client.common import page_of
from wallet_sdk.client.models import Page
from wallet_sdk.exceptions import ClientArgumentError

__all__ = ["RiskDecision", "RiskEndpoints", "RiskExport", "RiskRuleChange", "RiskRules", "approve_risk_review",
           "decline_risk_review", "export_risk_activity", "get_risk_decision", "get_risk_rules",
           "list_risk_decisions", "list_risk_reviews", "list_risk_rule_changes", "set_risk_rules"]

_DECISION = re.compile(r"^rd_[0-9a-f]{32}$")


@dataclass(frozen=True)
class RiskDecision:
    """A decision of the engine: its action, the payment, and each rule that fired with the features it saw."""

    id: str
    action: str  # step_up, review, decline, freeze
    flow: str  # p2p, merchant_payment, redemption, atm_cash_out
    channel: str
    wallet: str
    counterparty: str | None
    amount: int  # minor units of currency
    currency: str
    hits: list[dict[str, Any]]  # [{rule, kind, action, features: {...}}]
    operation_id: str | None
    review_state: str | None  # pending, approved, declined, expired; None: not held
    expires_at: str | None
    review_reason: str | None
    reviewed_at: str | None
    created_at: str

    @property
    def rules(self) -> list[str]:
        return [str(h["rule"]) for h in self.hits]


@dataclass(frozen=True)
class RiskRules:
    rules: list[dict[str, Any]]
    version: int | None  # None: the node's settings (or the defaults)
    changed_at: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RiskRuleChange:
    version: int
    rules: list[dict[str, Any]]
    previous: list[dict[str, Any]] | None
    reason: str
    api_key_id: int | None
    created_at: str


@dataclass(frozen=True)
class RiskExport:
    start: str
    end: str
    items: list[dict[str, Any]]


def _decision(decision_id: str) -> str:
    if not isinstance(decision_id, str) or not _DECISION.match(decision_id):
        raise ClientArgumentError(f"not a risk decision id: {decision_id!r}")
    return decision_id


def list_risk_reviews(*, limit: int | None = None, cursor: str | None = None) -> ApiRequest[Page[RiskDecision]]:
    """The payments waiting as ``pending_review``, oldest first."""
    return ApiRequest("GET", "/v1/risk/reviews", page_of(RiskDecision), params={"limit": limit, "cursor": cursor})


def approve_risk_review(decision_id: str, *, reason: str) -> ApiRequest[RiskDecision]:
    """Let the held payment go on chain (once)."""
    return ApiRequest("POST", f"/v1/risk/reviews/{_decision(decision_id)}/approve", model(RiskDecision),
                      json={"reason": reason})


def decline_risk_review(decision_id: str, *, reason: str) -> ApiRequest[RiskDecision]:
    """Fail the held payment; nothing moves."""
    return ApiRequest("POST", f"/v1/risk/reviews/{_decision(decision_id)}/decline", model(RiskDecision),
                      json={"reason": reason})


def list_risk_decisions(*, wallet: str | None = None, action: str | None = None, limit: int | None = None,
                        cursor: str | None = None) -> ApiRequest[Page[RiskDecision]]:
    return ApiRequest("GET", "/v1/risk/decisions", page_of(RiskDecision),
                      params={"wallet": wallet, "action": action, "limit": limit, "cursor": cursor})


def get_risk_decision(decision_id: str) -> ApiRequest[RiskDecision]:
    return ApiRequest("GET", f"/v1/risk/decisions/{_decision(decision_id)}", model(RiskDecision))


def get_risk_rules() -> ApiRequest[RiskRules]:
    return ApiRequest("GET", "/v1/risk/rules", model(RiskRules))


def set_risk_rules(rules: list[dict[str, Any]], *, reason: str) -> ApiRequest[RiskRules]:
    """Replace the whole rule set (audited with ``reason``)."""
    return ApiRequest("PUT", "/v1/risk/rules", model(RiskRules), json={"rules": list(rules), "reason": reason})


def list_risk_rule_changes(*, limit: int | None = None,
                           cursor: str | None = None) -> ApiRequest[Page[RiskRuleChange]]:
    return ApiRequest("GET", "/v1/risk/rules/changes", page_of(RiskRuleChange),
                      params={"limit": limit, "cursor": cursor})


def export_risk_activity(start: str, end: str, *, format: str = "json") -> ApiRequest[Any]:
    """The suspicious activity of the UTC days ``start``..``end`` (``YYYY-MM-DD``): a :class:`RiskExport`, or the
    CSV text with ``format="csv"``."""
    params = {"start": start, "end": end, "format": format}
    if format == "csv":
        return ApiRequest("GET", "/v1/risk/export", lambda raw: bytes(raw).decode(), params=params, accept="text/csv")
    if format != "json":
        raise ClientArgumentError(f"an export is json or csv, not {format!r}")
    return ApiRequest("GET", "/v1/risk/export", model(RiskExport), params=params)


class RiskEndpoints:
    """The risk endpoints, for both clients."""

    list_risk_reviews = Endpoint(list_risk_reviews)
    approve_risk_review = Endpoint(approve_risk_review)
    decline_risk_review = Endpoint(decline_risk_review)
    list_risk_decisions = Endpoint(list_risk_decisions)
    get_risk_decision = Endpoint(get_risk_decision)
    get_risk_rules = Endpoint(get_risk_rules)
    set_risk_rules = Endpoint(set_risk_rules)
    list_risk_rule_changes = Endpoint(list_risk_rule_changes)
    export_risk_activity = Endpoint(export_risk_activity)
