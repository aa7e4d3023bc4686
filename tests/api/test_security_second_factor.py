"""Issue 18, findings 2 and 4, through HTTP on the two-bank network (bank A on SQLite, bank B on PostgreSQL).

Finding 2: any teller or app key could replace a wallet's TOTP secret without the current code and then pass
the second factor for any amount. Now a wallet's secret is replaced only with its current code, or by a
teller's in-person reset, which is audited (teller key, branch, operator, reason) and cools off: operations
above the threshold are refused for a day, smaller ones go on, and the customer sees it in the history.

Finding 4: codes could be guessed without limit. Now five wrong codes lock the factor out (the right code is
refused too until the lock-out ends), audited and shown in the history; a wrong code is counted although its
request fails, and concurrent guesses do not get past the limit. Every entry point that checks the second
factor (P2P, top-up, redemption, merchant payment, ATM cash-out, closure) holds both.

The lock-out's expiry and back-off, and the cooling-off's end, need a clock the tests can move: they are in
tests/node/test_flows_second_factor.py, on both databases.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pyotp
import pytest
from atm_support import Atm, new_atm
from atm_support import new_customer as new_atm_customer
from flow_network import BankNetwork, BankNode
from merchant_support import Shop, onboard_shop
from money_flows_support import completed, fresh, fund_wallet, open_customer, operations_of, totp_code
from sqlalchemy import select

from node.api_keys.models import ApiKey
from node.db import session_factory, transaction
from node.second_factor.models import SecondFactorAction, SecondFactorAudit
from wallet_sdk.client import Client
from wallet_sdk.client.transfers import HistoryEntry
from wallet_sdk.exceptions import (
    ApiProblemError,
    ForbiddenError,
    SecondFactorCoolingOffError,
    SecondFactorInvalidError,
    SecondFactorLockedError,
    SecondFactorRequiredError,
)

LIMIT = 5  # second_factor_max_failures (default)
LOCKOUT = 60  # second_factor_lockout (default), seconds
COOLING_OFF = 86_400  # second_factor_reset_cooling_off (default), seconds


@pytest.fixture(params=["a", "b"], ids=["sqlite", "postgresql"])
def bank(request: pytest.FixtureRequest, bank_network: BankNetwork) -> BankNode:
    node: BankNode = getattr(bank_network, request.param)
    return node


def _big(bank: BankNode) -> int:
    return bank.settings.second_factor_threshold + 1


def _wrong(secret: str) -> str:
    """A code no step near now has (the node accepts one step either side; the clock may move on meanwhile)."""
    totp, now = pyotp.TOTP(secret), time.time()
    near = {totp.at(now + 30 * k) for k in range(-3, 4)}
    return next(code for code in (f"{n:06d}" for n in range(1_000_000)) if code not in near)


def _refused(error: type[ApiProblemError], kind: str, attempt: Callable[[], object]) -> ApiProblemError:
    with pytest.raises(error) as caught:
        attempt()
    assert caught.value.type == f"https://walletnet.dev/problems/{kind}", caught.value.problem
    return caught.value


def _notices(client: Client, wallet: str) -> list[HistoryEntry]:
    return [e for e in client.get_history(wallet, limit=200).items if e.kind.startswith("totp_")]


def _audit(bank: BankNode, wallet: str) -> list[SecondFactorAudit]:
    with transaction(session_factory(bank.engine, read_only=True)) as session:
        return list(session.scalars(select(SecondFactorAudit).where(SecondFactorAudit.wallet == wallet)
                                    .order_by(SecondFactorAudit.id)))


def _key_id(bank: BankNode, name: str) -> int:
    with transaction(session_factory(bank.engine, read_only=True)) as session:
        return int(session.scalars(select(ApiKey.id).where(ApiKey.name == name)).one())


@pytest.fixture
def named_client(bank_network: BankNetwork) -> Iterator[Callable[[BankNode, str], tuple[Client, int]]]:
    """``named_client(bank, scope)``: a client with a new key of ``scope`` and that key's id."""
    made: list[Client] = []

    def make(bank: BankNode, scope: str) -> tuple[Client, int]:
        name = fresh(scope)
        client = Client(bank.url, bank.key(scope, name=name), timeout=30.0)
        made.append(client)
        return client, _key_id(bank, name)

    yield make
    for client in made:
        client.close()


# ------------------------------------------------------------------ finding 2: replacing the secret


def test_replacing_the_totp_without_its_current_code_is_refused(bank: BankNode) -> None:
    big = _big(bank)
    customer = open_customer(bank, deposit=big * 2)
    app, teller = customer.app(), bank.client("teller")
    old = app.enrol_totp(customer.wallet).secret
    for client in (app, teller):  # the attack of the finding, with either kind of key
        required = _refused(SecondFactorRequiredError, "second-factor-required",
                            partial(client.enrol_totp, customer.wallet))
        assert required.status == 403 and required.problem["enrolled"] is True
    invalid = _refused(SecondFactorInvalidError, "second-factor-invalid",
                       lambda: app.enrol_totp(customer.wallet, totp=_wrong(old)))
    assert invalid.problem["attempts_left"] == LIMIT - 1

    completed(app, app.top_up(customer.wallet, big, totp=totp_code(old)))  # the old secret still works
    assert [a.action for a in _audit(bank, customer.wallet)] == [SecondFactorAction.ENROLLED]
    assert [n.kind for n in _notices(app, customer.wallet)] == ["totp_enrolled"]


def test_replacing_the_totp_with_its_current_code_is_accepted(
        bank: BankNode, named_client: Callable[[BankNode, str], tuple[Client, int]]) -> None:
    big = _big(bank)
    customer = open_customer(bank, deposit=big * 2)
    teller, teller_key = named_client(bank, "teller")  # changes at the counter, so the audit names the key
    app = customer.app()
    old = teller.enrol_totp(customer.wallet).secret
    new = teller.enrol_totp(customer.wallet, totp=totp_code(old)).secret
    assert new != old
    stale = totp_code(old, ahead=1)
    if stale not in {totp_code(new, ahead=k) for k in (-1, 0, 1)}:
        _refused(SecondFactorInvalidError, "second-factor-invalid",
                 lambda: app.top_up(customer.wallet, big, totp=stale))
    completed(app, app.top_up(customer.wallet, big, totp=totp_code(new)))
    assert [(a.action, a.api_key_id) for a in _audit(bank, customer.wallet)] == [
        (SecondFactorAction.ENROLLED, teller_key), (SecondFactorAction.CHANGED, teller_key)]
    assert [n.kind for n in _notices(app, customer.wallet)] == ["totp_enrolled", "totp_changed"]


def test_a_tellers_reset_is_recorded_and_cools_off_high_value_payments(
        bank: BankNode, named_client: Callable[[BankNode, str], tuple[Client, int]]) -> None:
    threshold = bank.settings.second_factor_threshold
    payer = open_customer(bank, deposit=threshold * 2)
    payee = open_customer(bank, deposit=None)
    fund_wallet(payer, threshold)
    fund_wallet(payer, threshold)
    app = payer.app()
    app.enrol_totp(payer.wallet)
    _refused(ForbiddenError, "forbidden", lambda: app.reset_totp(payer.wallet, branch_id="BR-042", reason="lost"))

    teller, teller_key = named_client(bank, "teller")
    before = datetime.now(UTC)
    reset = teller.reset_totp(payer.wallet, branch_id="BR-042", operator_id="E-7731",
                              reason="phone lost; passport checked at the desk")
    until = datetime.fromisoformat(reset.cooling_off_until)
    assert before + timedelta(seconds=COOLING_OFF) <= until <= datetime.now(UTC) + timedelta(seconds=COOLING_OFF)
    (record,) = [a for a in _audit(bank, payer.wallet) if a.action is SecondFactorAction.RESET]
    assert (record.api_key_id, record.branch_id, record.operator_id, record.reason, record.until) == (
        teller_key, "BR-042", "E-7731", "phone lost; passport checked at the desk", until)
    assert before <= record.created_at <= datetime.now(UTC)

    operations = operations_of(bank, payer.wallet)
    cooling = _refused(SecondFactorCoolingOffError, "second-factor-cooling-off",  # the right new code, even
                       lambda: app.transfer(payer.wallet, payee.wallet, threshold + 1, totp=totp_code(reset.secret)))
    assert cooling.status == 403 and cooling.problem["threshold"] == threshold
    assert datetime.fromisoformat(str(cooling.problem["until"])) == until
    assert operations_of(bank, payer.wallet) == operations
    completed(app, app.transfer(payer.wallet, payee.wallet, 1_000))  # a small payment goes on

    (notice,) = [n for n in _notices(app, payer.wallet) if n.kind == "totp_reset"]
    assert notice.note is not None and "BR-042" in notice.note
    assert (notice.amount.amount, notice.spendable_delta, notice.tx_hash, notice.block_number) == (0, 0, None, None)


# ------------------------------------------------------------------ finding 4: guessing codes


def test_five_wrong_codes_lock_out_even_the_right_code(bank: BankNode) -> None:
    big = _big(bank)
    customer = open_customer(bank, deposit=big * 2)
    app = customer.app()
    secret = app.enrol_totp(customer.wallet).secret
    operations = operations_of(bank, customer.wallet)
    for left in range(LIMIT - 1, -1, -1):
        invalid = _refused(SecondFactorInvalidError, "second-factor-invalid",
                           lambda: app.top_up(customer.wallet, big, totp=_wrong(secret)))
        assert invalid.problem["attempts_left"] == left
    locked_until = datetime.fromisoformat(str(invalid.problem["locked_until"]))

    locked = _refused(SecondFactorLockedError, "second-factor-locked",
                      lambda: app.top_up(customer.wallet, big, totp=totp_code(secret)))
    assert isinstance(locked, SecondFactorLockedError) and locked.status == 429
    assert locked.locked_until is not None and datetime.fromisoformat(locked.locked_until) == locked_until
    assert locked.retry_after is not None and 0 < locked.retry_after <= LOCKOUT
    raw = httpx.post(f"{bank.url}/v1/wallets/{customer.wallet}/topups", json={"amount": big}, timeout=30.0,
                     headers={"Authorization": f"Bearer {bank.mint_session(customer.ref).token}",
                              "Idempotency-Key": fresh("raw"),
                              "X-TOTP-Code": totp_code(secret)})
    assert raw.status_code == 429 and 0 < int(raw.headers["Retry-After"]) <= LOCKOUT
    assert operations_of(bank, customer.wallet) == operations  # nothing was done for any of them

    lock = _audit(bank, customer.wallet)[-1]
    assert (lock.action, lock.until) == (SecondFactorAction.LOCKED, locked_until)
    (notice,) = [n for n in _notices(app, customer.wallet) if n.kind == "totp_locked"]
    assert notice.note is not None and "wrong" in notice.note


def test_concurrent_wrong_codes_do_not_get_past_the_limit(bank: BankNode) -> None:
    big, guesses = _big(bank), 12
    customer = open_customer(bank, deposit=big * 2)
    key = bank.mint_session(customer.ref).token  # the customer's app, in a customer session
    with Client(bank.url, key, timeout=60.0) as app:
        wrong = _wrong(app.enrol_totp(customer.wallet).secret)
    start = threading.Barrier(guesses)
    kinds: list[str] = []

    def guess() -> None:
        with Client(bank.url, key, timeout=60.0, retries=0) as client:
            start.wait()
            try:
                client.top_up(customer.wallet, big, totp=wrong)
            except ApiProblemError as exc:
                kinds.append(exc.type.rsplit("/", 1)[-1])

    threads = [threading.Thread(target=guess) for _ in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(kinds) == sorted(["second-factor-invalid"] * LIMIT + ["second-factor-locked"] * (guesses - LIMIT))
    assert [a.action for a in _audit(bank, customer.wallet)].count(SecondFactorAction.LOCKED) == 1


# ------------------------------------------------------------------ every entry point that checks the factor


@dataclass(frozen=True)
class Attempt:
    """One customer's wallet (kept by bank A, its TOTP enrolled) and a request above the threshold with a code."""

    wallet: str
    secret: str
    send: Callable[[str], Any]


@pytest.fixture(scope="module")
def shop(bank_network: BankNetwork) -> Shop:
    return onboard_shop(bank_network.a)


@pytest.fixture(scope="module")
def atm(bank_network: BankNetwork) -> Atm:
    return new_atm(bank_network.a, bank_network.a.client("admin"), stock=1_000_000)


def _custodial(bank: BankNode, in_wallet: int) -> tuple[str, str, Client]:
    """A custodial customer with ``in_wallet`` minor units in the wallet (topped up in steps of at most the
    threshold, which need no code) and more than the threshold left in the bound account; its TOTP enrolled."""
    customer = open_customer(bank, deposit=in_wallet + _big(bank))
    step = bank.settings.second_factor_threshold
    while in_wallet > 0:
        fund_wallet(customer, min(step, in_wallet))
        in_wallet -= min(step, in_wallet)
    app = customer.app()
    return customer.wallet, app.enrol_totp(customer.wallet).secret, app


def _p2p(net: BankNetwork, _shop: Shop, _atm: Atm) -> Attempt:
    big = _big(net.a)
    wallet, secret, app = _custodial(net.a, big)
    payee = open_customer(net.b, deposit=None).wallet
    return Attempt(wallet, secret, lambda code: app.transfer(wallet, payee, big, totp=code))


def _top_up(net: BankNetwork, _shop: Shop, _atm: Atm) -> Attempt:
    big = _big(net.a)
    wallet, secret, app = _custodial(net.a, 0)
    return Attempt(wallet, secret, lambda code: app.top_up(wallet, big, totp=code))


def _redemption(net: BankNetwork, _shop: Shop, _atm: Atm) -> Attempt:
    big = _big(net.a)
    wallet, secret, app = _custodial(net.a, big)
    return Attempt(wallet, secret, lambda code: app.redeem(wallet, big, totp=code))


def _merchant_payment(net: BankNetwork, shop: Shop, _atm: Atm) -> Attempt:
    big = _big(net.a)
    wallet, secret, app = _custodial(net.a, big)
    request = shop.client.create_payment_request(shop.merchant_id, fresh("ORDER"), big)
    return Attempt(wallet, secret, lambda code: app.pay_merchant(wallet, request.payload, totp=code))


def _atm_cash_out(net: BankNetwork, _shop: Shop, atm: Atm) -> Attempt:
    big = _big(net.a)
    customer = new_atm_customer(net.a)
    cash_in = atm.client.report_cash_in(fresh("EV"), customer.wallet, {big: 1})
    assert atm.client.wait_for_status(cash_in.id, ()).status == "completed"
    secret = net.a.client("teller").enrol_totp(customer.wallet).secret  # at the counter: a self-custody customer
    return Attempt(customer.wallet, secret,
                   lambda code: atm.client.submit_withdrawal(fresh("EV"), customer.code(big).text, totp=code))


def _closure(net: BankNetwork, _shop: Shop, _atm: Atm) -> Attempt:
    wallet, secret, app = _custodial(net.a, _big(net.a))
    return Attempt(wallet, secret, lambda code: app.close_wallet(wallet, totp=code))


ENTRY_POINTS: dict[str, Callable[[BankNetwork, Shop, Atm], Attempt]] = {
    "p2p": _p2p, "top_up": _top_up, "redemption": _redemption, "merchant_payment": _merchant_payment,
    "atm_cash_out": _atm_cash_out, "closure": _closure,
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_every_entry_point_honours_the_lock_out_and_the_cooling_off(
        entry: str, bank_network: BankNetwork, shop: Shop, atm: Atm) -> None:
    attempt = ENTRY_POINTS[entry](bank_network, shop, atm)
    operations = operations_of(bank_network.a, attempt.wallet)
    for _ in range(LIMIT):
        _refused(SecondFactorInvalidError, "second-factor-invalid", lambda: attempt.send(_wrong(attempt.secret)))
    _refused(SecondFactorLockedError, "second-factor-locked", lambda: attempt.send(totp_code(attempt.secret)))

    reset = bank_network.a.client("teller").reset_totp(attempt.wallet, branch_id="BR-1", reason="lost the phone")
    _refused(SecondFactorCoolingOffError, "second-factor-cooling-off",  # the reset ended the lock-out
             lambda: attempt.send(totp_code(reset.secret)))
    assert operations_of(bank_network.a, attempt.wallet) == operations
