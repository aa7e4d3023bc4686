"""The risk engine (issue 22) through HTTP on the two-bank network: the default rules stop a stolen app credential
draining a custodial wallet within three payments and freeze it; a held payment approved goes on chain once, a
declined one (by an officer or the timeout) leaves nothing; each rule kind fires with the features it saw; step-up,
decline and freeze on P2P (lane and full path), merchant payments and redemptions; the rules' audited changes; the
suspicious-activity export; who may call the risk API."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from atm_support import new_atm
from atm_support import new_customer as new_atm_customer
from flow_network import BankNetwork, BankNode
from merchant_support import onboard_shop, sign_payment
from money_flows_support import Customer, completed, fresh, fund_wallet, open_customer, refused, totp_code, wait_for
from sqlalchemy import select
from test_flows_transfers import signed_transfer

from node.db import session_factory, transaction
from node.db.durable import work_sessions
from node.outbox import OutboxRow
from node.risk import service as risk
from node.risk.rules import DEFAULT_RULES
from wallet_sdk.client import Client
from wallet_sdk.client.wallets import EnrolmentRow
from wallet_sdk.exceptions import (
    ConflictError,
    ForbiddenError,
    RiskDeclinedError,
    SecondFactorInvalidError,
    SecondFactorRequiredError,
    ValidationError,
    WalletFrozenError,
)

DEFAULTS = [r.model_dump(mode="json") for r in DEFAULT_RULES]


def payees(bank: BankNode, count: int) -> list[str]:
    """``count`` new custodial wallets of ``bank``, enrolled in one call."""
    teller = bank.client("teller")
    rows = [EnrolmentRow(customer_ref=fresh("PAYEE"), verification="in_person", tier=1) for _ in range(count)]
    results = teller.enrol_wallets(rows).results
    for result in results:
        assert result.ok and result.operation_id, result
        assert teller.wait_for_operation(result.operation_id).status == "completed"
    return [str(r.wallet) for r in results]


def spendable(bank: BankNode, wallet: str) -> int:
    bank.wait_idle()
    return bank.client("teller").get_balance(wallet).spendable.amount


@pytest.fixture(scope="module")
def officer(bank_network: BankNetwork) -> Client:
    return bank_network.a.client("risk")


@pytest.fixture
def rules(officer: Client) -> Iterator[Any]:
    """``rules([...])`` puts a rule set in force for the test; the defaults are back after it."""

    def put(*items: dict[str, Any]) -> None:
        officer.set_risk_rules(list(items), reason="test")

    yield put
    officer.set_risk_rules(DEFAULTS, reason="test done: the defaults again")


def declined(attempt: Any, rule: str, action: str = "decline") -> RiskDeclinedError:
    error: RiskDeclinedError = refused("risk-declined", RiskDeclinedError, attempt)
    assert (error.action, error.rules) == (action, [rule]), error.problem
    return error


# ------------------------------------------------------------------ the stolen credential, with the defaults


@pytest.mark.parametrize("bank", ["a", "b"], ids=["sqlite", "postgresql"])
def test_a_stolen_app_credential_is_stopped_after_three_payments_and_the_wallet_frozen(
        bank_network: BankNetwork, bank: str) -> None:
    a, b = (bank_network.a, bank_network.b) if bank == "a" else (bank_network.b, bank_network.a)
    officer = a.client("risk")
    assert officer.get_risk_rules().rules == DEFAULTS  # nothing but the defaults
    victim = open_customer(a, deposit=40_000)
    fund_wallet(victim, 40_000)
    thief = victim.app()  # the customer's session, in someone else's hands: the bank signs for a custodial wallet
    targets = payees(b, 5)
    for target in targets[:3]:
        completed(thief, thief.transfer(victim.wallet, target, 900))
    error = declined(lambda: thief.transfer(victim.wallet, targets[3], 900), "fan-out-new-payees", "freeze")

    decision = officer.get_risk_decision(str(error.decision))
    assert (decision.action, decision.flow, decision.channel, decision.amount) == ("freeze", "p2p", "app", 900)
    assert decision.hits[0]["features"] == {"new_payees": 4, "window_seconds": 600, "max_count": 3}
    teller = a.client("teller")
    freeze = teller.wait_for_operation(str(decision.operation_id))  # the bank's freeze, through its writer
    assert (freeze.kind, freeze.status, freeze.details["reason"]) == ("freeze", "completed", risk.RISK_FREEZE_REASON)
    assert teller.get_wallet(victim.wallet).status == "frozen"
    refused("wallet-frozen", WalletFrozenError, lambda: thief.transfer(victim.wallet, targets[4], 900))
    assert spendable(a, victim.wallet) == 40_000 - 3 * 900  # three payments, no more
    wait_for(lambda: any(n.type == "wallet_frozen" for n in
                         victim.app().list_notifications(victim.wallet, limit=200).items), "the frozen notification")
    frozen = [n for n in victim.app().list_notifications(victim.wallet, limit=200).items if n.type == "wallet_frozen"]
    assert frozen[0].params["note"] == f"risk decision {decision.id}"


def test_the_defaults_leave_self_custody_payers_to_many_payees_alone(bank_network: BankNetwork) -> None:
    """The benchmark's shape: a self-custody payer's own signatures to many new payees (the P2P lane's fast path)."""
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, self_custody=True, deposit=5_000)
    fund_wallet(payer, 5_000)
    app = payer.app()
    ops = [app.transfer(payer.wallet, target, 100 + n, authorization=signed_transfer(payer, target, 100 + n))
           for n, target in enumerate(payees(b, 5))]
    assert [completed(app, op).status for op in ops] == ["completed"] * 5


# ------------------------------------------------------------------ review: approve once, decline, time out


def test_a_held_payment_approved_goes_once_and_a_declined_one_leaves_nothing(
        bank_network: BankNetwork, officer: Client, rules: Any) -> None:
    a, b = bank_network.a, bank_network.b
    rules({"name": "hold-new", "kind": "new_payee_amount", "action": "review", "min_amount": 7_000})
    payer = open_customer(a, deposit=30_000)
    fund_wallet(payer, 30_000)
    app = payer.app()
    first, second, third = payees(b, 3)

    held = app.transfer(payer.wallet, first, 8_000)
    assert held.status == "pending_review" and not held.final
    decision_id = str(held.details["risk_decision"])
    queue = [d.id for d in officer.list_risk_reviews(limit=200).items]
    assert decision_id in queue
    a.wait_idle()
    assert app.get_operation(held.id).status == "pending_review"  # nothing was enqueued meanwhile
    approved = officer.approve_risk_review(decision_id, reason="customer confirmed by phone")
    assert (approved.review_state, approved.review_reason) == ("approved", "customer confirmed by phone")
    assert completed(app, held).status == "completed"
    refused("invalid-state", ConflictError, lambda: officer.approve_risk_review(decision_id, reason="again"))
    assert spendable(a, payer.wallet) == 30_000 - 8_000  # once
    assert spendable(b, first) == 8_000

    other = app.transfer(payer.wallet, second, 9_000)
    assert other.status == "pending_review"
    officer.decline_risk_review(str(other.details["risk_decision"]), reason="no answer from the customer")
    failed = app.get_operation(other.id)
    assert (failed.status, failed.details["reason"], failed.details["review"]) == ("failed", "RiskDeclined", "declined")
    late = app.transfer(payer.wallet, third, 7_500)
    assert late.status == "pending_review"
    expired = risk.expire_reviews(work_sessions(a.engine), a.settings,
                                  now=datetime.now(UTC) + timedelta(seconds=a.settings.risk_review_timeout + 1))
    assert expired >= 1
    assert app.get_operation(late.id).details["review"] == "expired"
    assert spendable(a, payer.wallet) == 30_000 - 8_000  # the declined and the expired moved nothing
    with transaction(session_factory(a.engine, read_only=True)) as session:
        keys = set(session.scalars(select(OutboxRow.idempotency_key)))
    assert f"{other.id}:relay" not in keys and f"{late.id}:relay" not in keys


# ------------------------------------------------------------------ each kind, with the features it saw


def test_each_rule_kind_fires_with_the_features_it_saw(bank_network: BankNetwork, officer: Client,
                                                     rules: Any) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, deposit=200_000)
    fund_wallet(payer, 100_000)  # (a top-up above 100,000 needs the second factor)
    fund_wallet(payer, 100_000)
    app = payer.app()
    secret = app.enrol_totp(payer.wallet).secret
    one, two = payees(b, 2)

    def features(error: RiskDeclinedError) -> dict[str, Any]:
        return dict(officer.get_risk_decision(str(error.decision)).hits[0]["features"])

    # step-up: a first payment to a new payee needs the second factor although it is below the threshold
    rules({"name": "new-payee", "kind": "new_payee_amount", "action": "step_up", "min_amount": 1_000})
    refused("second-factor-required", SecondFactorRequiredError, lambda: app.transfer(payer.wallet, one, 2_000))
    completed(app, app.transfer(payer.wallet, one, 2_000, totp=totp_code(secret)))
    steps = officer.list_risk_decisions(wallet=payer.wallet, action="step_up").items
    assert [d.hits[0]["features"]["new_payee"] for d in steps] == [True, True]  # asked, then passed

    rules({"name": "velocity", "kind": "velocity", "action": "decline", "window": 600, "max_count": 2})
    completed(app, app.transfer(payer.wallet, one, 100))
    assert features(declined(lambda: app.transfer(payer.wallet, one, 100), "velocity")) == {
        "count": 3, "amount": 2_200, "window_seconds": 600, "max_count": 2, "max_amount": None}  # as docs/risk.md

    rules({"name": "fan-out", "kind": "fan_out", "action": "decline", "window": 600, "max_count": 1})
    assert features(declined(lambda: app.transfer(payer.wallet, two, 100), "fan-out"))["new_payees"] == 2

    rules({"name": "history", "kind": "amount_vs_history", "action": "decline", "min_history": 2, "multiple": 5})
    assert features(declined(lambda: app.transfer(payer.wallet, one, 6_000), "history")) == {
        "amount": 6_000, "median_30d": 1_050, "payments_30d": 2, "multiple": 5}  # of 2,000 and 100, as docs/risk.md

    rules({"name": "structuring", "kind": "structuring", "action": "decline", "max_count": 2, "percent": 90})
    completed(app, app.transfer(payer.wallet, one, 95_000))
    assert features(declined(lambda: app.transfer(payer.wallet, one, 95_000), "structuring")) == {
        "near_limit_payments": 2, "limit": 100_000, "from": 90_000, "window_seconds": 3600}

    hour = datetime.fromtimestamp(a.network.now(), UTC).hour  # the chain's clock, as the node reads it
    rules({"name": "night", "kind": "night_high_value", "action": "decline", "min_amount": 1,
           "night_start": (hour - 1) % 24, "night_end": (hour + 2) % 24})
    assert features(declined(lambda: app.transfer(payer.wallet, one, 100), "night"))["time_zone"] == "UTC"

    rules({"name": "new-wallet", "kind": "new_wallet_full_limit", "action": "decline", "window": 86_400,
           "percent": 1})  # tier 1: 100,000.00 a day, so 1,000.00 is 1% of it
    seen = features(declined(lambda: app.transfer(payer.wallet, one, 100_000), "new-wallet"))
    assert seen["daily_limit"] == 10_000_000 and seen["wallet_age_seconds"] < 86_400

    rules({"name": "failures", "kind": "second_factor_failures", "action": "decline", "max_count": 1})
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    refused("second-factor-invalid", SecondFactorInvalidError,
            lambda: app.transfer(payer.wallet, one, 100_001, totp=wrong))
    assert features(declined(lambda: app.transfer(payer.wallet, one, 100), "failures")) == {
        "second_factor_failures": 1, "max_count": 1}
    assert spendable(a, payer.wallet) == 200_000 - 2_000 - 100 - 95_000  # only what was allowed moved


def test_redemptions_merchant_payments_and_the_lane_are_judged_too(bank_network: BankNetwork, officer: Client,
                                                                  rules: Any) -> None:
    a, b = bank_network.a, bank_network.b
    rules({"name": "no-redeem", "kind": "velocity", "action": "decline", "flows": ["redemption"], "max_count": 1},
          {"name": "shop-review", "kind": "new_payee_amount", "action": "review", "flows": ["merchant_payment"],
           "channels": ["app"], "min_amount": 1},
          {"name": "till", "kind": "new_payee_amount", "action": "review", "flows": ["merchant_payment"],
           "channels": ["merchant"], "min_amount": 1},
          {"name": "atm-review", "kind": "velocity", "action": "review", "flows": ["atm_cash_out"], "max_count": 1},
          {"name": "lane-cap", "kind": "velocity", "action": "decline", "flows": ["p2p"], "signed_by": "customer",
           "max_count": 1})
    customer = open_customer(a, deposit=20_000)
    fund_wallet(customer, 20_000)
    teller = a.client("teller")
    completed(teller, teller.redeem(customer.wallet, 1_000))
    declined(lambda: teller.redeem(customer.wallet, 1_000), "no-redeem")

    shop = onboard_shop(a)
    request = shop.client.create_payment_request(shop.merchant_id, fresh("ORDER"), 2_500)
    app = customer.app()
    held = app.pay_merchant(customer.wallet, request.payload)
    assert held.status == "pending_review"
    officer.approve_risk_review(str(held.details["risk_decision"]), reason="known shop")
    assert completed(app, held).status == "completed"

    signer: Customer = open_customer(a, self_custody=True, deposit=3_000)
    fund_wallet(signer, 3_000)
    own = signer.app()
    (target,) = payees(b, 1)
    completed(own, own.transfer(signer.wallet, target, 100, authorization=signed_transfer(signer, target, 100)))
    declined(lambda: own.transfer(signer.wallet, target, 100, authorization=signed_transfer(signer, target, 100)),
             "lane-cap")
    # at the till (the POS lane) and at an ATM the customer cannot wait for a review: it declines
    order = fresh("TILL")
    declined(lambda: shop.client.submit_pos_payment(shop.merchant_id, sign_payment(signer, shop, order, 700),
                                                    amount=700), "till")
    atm = new_atm(a, a.client("admin"), stock=50_000)
    holder = new_atm_customer(a)
    assert atm.client.wait_for_status(atm.client.report_cash_in(fresh("EV"), holder.wallet, {20_000: 1}).id,
                                      ()).status == "completed"
    first = atm.client.submit_withdrawal(fresh("EV"), holder.code(7_000).text)
    assert atm.client.wait_until_held(first.id).status == "held"
    declined(lambda: atm.client.submit_withdrawal(fresh("EV"), holder.code(3_000).text), "atm-review")
    assert spendable(a, customer.wallet) == 20_000 - 1_000 - 2_500
    assert spendable(a, signer.wallet) == 3_000 - 100
    assert spendable(a, holder.wallet) == 20_000 - 7_000  # the held one only
    atm.client.confirm_dispense(first.id, fresh("EV"))
    assert atm.client.wait_for_status(first.id, ()).status == "completed"


# ------------------------------------------------------------------ rules, audit, export, who may


def test_rule_changes_are_audited_and_bad_rules_refused(bank_network: BankNetwork, officer: Client,
                                                        rules: Any) -> None:
    admin = bank_network.a.client("admin")
    rules({"name": "only", "kind": "velocity", "action": "review", "max_count": 50})
    changed = admin.get_risk_rules()
    assert [r["name"] for r in changed.rules] == ["only"] and changed.reason == "test"
    last = officer.list_risk_rule_changes(limit=200).items[-1]
    assert last.rules[0]["max_count"] == 50 and last.previous is not None
    refused("validation", ValidationError, lambda: officer.set_risk_rules(
        [{"name": "x", "kind": "velocity", "action": "review"}] * 2, reason="duplicate names"))
    refused("validation", ValidationError, lambda: officer.set_risk_rules(
        [{"name": "x", "kind": "teleport", "action": "review"}], reason="no such kind"))
    assert admin.get_risk_rules().version == changed.version  # neither changed anything
    refused("forbidden", ForbiddenError, lambda: bank_network.a.client("teller").get_risk_rules())
    refused("forbidden", ForbiddenError, lambda: admin.list_risk_reviews())


def test_the_suspicious_activity_export_lists_the_periods_decisions(bank_network: BankNetwork,
                                                                   officer: Client) -> None:
    today = datetime.now(UTC).date().isoformat()
    exported = officer.export_risk_activity(today, today)
    assert exported.items and {i["action"] for i in exported.items} <= {"review", "decline", "freeze"}
    assert any(i["rules"] == ["fan-out-new-payees"] and i["action"] == "freeze" for i in exported.items)
    text = officer.export_risk_activity(today, today, format="csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == [i["id"] for i in exported.items]
    regulator = bank_network.a.client("regulator")
    assert regulator.export_risk_activity(today, today).items == exported.items
