"""Screening an outflow outside the lanes, and what follows a decision: a refusal kept although the request fails,
a step-up's second factor, a held operation waiting for a risk officer, and a freeze through the chain.

Every outflow flow calls :func:`screen` where it used to call the second factor (after its own checks, so the
refusals it always made stay as they were), then :func:`admit` instead of enqueueing its outbox row:

- **allow**: the payment is counted in the wallet's state and its row enqueued, as before;
- **step_up**: the second factor is asked even below its threshold (``second-factor-required`` without a code);
- **review**: the operation is written ``pending_review`` and its outbox row kept on the decision, not enqueued:
  nothing moves until a risk officer approves (:func:`approve`, the row is enqueued once) or declines it
  (:func:`decline`, or the timeout, :func:`expire_reviews`: the operation fails). An ATM or a merchant's till
  cannot keep its customer waiting: there a review declines (and a step-up at the till, which asks no code);
- **decline**: ``risk-declined``; the decision is written whatever becomes of the request (node.db.durable);
- **freeze**: declined, and the wallet frozen through the bank's freeze flow (an ``freeze`` operation and its
  outbox row, reason :data:`RISK_FREEZE_REASON`): the indexer then notifies the customer ``wallet_frozen``.
  Until the chain has the freeze, the engine declines the wallet's payments itself.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from node.db.base import one_or_none, utcnow
from node.db.durable import keep, unit_of_work
from node.db.engine import reads_of, transaction
from node.errors import FlowNotFoundError, InvalidStateError
from node.operations.local_state import local_wallet
from node.operations.models import (
    ATTRIBUTION_INFO,
    Operation,
    OperationKind,
    OperationStatus,
    finish,
    get_operation,
    new_operation,
    operation_payload,
)
from node.outbox import enqueue
from node.risk.engine import Payment, Profile, Verdict
from node.risk.errors import RiskDeclinedError
from node.risk.models import ReviewState, RiskDecision, RiskRuleSet
from node.risk.rules import Action, RuleSet
from node.risk.state import RiskView, current_rules, forget_rules
from node.second_factor import service as second_factor
from node.second_factor.service import SecondFactorError
from node.settings import NodeSettings
from node.wallets.models import WalletRecord

__all__ = ["RISK_FREEZE_REASON", "Payment", "Screening", "admit", "approve", "decision_json", "decisions_query",
           "decline", "expire_reviews", "export_csv", "export_rows", "get_decision", "refuse", "rule_changes",
           "rules_in_force", "screen", "set_rules", "wallet_facts"]

RISK_FREEZE_REASON: Final = 900  # the on-chain reason code of a freeze the risk engine made
AT_THE_MACHINE: Final = frozenset({"atm", "merchant"})  # an ATM's or a till's customer cannot wait for a review
SUSPICIOUS: Final = (Action.REVIEW.value, Action.DECLINE.value, Action.FREEZE.value)


def _public_id() -> str:
    return "rd_" + secrets.token_hex(16)


def wallet_facts(session: Session, wallet: str) -> dict[str, Any]:
    """What the engine needs of the wallet beyond its state: when it was opened and last changed, its daily
    limit (the node's view)."""
    row = session.execute(select(WalletRecord.created_at, WalletRecord.updated_at).where(
        WalletRecord.address == wallet)).first()
    local = local_wallet(session, wallet)
    return {"opened_at": row.created_at if row else None, "changed_at": row.updated_at if row else None,
            "daily_limit": local.daily_outflow_limit if local else None}


@dataclass
class Screening:
    """A payment the engine let through (allowed, stepped up, or to be held), for :func:`admit`."""

    view: RiskView
    payment: Payment
    profile: Profile
    verdict: Verdict

    @property
    def held(self) -> bool:
        return self.verdict.action is Action.REVIEW

    @property
    def status(self) -> OperationStatus:
        """The status its operation is written with."""
        return OperationStatus.PENDING_REVIEW if self.held else OperationStatus.PENDING


def screen(session: Session, settings: NodeSettings, payment: Payment, *, totp_code: str | None,
           api_key_id: int | None, second_factor_asked: bool = True) -> Screening:
    """Judge ``payment`` and check its second factor (the bank's threshold, or any amount on a step-up). Where no
    second factor can be asked (``second_factor_asked`` False: a merchant's point of sale) a step-up declines; at an
    ATM or a till (the payment's channel) a review declines.

    Raises:
        RiskDeclinedError: declined or frozen (the decision, and a freeze, are kept).
        SecondFactorError: as :func:`node.second_factor.service.require` (a step-up's decision is kept).
    """
    view = RiskView(session, settings, [payment.wallet], [payment.payee])
    profile, verdict = view.evaluate(payment, **wallet_facts(session, payment.wallet))
    if (verdict.action is Action.REVIEW and payment.channel in AT_THE_MACHINE) \
            or (verdict.action is Action.STEP_UP and not second_factor_asked):
        verdict = Verdict(Action.DECLINE, verdict.hits)
    if verdict.action in (Action.DECLINE, Action.FREEZE):
        refuse(session, settings, payment, verdict, api_key_id)
    step_up = verdict.action is Action.STEP_UP
    if not second_factor_asked:
        return Screening(view, payment, profile, verdict)
    try:
        second_factor.require(session, settings, payment.wallet, payment.amount_minor, totp_code,
                              api_key_id=api_key_id, threshold=0 if step_up else None)
    except SecondFactorError:
        if step_up:
            keep(session, partial(_keep_decision, settings, payment, verdict, api_key_id, _public_id()))
        raise
    return Screening(view, payment, profile, verdict)


def admit(session: Session, settings: NodeSettings, screening: Screening, op: Operation, key: str, kind: str,
          payload: dict[str, Any]) -> None:
    """Count the payment and enqueue its outbox row (``key``, ``kind``, ``payload``), or keep the row on the
    review decision if it is held."""
    screening.view.record(screening.payment, screening.profile)
    screening.view.write(session)
    if not screening.verdict.allowed:
        public_id = _public_id()
        decision = _write_decision(settings, screening.payment, screening.verdict, op.api_key_id, public_id,
                                   op.public_id, session, held={"key": key, "kind": kind, "payload": payload}
                                   if screening.held else None)
        op.details = {**(op.details or {}), "risk_decision": decision.public_id,
                      "risk_action": screening.verdict.action.value}
        if screening.held:
            return
    enqueue(session, key, kind, payload)


def refuse(session: Session, settings: NodeSettings, payment: Payment, verdict: Verdict,
           api_key_id: int | None) -> None:
    """Keep the decision (and the freeze) although the request fails, and fail it.

    Raises:
        RiskDeclinedError: always.
    """
    public_id = _public_id()
    keep(session, partial(_write_refusal, settings, payment, verdict, api_key_id, public_id))
    raise RiskDeclinedError(public_id, verdict.action.value, [h.rule for h in verdict.hits])


def _write_refusal(settings: NodeSettings, payment: Payment, verdict: Verdict, api_key_id: int | None,
                   public_id: str, session: Session) -> None:
    freeze = _freeze(session, settings, payment.wallet, public_id) if verdict.action is Action.FREEZE else None
    _write_decision(settings, payment, verdict, api_key_id, public_id, freeze, session)


def _freeze(session: Session, settings: NodeSettings, wallet: str, decision: str) -> str:
    """The bank's freeze of ``wallet`` (its operation and outbox row, as :func:`node.wallets.service.freeze`
    writes them; not locking the wallet's record, which the failed request may hold): the id of the freeze
    operation, or of the one already on its way."""
    pending = session.scalars(select(Operation.public_id).where(
        Operation.wallet == wallet, Operation.kind == OperationKind.FREEZE,
        Operation.status == OperationStatus.PENDING)).first()
    if pending is not None:
        return pending
    note = f"risk decision {decision}"
    asked_by = session.info.pop(ATTRIBUTION_INFO, None)  # the bank's own act, not the request's (nor a batch's)
    try:
        op = new_operation(session, OperationKind.FREEZE, channel="risk", wallet=wallet,
                           details={"reason": RISK_FREEZE_REASON, "note": note})
    finally:
        if asked_by is not None:
            session.info[ATTRIBUTION_INFO] = asked_by
    enqueue(session, f"{op.public_id}:freeze", "freeze",
            operation_payload(op, wallet=wallet, reason=RISK_FREEZE_REASON))
    return op.public_id


def _keep_decision(settings: NodeSettings, payment: Payment, verdict: Verdict, api_key_id: int | None,
                   public_id: str, session: Session) -> None:
    _write_decision(settings, payment, verdict, api_key_id, public_id, None, session)


def _write_decision(settings: NodeSettings, payment: Payment, verdict: Verdict, api_key_id: int | None,
                    public_id: str, operation_id: str | None, session: Session, *,
                    held: dict[str, Any] | None = None) -> RiskDecision:
    now = utcnow()
    decision = RiskDecision(
        public_id=public_id, action=verdict.action.value, flow=payment.flow, channel=payment.channel,
        api_key_id=api_key_id, wallet=payment.wallet, counterparty=payment.payee, amount_minor=payment.amount_minor,
        currency=settings.currency, hits=[h.as_json() for h in verdict.hits], operation_id=operation_id,
        review_state=ReviewState.PENDING if held is not None else None,
        expires_at=now + timedelta(seconds=settings.risk_review_timeout) if held is not None else None,
        held=held, created_at=now)
    session.add(decision)
    session.flush()
    return decision


# ------------------------------------------------------------------ reviews


def get_decision(session: Session, public_id: str, *, lock: bool = False) -> RiskDecision:
    found = one_or_none(session, select(RiskDecision).where(RiskDecision.public_id == public_id), lock=lock)
    if found is None:
        raise FlowNotFoundError(f"no risk decision {public_id!r}", decision=public_id)
    return found


def _pending_review(session: Session, public_id: str) -> tuple[RiskDecision, Operation]:
    decision = get_decision(session, public_id, lock=True)
    if decision.review_state is not ReviewState.PENDING or decision.operation_id is None:
        state = decision.review_state.value if decision.review_state else "not held"
        raise InvalidStateError(f"risk decision {public_id} is {state}, not waiting for review", decision=public_id,
                                state=state)
    return decision, get_operation(session, decision.operation_id, lock=True)


def _reviewed(decision: RiskDecision, state: ReviewState, api_key_id: int | None, reason: str) -> None:
    decision.review_state = state
    decision.reviewed_by = api_key_id
    decision.review_reason = reason
    decision.reviewed_at = utcnow()


def approve(session: Session, public_id: str, *, api_key_id: int | None, reason: str) -> RiskDecision:
    """A risk officer lets a held operation go: its outbox row is enqueued (once: the decision is locked and
    leaves ``pending``), and it goes on chain as any other.

    Raises:
        FlowNotFoundError, InvalidStateError: no such decision, or not waiting (decided, expired, not held).
    """
    decision, op = _pending_review(session, public_id)
    if decision.expires_at is not None and decision.expires_at <= utcnow():
        raise InvalidStateError(f"risk decision {public_id} timed out: the payment is declined",
                                decision=public_id, state="expired")
    _reviewed(decision, ReviewState.APPROVED, api_key_id, reason)
    finish(op, OperationStatus.PENDING, review="approved")
    held = decision.held or {}
    enqueue(session, str(held["key"]), str(held["kind"]), dict(held["payload"]))
    return decision


def decline(session: Session, public_id: str, *, api_key_id: int | None, reason: str,
            state: ReviewState = ReviewState.DECLINED) -> RiskDecision:
    """A risk officer (or the timeout) declines a held operation: it fails, nothing moved.

    Raises:
        FlowNotFoundError, InvalidStateError: as :func:`approve`.
    """
    decision, op = _pending_review(session, public_id)
    _reviewed(decision, state, api_key_id, reason)
    finish(op, OperationStatus.FAILED, error=f"declined by the bank's risk review: {reason}", reason="RiskDeclined",
           review=state.value)
    return decision


_EXPIRED = select(RiskDecision.public_id).where(RiskDecision.review_state == ReviewState.PENDING)


def expire_reviews(sessions: sessionmaker[Session], settings: NodeSettings, *, now: datetime | None = None) -> int:
    """The jobs role's task: decline the held operations nobody decided in ``risk_review_timeout``; one
    transaction each. Returns how many."""
    moment = now or utcnow()
    with transaction(reads_of(sessions)) as look:  # none due (most rounds): no write lock taken
        due = list(look.scalars(_EXPIRED.where(RiskDecision.expires_at <= moment).limit(100)))
    done = 0
    for public_id in due:
        try:
            with unit_of_work(sessions) as session:
                decline(session, public_id, api_key_id=None, reason="nobody reviewed it in time",
                        state=ReviewState.EXPIRED)
            done += 1
        except InvalidStateError:  # decided meanwhile
            continue
    return done


# ------------------------------------------------------------------ rules


def rules_in_force(session: Session, settings: NodeSettings) -> tuple[RiskRuleSet | None, list[dict[str, Any]]]:
    """The newest rule set changed through the API (None: the settings') and the rules in force, as JSON."""
    version, rules = current_rules(session, settings)
    row = session.get(RiskRuleSet, version) if version is not None else None
    return row, [r.model_dump(mode="json") for r in rules]


def set_rules(session: Session, settings: NodeSettings, rules: list[dict[str, Any]], *, api_key_id: int | None,
              reason: str) -> RiskRuleSet:
    """Replace the bank's rules as a whole (validated as :class:`node.risk.rules.RuleSet`), audited with who and
    why and the rules replaced; in force in every API process within a second.

    Raises:
        pydantic.ValidationError: a rule that is not one (the API validates its body with the same model).
    """
    checked = RuleSet.model_validate({"rules": rules})
    _, previous = rules_in_force(session, settings)
    row = RiskRuleSet(rules=[r.model_dump(mode="json") for r in checked.rules], api_key_id=api_key_id,
                      reason=reason, previous=previous, created_at=utcnow())
    session.add(row)
    session.flush()
    forget_rules()
    return row


def rule_changes() -> Select[Any]:
    return select(RiskRuleSet)


# ------------------------------------------------------------------ decisions and the suspicious-activity export


def decisions_query(*, wallet: str | None = None, review_state: ReviewState | None = None,
                    action: str | None = None) -> Select[Any]:
    query = select(RiskDecision)
    if wallet is not None:
        query = query.where(RiskDecision.wallet == wallet)
    if review_state is not None:
        query = query.where(RiskDecision.review_state == review_state)
    if action is not None:
        query = query.where(RiskDecision.action == action)
    return query


def decision_json(d: RiskDecision) -> dict[str, Any]:
    return {"id": d.public_id, "action": d.action, "flow": d.flow, "channel": d.channel, "wallet": d.wallet,
            "counterparty": d.counterparty, "amount": d.amount_minor, "currency": d.currency, "hits": d.hits,
            "operation_id": d.operation_id, "review_state": d.review_state.value if d.review_state else None,
            "expires_at": d.expires_at, "review_reason": d.review_reason, "reviewed_at": d.reviewed_at,
            "created_at": d.created_at}


EXPORT_COLUMNS: Final = ("id", "created_at", "action", "rules", "flow", "channel", "wallet", "counterparty", "amount",
                         "currency", "operation_id", "review_state", "review_reason", "reviewed_at", "features")
EXPORT_LIMIT: Final = 10_000


def export_rows(session: Session, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The suspicious activity of a period (decisions to review, decline or freeze), oldest first, at most
    :data:`EXPORT_LIMIT`."""
    query = (select(RiskDecision).where(RiskDecision.created_at >= since, RiskDecision.created_at < until,
                                        RiskDecision.action.in_(SUSPICIOUS))
             .order_by(RiskDecision.id).limit(EXPORT_LIMIT))
    rows = []
    for d in session.scalars(query):
        item = decision_json(d)
        item["rules"] = [h["rule"] for h in d.hits]
        item["features"] = {h["rule"]: h["features"] for h in d.hits}
        rows.append(item)
    return rows


def export_csv(rows: list[dict[str, Any]]) -> str:
    """``rows`` as CSV (the rules joined by ``;``, the features as JSON)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        values = {**row, "rules": ";".join(row["rules"]), "features": json.dumps(row["features"], sort_keys=True)}
        writer.writerow(["" if values[c] is None else (values[c].isoformat() if isinstance(values[c], datetime)
                                                       else values[c]) for c in EXPORT_COLUMNS])
    return out.getvalue()
