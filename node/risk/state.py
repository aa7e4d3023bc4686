"""The engine's state of the wallets a batch (or a single request) pays from: read at once, changed in memory as
payments are admitted, written at once in the same transaction as the payments' operations.

Four reads for any number of wallets (their recent outflows, the engine's last freeze of each, which of the
batch's payees each has paid before, their wrong second-factor codes) and two writes (the changed states, the new
payees): no JSON-RPC, nothing per payment. The rules in force are read at most once a second per process
(:func:`engine_for`), so a change through the API reaches every API process within a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from node.db.base import utcnow
from node.risk.engine import Engine, Payment, Profile, recorded
from node.risk.models import RiskDecision, RiskPayee, RiskRuleSet, RiskWalletState
from node.risk.rules import Action, Rule, RuleSet, default_rules
from node.second_factor.models import SecondFactorFailures
from node.settings import NodeSettings

__all__ = ["RULES_CACHE_SECONDS", "RiskView", "check_settings_rules", "current_rules", "engine_for", "forget_rules"]

RULES_CACHE_SECONDS: Final = 1.0
_INSERT_INTO: Final[dict[str, Any]] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_STATE_TABLE: Final = cast("Table", RiskWalletState.__table__)
_PAYEE_TABLE: Final = cast("Table", RiskPayee.__table__)

_STATES = select(RiskWalletState.wallet, RiskWalletState.events).where(
    RiskWalletState.wallet.in_(bindparam("wallets", expanding=True)))
_FROZEN = select(RiskDecision.wallet, func.max(RiskDecision.created_at)).where(
    RiskDecision.wallet.in_(bindparam("wallets", expanding=True)), RiskDecision.action == Action.FREEZE.value
).group_by(RiskDecision.wallet)
_PAID = select(RiskPayee.wallet, RiskPayee.payee).where(
    RiskPayee.wallet.in_(bindparam("wallets", expanding=True)),
    RiskPayee.payee.in_(bindparam("payees", expanding=True)))
_FAILURES = select(SecondFactorFailures.wallet, SecondFactorFailures.failures, SecondFactorFailures.lockouts).where(
    SecondFactorFailures.wallet.in_(bindparam("wallets", expanding=True)))
_NEWEST_RULES = select(RiskRuleSet.id, RiskRuleSet.rules).order_by(RiskRuleSet.id.desc()).limit(1)


def check_settings_rules(settings: NodeSettings) -> None:
    """Refuse at start a ``risk_rules`` setting that is not a set of rules (pydantic.ValidationError)."""
    if settings.risk_rules is not None:
        RuleSet.model_validate({"rules": settings.risk_rules})


def current_rules(session: Session, settings: NodeSettings) -> tuple[int | None, list[Rule]]:
    """The rules in force: the newest set changed through the API (its id), else the settings' (None)."""
    row = session.connection().execute(_NEWEST_RULES).first()
    if row is not None:
        return int(row.id), [Rule.model_validate(r) for r in row.rules]
    if settings.risk_rules is None:
        return None, default_rules()
    return None, [Rule.model_validate(r) for r in settings.risk_rules]


_cache_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[float, int | None, Engine]] = {}


def engine_for(session: Session, settings: NodeSettings) -> Engine:
    """The engine of the rules in force, read again at most every :data:`RULES_CACHE_SECONDS`."""
    key = (settings.bank_id, str(getattr(session.get_bind(), "url", "")))
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and now - cached[0] < RULES_CACHE_SECONDS:
        return cached[2]
    version, rules = current_rules(session, settings)
    if cached is not None and cached[1] == version and version is not None:
        engine = cached[2]
    else:
        engine = Engine(rules, threshold=settings.second_factor_threshold, timezone=settings.risk_timezone)
    with _cache_lock:
        _cache[key] = (now, version, engine)
    return engine


def forget_rules() -> None:
    """Drop the cached engines (a rule change in this process is in force at once)."""
    with _cache_lock:
        _cache.clear()


def _unix(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


class RiskView:
    """The state of ``wallets`` (and whether each has paid any of ``payees``) in one transaction."""

    def __init__(self, session: Session, settings: NodeSettings, wallets: Iterable[str],
                 payees: Iterable[str | None]) -> None:
        self.engine = engine_for(session, settings)
        wanted = sorted(set(wallets))
        db = session.connection()
        self.events: dict[str, list[list[int]]] = {}
        self.frozen_at: dict[str, datetime] = {}  # the engine's last freeze of each
        self.failures: dict[str, int] = {}
        self.paid: set[tuple[str, str]] = set()
        self._dirty: set[str] = set()
        self._new_pairs: dict[tuple[str, str], int] = {}
        if not wanted:
            return
        for row in db.execute(_STATES, {"wallets": wanted}):
            self.events[row.wallet] = list(row.events or [])
        self.frozen_at = {wallet: at for wallet, at in db.execute(_FROZEN, {"wallets": wanted}) if at is not None}
        targets = sorted({p for p in payees if p is not None})
        if targets:
            self.paid = {(row.wallet, row.payee) for row in db.execute(_PAID, {"wallets": wanted, "payees": targets})}
        most = settings.second_factor_max_failures
        self.failures = {row.wallet: row.failures + row.lockouts * most
                         for row in db.execute(_FAILURES, {"wallets": wanted})}

    def profile(self, payment: Payment, *, opened_at: datetime | None, changed_at: datetime | None,
                daily_limit: int | None) -> Profile:
        """The engine's view of the payer. ``changed_at``: when the wallet's record last changed (a freeze the
        engine made counts until the record shows it, frozen, or unfrozen since)."""
        frozen_at = _unix(self.frozen_at.get(payment.wallet))
        changed = _unix(changed_at)
        return Profile(events=self.events.get(payment.wallet, []),
                       known_payee=payment.payee is None or (payment.wallet, payment.payee) in self.paid
                       or (payment.wallet, payment.payee) in self._new_pairs,
                       opened_at=_unix(opened_at), second_factor_failures=self.failures.get(payment.wallet, 0),
                       daily_limit=daily_limit,
                       frozen=frozen_at is not None and (changed is None or changed <= frozen_at))

    def evaluate(self, payment: Payment, **wallet: Any) -> tuple[Profile, Any]:
        profile = self.profile(payment, **wallet)
        return profile, self.engine.evaluate(payment, profile)

    def record(self, payment: Payment, profile: Profile) -> None:
        """Count an admitted (or held) payment: its wallet's events, and its payee as paid."""
        self.events[payment.wallet] = recorded(profile.events, payment, not profile.known_payee)
        self._dirty.add(payment.wallet)
        if payment.payee is not None and not profile.known_payee:
            self._new_pairs[(payment.wallet, payment.payee)] = payment.now

    def write(self, session: Session) -> None:
        """Write what changed since the last write (in the caller's transaction)."""
        db = session.connection()
        insert = _INSERT_INTO[db.dialect.name]
        if self._dirty:
            at = utcnow()
            rows = [{"wallet": w, "events": self.events.get(w, []), "updated_at": at} for w in sorted(self._dirty)]
            statement = insert(_STATE_TABLE)
            db.execute(statement.on_conflict_do_update(index_elements=["wallet"], set_={
                "events": statement.excluded.events, "updated_at": statement.excluded.updated_at}), rows)
            self._dirty.clear()
        if self._new_pairs:
            pairs = [{"wallet": w, "payee": p, "first_at": t} for (w, p), t in sorted(self._new_pairs.items())]
            db.execute(insert(_PAYEE_TABLE).on_conflict_do_nothing(index_elements=["wallet", "payee"]), pairs)
            self.paid.update(self._new_pairs)
            self._new_pairs.clear()
