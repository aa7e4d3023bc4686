"""ATM messages through HTTP: per-device signatures, replays, clock skew, event-id idempotency, scopes, and what
a withdrawal code must be (valid, this bank's wallet, enough money, a second factor above the threshold)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from atm_support import Atm, Customer, fresh, new_atm, new_customer
from flow_network import BankNetwork
from sqlalchemy import func, select

from node.db import session_factory
from node.operations.models import Operation
from wallet_sdk.client import ApiRequest, Client, model
from wallet_sdk.client import Operation as OperationDoc
from wallet_sdk.client.atm import AsyncAtmClient, AtmClient, atm_headers
from wallet_sdk.exceptions import (
    AtmAuthenticationFailedError,
    AtmMessageReplayedError,
    AuthorizationInvalidError,
    ForbiddenError,
    IdempotencyKeyReusedError,
    InsufficientBalanceError,
    SecondFactorRequiredError,
    ValidationError,
    WalletNotCustodiedHereError,
)


@pytest.fixture(scope="module")
def admin(bank_network: BankNetwork) -> Client:
    return bank_network.a.client("admin")


@pytest.fixture(scope="module")
def atm(bank_network: BankNetwork, admin: Client) -> Atm:
    return new_atm(bank_network.a, admin, stock=1_000_000)


@pytest.fixture(scope="module")
def customer(bank_network: BankNetwork) -> Customer:
    return new_customer(bank_network.a)


def operations_of(atm: Atm) -> int:
    with session_factory(atm.bank.engine).begin() as session:
        return int(session.scalar(select(func.count(Operation.id)).where(
            Operation.account == f"cash:atm:{atm.atm_id}")) or 0)


def cash_in(client: AtmClient, wallet: str, amount: int = 1_000, event: str | None = None) -> OperationDoc:
    return client.report_cash_in(event or fresh("EV"), wallet, {amount: 1})


# ------------------------------------------------------------------ authentication


def test_an_exact_replay_of_a_signed_message_is_refused(atm: Atm, customer: Customer) -> None:
    moment = float(int(time.time()))  # one timestamp for both sends (reading the clock twice could cross a second)
    frozen = atm.signed_as(clock=lambda: moment, nonces=lambda: "fixed-nonce-000000001")
    event = fresh("EV")
    first = cash_in(frozen, customer.wallet, event=event)
    assert first.status == "pending"
    with pytest.raises(AtmMessageReplayedError) as replayed:
        cash_in(frozen, customer.wallet, event=event)  # the same headers and body: the same signature
    assert replayed.value.status == 409
    again = cash_in(atm.client, customer.wallet, event=event)  # signed afresh: the event's first answer
    assert again.id == first.id


def test_a_timestamp_outside_the_clock_skew_is_refused(atm: Atm, customer: Customer) -> None:
    skew = atm.bank.settings.atm_clock_skew
    before = operations_of(atm)
    for offset in (-skew - 30, skew + 30):
        skewed = atm.signed_as(clock=lambda offset=offset: time.time() + offset)
        with pytest.raises(AtmAuthenticationFailedError) as refused:
            cash_in(skewed, customer.wallet)
        assert refused.value.status == 401 and "clock" in (refused.value.detail or "")
    assert operations_of(atm) == before


def test_a_wrong_signature_an_unknown_or_disabled_atm_is_refused(bank_network: BankNetwork, admin: Client,
                                                                 customer: Customer) -> None:
    atm = new_atm(bank_network.a, admin)
    assert cash_in(atm.client, customer.wallet).status == "pending"
    for impostor in (atm.signed_as(secret="atms_guessed"), atm.signed_as(atm_id=fresh("ATM"))):
        with pytest.raises(AtmAuthenticationFailedError) as refused:
            cash_in(impostor, customer.wallet)
        assert refused.value.status == 401
    unsigned = bank_network.a.client("atm")  # an atm key, but no device signature
    with pytest.raises(AtmAuthenticationFailedError):
        unsigned.send(ApiRequest("POST", "/v1/atm/cash-ins", model(OperationDoc), json={
            "event_id": fresh("EV"), "wallet": customer.wallet, "amount": 100,
            "notes": [{"denomination": 100, "count": 1}]}))

    rotated = admin.rotate_atm_secret(atm.atm_id)
    with pytest.raises(AtmAuthenticationFailedError):
        cash_in(atm.client, customer.wallet)  # the old secret stopped working
    renewed = atm.signed_as(secret=rotated.secret)
    assert cash_in(renewed, customer.wallet).status == "pending"

    admin.disable_atm(atm.atm_id)
    with pytest.raises(AtmAuthenticationFailedError) as disabled:
        cash_in(renewed, customer.wallet)
    assert "disabled" in (disabled.value.detail or "")


def test_the_signature_covers_the_body(atm: Atm, customer: Customer) -> None:
    body = b'{"event_id":"EV-body-1","wallet":"%s","amount":500,"notes":[{"denomination":500,"count":1}]}' % (
        customer.wallet.encode())
    headers = atm_headers(atm.atm_id, atm.secret, method="POST", path="/v1/atm/cash-ins", body=body)
    tampered = body.replace(b'"amount":500', b'"amount":900').replace(b'"denomination":500', b'"denomination":900')
    response = httpx.post(f"{atm.bank.url}/v1/atm/cash-ins", content=tampered, headers={
        **headers, "Authorization": f"Bearer {atm.api_key}", "Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 401
    assert response.json()["type"].endswith("/atm-authentication-failed")
    good = httpx.post(f"{atm.bank.url}/v1/atm/cash-ins", content=body, headers={
        **headers, "Authorization": f"Bearer {atm.api_key}", "Content-Type": "application/json"}, timeout=30)
    assert good.status_code == 202 and good.json()["amount"]["amount"] == 500


def test_keys_of_other_scopes_cannot_send_atm_messages(bank_network: BankNetwork, atm: Atm,
                                                       customer: Customer) -> None:
    before = operations_of(atm)
    for scope in ("teller", "merchant", "app", "admin"):
        signed_by_atm = atm.signed_as(api_key=bank_network.a.key(scope, merchant_id="M-1" if scope == "merchant"
                                                                  else None))
        with pytest.raises(ForbiddenError) as refused:
            cash_in(signed_by_atm, customer.wallet)
        assert refused.value.status == 403 and refused.value.type.endswith("/forbidden")
    assert operations_of(atm) == before
    atm_key_client = bank_network.a.client("atm")
    with pytest.raises(ForbiddenError):
        atm_key_client.replenish_atm(atm.atm_id, 1_000)
    with pytest.raises(ForbiddenError):
        atm_key_client.register_atm(fresh("ATM"), name="rogue")


# ------------------------------------------------------------------ event idempotency


def test_an_event_resent_returns_its_first_answer_and_another_body_is_a_conflict(atm: Atm,
                                                                                customer: Customer) -> None:
    event = fresh("EV")
    first = cash_in(atm.client, customer.wallet, 2_500, event=event)
    count = operations_of(atm)
    again = cash_in(atm.client, customer.wallet, 2_500, event=event)  # new timestamp and nonce, same body
    assert again == first  # the recorded answer, even though the operation has moved on since
    assert operations_of(atm) == count
    with pytest.raises(IdempotencyKeyReusedError) as conflict:
        cash_in(atm.client, customer.wallet, 3_000, event=event)
    assert conflict.value.status == 409
    assert atm.client.wait_for_status(first.id, ()).status == "completed"
    assert operations_of(atm) == count


def test_cash_in_notes_must_add_up_to_the_amount(atm: Atm, customer: Customer) -> None:
    with pytest.raises(ValidationError) as refused:
        atm.client.send(ApiRequest("POST", "/v1/atm/cash-ins", model(OperationDoc), json={
            "event_id": fresh("EV"), "wallet": customer.wallet, "amount": 7_000,
            "notes": [{"denomination": 5_000, "count": 1}, {"denomination": 1_000, "count": 1}]}))
    assert refused.value.status == 422 and "6000" in (refused.value.detail or "")


# ------------------------------------------------------------------ other banks' wallets


def test_another_banks_wallet_is_refused_at_this_banks_atm(bank_network: BankNetwork, atm: Atm) -> None:
    other = new_customer(bank_network.b)
    with pytest.raises(WalletNotCustodiedHereError) as refused:
        cash_in(atm.client, other.wallet)
    assert refused.value.status == 409 and refused.value.problem["bank"] == "BANKB"

    admin_b = bank_network.b.client("admin")
    atm_b = new_atm(bank_network.b, admin_b, stock=50_000)  # its own bank's ATM (on PostgreSQL) serves it
    assert atm_b.client.wait_for_status(cash_in(atm_b.client, other.wallet, 8_000).id, ()).status == "completed"
    with pytest.raises(WalletNotCustodiedHereError):
        atm.client.submit_withdrawal(fresh("EV"), other.code(3_000).text)
    assert bank_network.b.network.held_balance(other.wallet) == 0

    op = atm_b.client.submit_withdrawal(fresh("EV"), other.code(3_000).text)
    assert atm_b.client.wait_until_held(op.id).status == "held"
    atm_b.client.confirm_dispense(op.id, fresh("EV"))
    assert atm_b.client.wait_for_status(op.id, ()).status == "completed"
    assert bank_network.b.network.balance(other.wallet) == 5_000
    assert admin_b.get_atm_cash(atm_b.atm_id).cash.amount == 50_000 + 8_000 - 3_000


# ------------------------------------------------------------------ withdrawal codes


def test_withdrawal_codes_that_cannot_be_honoured_are_refused(bank_network: BankNetwork, atm: Atm) -> None:
    bank = bank_network.a
    customer = new_customer(bank)
    assert atm.client.wait_for_status(cash_in(atm.client, customer.wallet, 10_000).id, ()).status == "completed"

    text = customer.code(1_000).text
    tampered = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")
    short = customer.code(1_000, valid_for=bank.settings.atm_hold_timeout)  # expires before it could settle
    long = customer.code(1_000, valid_for=7_200)
    for bad in (tampered, short.text, long.text, "WALLETNET:1:HOLD:", "not a code"):
        with pytest.raises(AuthorizationInvalidError) as refused:
            atm.client.submit_withdrawal(fresh("EV"), bad)
        assert refused.value.status == 422
    with pytest.raises(InsufficientBalanceError):
        atm.client.submit_withdrawal(fresh("EV"), customer.code(10_001).text)

    code = customer.code(4_000)
    op = atm.client.submit_withdrawal(fresh("EV"), code.text)
    with pytest.raises(AuthorizationInvalidError) as reused:  # the same code at the same or another ATM
        atm.client.submit_withdrawal(fresh("EV"), code.text)
    assert "used before" in (reused.value.detail or "")
    assert atm.client.wait_until_held(op.id).status == "held"
    atm.client.report_dispense_fault(op.id, fresh("EV"), "customer walked away")
    assert atm.client.wait_for_status(op.id, ()).status == "released"
    with pytest.raises(AuthorizationInvalidError):
        atm.client.submit_withdrawal(fresh("EV"), code.text)  # a released code stays used
    assert bank.network.balance(customer.wallet) == 10_000


def test_a_large_withdrawal_needs_the_customers_second_factor(bank_network: BankNetwork, atm: Atm) -> None:
    bank = bank_network.a
    threshold = bank.settings.second_factor_threshold
    customer = new_customer(bank)
    amount = threshold + 1_000
    assert atm.client.wait_for_status(cash_in(atm.client, customer.wallet, amount).id, ()).status == "completed"
    with pytest.raises(SecondFactorRequiredError) as refused:
        atm.client.submit_withdrawal(fresh("EV"), customer.code(amount).text)
    assert refused.value.status == 403 and refused.value.problem["threshold"] == threshold
    assert bank.network.held_balance(customer.wallet) == 0


def test_the_async_atm_client_signs_its_messages_too(atm: Atm, customer: Customer) -> None:
    async def pay_in() -> tuple[str, str]:
        async with AsyncAtmClient(atm.bank.url, atm.api_key, atm_id=atm.atm_id, secret=atm.secret,
                                  timeout=30.0) as device:
            op = await device.report_cash_in(fresh("EV"), customer.wallet, {700: 3})
            done = await device.wait_for_status(op.id, ())
            return op.status, done.status

    before = atm.bank.network.balance(customer.wallet)
    assert asyncio.run(pay_in()) == ("pending", "completed")
    assert atm.bank.network.balance(customer.wallet) == before + 2_100
