"""``/v1/risk``: the bank's risk officers' API (node/risk/): the review queue and its decisions (approve, decline,
each with a reason), every decision the engine made with the features it saw, the rules in force and their changes
(audited), and the suspicious-activity export of a period (JSON or CSV). docs/risk.md.

Approving or declining takes no Idempotency-Key: a decision leaves ``pending`` once, under a lock, so a repeated
call is a ``409 invalid-state`` and the held operation goes on chain at most once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from api.auth import require_scope
from api.common import ADDRESS_PATTERN, Page, PageParamsDep, paginate
from api.deps import ReadSessionDep, SessionDep, SettingsDep
from api.problems import FieldError, ProblemKind, ValidationProblemError
from api.routing import route
from api.schemas.risk import DecisionOut, ExportOut, ReviewIn, RuleSetChangeOut, RulesIn, RulesOut
from node.api_keys import Principal, Scope
from node.risk import service as risk
from node.risk.models import ReviewState, RiskDecision, RiskRuleSet

router = APIRouter(prefix="/v1/risk", tags=["risk"])

RiskOfficer = Annotated[Principal, require_scope(Scope.RISK)]
RiskReader = Annotated[Principal, require_scope(Scope.RISK, Scope.REGULATOR)]
RulesReader = Annotated[Principal, require_scope(Scope.RISK, Scope.ADMIN, Scope.REGULATOR)]
RulesEditor = Annotated[Principal, require_scope(Scope.ADMIN, Scope.RISK)]
DecisionPath = Annotated[str, Path(pattern=r"^rd_[0-9a-f]{32}$", description="the decision's id")]
_AUTH = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN)
MAX_EXPORT_DAYS = 366


def _out(d: RiskDecision) -> DecisionOut:
    return DecisionOut(**risk.decision_json(d))


@route(router, "GET", "/reviews", "The review queue: payments held for a risk officer", *_AUTH,
       response_model=Page[DecisionOut])
def list_risk_reviews(key: RiskOfficer, session: ReadSessionDep, page: PageParamsDep) -> Page[DecisionOut]:
    """The decisions whose operation waits as `pending_review`, oldest first (each declines by itself at
    `expires_at`)."""
    rows, cursor = paginate(session, risk.decisions_query(review_state=ReviewState.PENDING), RiskDecision.id, page)
    return Page[DecisionOut](items=[_out(r) for r in rows], next_cursor=cursor)


@route(router, "POST", "/reviews/{decision_id}/approve", "Approve a held payment", *_AUTH, ProblemKind.NOT_FOUND,
       ProblemKind.INVALID_STATE, response_model=DecisionOut)
def approve_risk_review(decision_id: DecisionPath, body: ReviewIn, key: RiskOfficer,
                        session: SessionDep) -> DecisionOut:
    """The held operation becomes `pending` and goes on chain (once) as any payment; the chain still judges
    its balance and limits. A decision not waiting (decided, expired) is `409 invalid-state`."""
    return _out(risk.approve(session, decision_id, api_key_id=key.id, reason=body.reason))


@route(router, "POST", "/reviews/{decision_id}/decline", "Decline a held payment", *_AUTH, ProblemKind.NOT_FOUND,
       ProblemKind.INVALID_STATE, response_model=DecisionOut)
def decline_risk_review(decision_id: DecisionPath, body: ReviewIn, key: RiskOfficer,
                        session: SessionDep) -> DecisionOut:
    """The held operation fails (`details.reason` `RiskDeclined`); nothing moved."""
    return _out(risk.decline(session, decision_id, api_key_id=key.id, reason=body.reason))


@route(router, "GET", "/decisions", "The risk engine's decisions", *_AUTH, response_model=Page[DecisionOut])
def list_risk_decisions(key: RiskReader, session: ReadSessionDep, page: PageParamsDep,
                        wallet: Annotated[str | None, Query(pattern=ADDRESS_PATTERN)] = None,
                        action: Annotated[Literal["step_up", "review", "decline", "freeze"] | None,
                                          Query()] = None) -> Page[DecisionOut]:
    """Every decision other than a plain allow, oldest first, with the rules that fired and the features each
    saw (what explains it to the customer and the regulator)."""
    query = risk.decisions_query(wallet=wallet, action=action)
    rows, cursor = paginate(session, query, RiskDecision.id, page)
    return Page[DecisionOut](items=[_out(r) for r in rows], next_cursor=cursor)


@route(router, "GET", "/decisions/{decision_id}", "A risk decision", *_AUTH, ProblemKind.NOT_FOUND,
       response_model=DecisionOut)
def get_risk_decision(decision_id: DecisionPath, key: RiskReader, session: ReadSessionDep) -> DecisionOut:
    """The decision (its id is in a `risk-declined` problem and in a held operation's `details.risk_decision`)."""
    return _out(risk.get_decision(session, decision_id))


@route(router, "GET", "/rules", "The risk rules in force", *_AUTH, response_model=RulesOut)
def get_risk_rules(key: RulesReader, session: ReadSessionDep, settings: SettingsDep) -> RulesOut:
    """The rules, and the change that put them in force (none: the node's settings, or the defaults)."""
    row, rules = risk.rules_in_force(session, settings)
    return RulesOut(rules=rules, version=row.id if row else None, changed_at=row.created_at if row else None,
                    reason=row.reason if row else None)


@route(router, "PUT", "/rules", "Replace the risk rules", *_AUTH, ProblemKind.VALIDATION, response_model=RulesOut)
def set_risk_rules(body: RulesIn, key: RulesEditor, session: SessionDep, settings: SettingsDep) -> RulesOut:
    """The whole set is replaced (names unique) and audited with the key and the reason; every API process of the
    bank applies it within a second."""
    names = [r.name for r in body.rules]
    if len(names) != len(set(names)):
        raise ValidationProblemError("rule names must be unique", errors=[FieldError(
            loc=["body", "rules"], msg="rule names must be unique", type="value_error")])
    row = risk.set_rules(session, settings, [r.model_dump() for r in body.rules], api_key_id=key.id,
                         reason=body.reason)
    return RulesOut(rules=row.rules, version=row.id, changed_at=row.created_at, reason=row.reason)


@route(router, "GET", "/rules/changes", "The audited changes of the risk rules", *_AUTH,
       response_model=Page[RuleSetChangeOut])
def list_risk_rule_changes(key: RulesReader, session: ReadSessionDep,
                           page: PageParamsDep) -> Page[RuleSetChangeOut]:
    """Each change, oldest first: the rules, the ones they replaced, who and why."""
    rows, cursor = paginate(session, risk.rule_changes(), RiskRuleSet.id, page)
    return Page[RuleSetChangeOut](items=[RuleSetChangeOut(
        version=r.id, rules=r.rules, previous=r.previous, reason=r.reason, api_key_id=r.api_key_id,
        created_at=r.created_at) for r in rows], next_cursor=cursor)


@route(router, "GET", "/export", "Suspicious-activity export of a period (JSON or CSV)", *_AUTH,
       ProblemKind.VALIDATION, response_model=ExportOut,
       responses={200: {"content": {"text/csv": {}}, "description": "the export"}})
def export_risk_activity(key: RiskReader, session: ReadSessionDep,
                         start: Annotated[date, Query(description="first UTC day")],
                         end: Annotated[date, Query(description="last UTC day (at most 366 days in all)")],
                         format: Annotated[Literal["json", "csv"], Query()] = "json") -> Any:
    """The decisions of the period that held, declined or froze (at most 10,000, oldest first), with their rules,
    features and reviews: for the bank's suspicious-activity reports to the regulator."""
    if end < start or (end - start).days >= MAX_EXPORT_DAYS:
        raise ValidationProblemError(f"end must be on or after start, at most {MAX_EXPORT_DAYS} days in all",
                                     errors=[FieldError(loc=["query", "end"], msg="bad period", type="value_error")])
    since = datetime.combine(start, time(), UTC)
    rows = risk.export_rows(session, since, datetime.combine(end, time(), UTC) + timedelta(days=1))
    if format == "csv":
        return Response(risk.export_csv(rows), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="suspicious-activity-{start}-{end}.csv"'})
    return ExportOut(start=start.isoformat(), end=end.isoformat(), items=[
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()} for r in rows])
