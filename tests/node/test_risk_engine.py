"""The rule engine on its own (node.risk.engine): each kind fires past its bound and not at it, the strongest action
wins, scopes select the payments a rule looks at, and the state it keeps stays bounded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from node.db import create_engine, upgrade
from node.db.durable import unit_of_work, work_sessions
from node.risk.engine import HISTORY_SECONDS, Engine, Payment, Profile, recorded
from node.risk.rules import DEFAULT_RULES, MAX_EVENTS, Action, Rule, RuleKind
from node.risk.state import RiskView, check_settings_rules, forget_rules
from node.settings import load_settings

NOW = int(datetime(2026, 12, 8, 12, 0, tzinfo=UTC).timestamp())


def pay(amount: int = 100, *, payee: str | None = "0xP", channel: str = "app", signed_by: str = "bank",
        flow: str = "p2p", now: int = NOW) -> Payment:
    return Payment(flow, "0xW", payee, amount, channel, signed_by, now)


def engine(*rules: Rule) -> Engine:
    return Engine(rules, threshold=100_000, timezone="Asia/Shanghai")


def test_each_kind_fires_past_its_bound_only() -> None:
    fan = engine(Rule(name="f", kind=RuleKind.FAN_OUT, action=Action.FREEZE, window=600, max_count=3))
    three_new = [[NOW - 10, 100, 1]] * 3
    assert fan.evaluate(pay(), Profile(three_new[:2], known_payee=False)).allowed
    verdict = fan.evaluate(pay(), Profile(three_new, known_payee=False))
    assert verdict.action is Action.FREEZE and verdict.hits[0].features["new_payees"] == 4
    assert fan.evaluate(pay(), Profile(three_new, known_payee=True)).allowed  # a known payee is no fan-out
    assert fan.evaluate(pay(), Profile([[NOW - 601, 100, 1]] * 3, known_payee=False)).allowed  # out of the window

    history = engine(Rule(name="h", kind=RuleKind.AMOUNT_VS_HISTORY, action=Action.STEP_UP, min_history=3))
    past = [[NOW - 86_400, a, 0] for a in (100, 200, 300)]
    assert history.evaluate(pay(1_000), Profile(past, known_payee=True)).allowed  # 5 x 200 exactly
    assert history.evaluate(pay(1_001), Profile(past, known_payee=True)).action is Action.STEP_UP
    assert history.evaluate(pay(1_001), Profile(past[:2], known_payee=True)).allowed  # too little history

    structuring = engine(Rule(name="s", kind=RuleKind.STRUCTURING, action=Action.REVIEW, max_count=3))
    near = [[NOW - 60, 95_000, 0]] * 2
    assert structuring.evaluate(pay(99_000), Profile(near, known_payee=True)).action is Action.REVIEW
    assert structuring.evaluate(pay(89_999), Profile(near, known_payee=True)).allowed
    assert structuring.evaluate(pay(100_001), Profile(near, known_payee=True)).allowed  # the second factor's

    night = engine(Rule(name="n", kind=RuleKind.NIGHT_HIGH_VALUE, action=Action.STEP_UP, min_amount=500,
                        night_start=22, night_end=6))  # 12:00 UTC is 20:00 in Shanghai: day; 20:00 UTC is 04:00
    assert night.evaluate(pay(500), Profile([], known_payee=True)).allowed
    hit = night.evaluate(pay(500, now=NOW + 8 * 3600), Profile([], known_payee=True)).hits[0]
    assert hit.features["local_hour"] == 4 and hit.features["time_zone"] == "Asia/Shanghai"

    young = engine(Rule(name="y", kind=RuleKind.NEW_WALLET_FULL_LIMIT, action=Action.REVIEW, window=600, percent=90))
    assert young.evaluate(pay(900), Profile([], known_payee=True, opened_at=NOW - 60, daily_limit=1_000)).hits
    assert young.evaluate(pay(899), Profile([], known_payee=True, opened_at=NOW - 60, daily_limit=1_000)).allowed
    assert young.evaluate(pay(900), Profile([], known_payee=True, opened_at=NOW - 600, daily_limit=1_000)).allowed


def test_the_strongest_action_wins_and_scopes_select() -> None:
    rules = engine(Rule(name="v", kind=RuleKind.VELOCITY, action=Action.REVIEW, max_count=1),
                   Rule(name="p", kind=RuleKind.NEW_PAYEE_AMOUNT, action=Action.DECLINE, min_amount=50,
                        signed_by="customer"),
                   Rule(name="t", kind=RuleKind.SECOND_FACTOR_FAILURES, action=Action.STEP_UP, max_count=2,
                        channels=["teller"]))
    profile = Profile([[NOW - 5, 10, 0]], known_payee=False, second_factor_failures=5)
    assert [h.rule for h in rules.evaluate(pay(), profile).hits] == ["v"]  # app, bank-signed
    both = rules.evaluate(pay(signed_by="customer"), profile)
    assert both.action is Action.DECLINE and [h.rule for h in both.hits] == ["v", "p"]
    assert rules.evaluate(pay(channel="teller"), profile).action is Action.REVIEW
    assert engine().evaluate(pay(), Profile([], known_payee=False, frozen=True)).action is Action.DECLINE


def test_the_kept_events_are_bounded_in_time_and_number() -> None:
    old = [[NOW - HISTORY_SECONDS - 1, 5, 0]]
    events = recorded(old, pay(7), new_payee=True)
    assert events == [[NOW, 7, 1]]
    for n in range(2 * MAX_EVENTS):
        events = recorded(events, pay(n), new_payee=False)
    assert len(events) == MAX_EVENTS and events[-1] == [NOW, 2 * MAX_EVENTS - 1, 0]


def test_the_defaults_spare_the_bench_and_catch_a_credential_driving_a_custodial_wallet() -> None:
    defaults = Engine(DEFAULT_RULES, threshold=100_000, timezone="UTC")
    events: list[list[int]] = []
    for n in range(MAX_EVENTS * 3):  # a self-custody payer's own signatures to a new payee each time
        payment = pay(1 + n % 9, payee=f"0x{n}", signed_by="customer", now=NOW + n // 50)
        profile = Profile(events, known_payee=False, opened_at=NOW - 86_400, daily_limit=10_000_000)
        assert defaults.evaluate(payment, profile).allowed, n
        events = recorded(events, payment, new_payee=True)
    stolen: list[list[int]] = []
    for n in range(3):
        stolen = recorded(stolen, pay(900, payee=f"0x{n}"), new_payee=True)
    verdict = defaults.evaluate(pay(900, payee="0x9"), Profile(stolen, known_payee=False))
    assert verdict.action is Action.FREEZE and [h.rule for h in verdict.hits] == ["fan-out-new-payees"]


def test_settings_refuse_bad_rules_and_time_zones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'node.sqlite3'}"
    check_settings_rules(load_settings(db_url=url, risk_rules=[{"name": "v", "kind": "velocity", "action": "review"}]))
    with pytest.raises(ValidationError):
        check_settings_rules(load_settings(db_url=url, risk_rules=[{"name": "v", "kind": "teleport",
                                                                    "action": "review"}]))
    with pytest.raises(ValidationError):
        check_settings_rules(load_settings(db_url=url, risk_rules=[{"name": "v", "kind": "velocity",
                                                                    "action": "review"}] * 2))
    with pytest.raises(ValidationError):
        load_settings(db_url=url, risk_timezone="Mars/Olympus_Mons")


def test_the_state_survives_a_restart(tmp_path: Path) -> None:
    """What one process counted (written in its transaction) is what the next one, started afresh, judges on."""
    url = f"sqlite:///{tmp_path / 'node.sqlite3'}"
    settings = load_settings(db_url=url, data_dir=tmp_path)
    first = create_engine(url)
    upgrade(first)
    with unit_of_work(work_sessions(first)) as session:
        view = RiskView(session, settings, ["0xW"], ["0x1", "0x2", "0x3"])
        for payee in ("0x1", "0x2", "0x3"):
            payment = pay(900, payee=payee)
            profile, verdict = view.evaluate(payment, opened_at=None, changed_at=None, daily_limit=None)
            assert verdict.allowed
            view.record(payment, profile)
        view.write(session)
    first.dispose()
    forget_rules()
    again = create_engine(url)  # a new process: nothing in memory
    try:
        with unit_of_work(work_sessions(again)) as session:
            view = RiskView(session, settings, ["0xW"], ["0x1", "0x4"])
            _, known = view.evaluate(pay(900, payee="0x1"), opened_at=None, changed_at=None, daily_limit=None)
            _, fourth = view.evaluate(pay(900, payee="0x4"), opened_at=None, changed_at=None, daily_limit=None)
        assert known.allowed and len(view.events["0xW"]) == 3
        assert fourth.action is Action.FREEZE and fourth.hits[0].features["new_payees"] == 4
    finally:
        again.dispose()
