"""Redemptions (wallet -> bound deposit account) through HTTP with the SDK client, on the two-bank network."""

from __future__ import annotations

import pytest
from flow_network import BankNetwork
from money_flows_support import (
    chain_now,
    completed,
    domain,
    freeze_by_regulator,
    fund_wallet,
    open_customer,
    operations_of,
    totp_code,
)

from wallet_sdk.authorizations import Domain, Redemption
from wallet_sdk.client import ApiRequest
from wallet_sdk.client.funding import redemption_fields
from wallet_sdk.exceptions import (
    AuthorizationInvalidError,
    ForbiddenError,
    IdempotencyKeyReusedError,
    InsufficientBalanceError,
    LimitExceededError,
    SecondFactorRequiredError,
    ValidationError,
    WalletFrozenError,
)
from wallet_sdk.keys import WalletKey
from wallet_sdk.payload import encode_payload


def test_custodial_redemption_burns_and_credits_the_account(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    customer = open_customer(bank, deposit=50_000)
    assert customer.account is not None
    fund_wallet(customer, 40_000)
    teller = bank.client("teller")
    op = teller.redeem(customer.wallet, 15_000)  # the bank signs for a custodial wallet
    assert (op.kind, op.status, op.account, op.details["signed_by"]) == ("redemption", "pending", customer.account,
                                                                         "bank")
    assert op.ref is not None and op.ref.startswith("REDEEM-")
    done = completed(teller, op)
    account = teller.get_account(customer.account)
    assert (account.balance.amount, account.available.amount) == (10_000 + 15_000, 25_000)
    assert teller.get_balance(customer.wallet).spendable.amount == 25_000
    bank.wait_idle()
    kinds = [(e.kind, e.amount.amount, e.ref, e.burn_reason) for e in teller.get_history(customer.wallet).items]
    assert kinds[-1] == ("burn", 15_000, op.ref, "redemption")
    assert teller.get_history(customer.wallet).items[-1].tx_hash == done.tx_hash


def test_self_custody_redemption_as_fields_and_as_qr_text(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    customer = open_customer(bank, self_custody=True, deposit=30_000)
    assert customer.account is not None
    fund_wallet(customer, 30_000)
    app = customer.app()
    deadline = chain_now(bank) + 600
    first = customer.sign(Redemption(holder=customer.wallet, value=4_000, valid_before=deadline))
    op = completed(app, app.redeem(customer.wallet, 4_000, authorization=first))
    assert op.details["signed_by"] == "customer"
    second = customer.sign(Redemption(holder=customer.wallet, value=6_000, valid_before=deadline))
    completed(app, app.redeem(customer.wallet, 6_000, authorization=encode_payload(second)))
    assert app.get_account(customer.account).balance.amount == 10_000
    assert app.get_balance(customer.wallet).spendable.amount == 20_000
    with pytest.raises(AuthorizationInvalidError) as replayed:  # a signed Redemption burns once
        app.redeem(customer.wallet, 4_000, authorization=first)
    assert "used" in (replayed.value.detail or "")


def test_forged_redemptions_are_refused_before_anything_is_written(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    customer = open_customer(bank, self_custody=True, deposit=20_000)
    fund_wallet(customer, 20_000)
    app = customer.app()
    before = operations_of(bank, customer.wallet)
    now = chain_now(bank)
    good = customer.sign(Redemption(holder=customer.wallet, value=5_000, valid_before=now + 600))

    tampered = redemption_fields(good)
    tampered["authorization"]["value"] = 9_000  # more than was signed
    expired = customer.sign(Redemption(holder=customer.wallet, value=5_000, valid_before=now - 1))
    stranger = WalletKey.create()
    by_stranger = Redemption(holder=stranger.address, value=5_000, valid_before=now + 600).sign(stranger, domain(bank))
    as_customer = redemption_fields(by_stranger)
    as_customer["authorization"]["holder"] = customer.wallet  # someone else's signature, the wallet's name
    other_chain = Domain.for_token(domain(bank).name, domain(bank).chain_id + 1, domain(bank).verifying_contract)
    for_other_chain = Redemption(holder=customer.wallet, value=5_000, valid_before=now + 600)
    assert customer.key is not None
    signed_elsewhere = for_other_chain.sign(customer.key, other_chain)
    text = encode_payload(good)
    garbled = text[:-6] + ("A" if text[-6] != "A" else "B") + text[-5:]

    path = f"/v1/wallets/{customer.wallet}/redemptions"
    for body, amount in ((tampered, 9_000), (redemption_fields(expired), 5_000), (as_customer, 5_000),
                         (redemption_fields(signed_elsewhere), 5_000), ({"payload": garbled}, 5_000),
                         (redemption_fields(good), 4_000), (redemption_fields(by_stranger), 5_000)):
        with pytest.raises(AuthorizationInvalidError) as refused:
            app.send(ApiRequest("POST", path, json={"amount": amount, **body}, idempotent=True))
        assert refused.value.status == 422, body
    with pytest.raises(ValidationError) as unsigned:  # a self-custody wallet's key is not the bank's
        app.redeem(customer.wallet, 5_000)
    assert unsigned.value.errors[0]["loc"] == ["body", "authorization"]
    assert operations_of(bank, customer.wallet) == before
    completed(app, app.redeem(customer.wallet, 5_000, authorization=good))  # the genuine one still works


def test_redemption_balance_and_limit_checks(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    customer = open_customer(bank, tier=4, deposit=100_000)  # tier 4: single payment 50_000, daily 100_000
    fund_wallet(customer, 60_000)
    teller = bank.client("teller")
    with pytest.raises(InsufficientBalanceError) as short:
        teller.redeem(customer.wallet, 60_001)
    assert (short.value.problem["balance"], short.value.problem["requested"]) == (60_000, 60_001)
    with pytest.raises(LimitExceededError) as single:
        teller.redeem(customer.wallet, 50_001)
    assert (single.value.problem["limit"], single.value.problem["limit_minor"]) == ("single_payment", 50_000)
    completed(teller, teller.redeem(customer.wallet, 50_000))  # 50_000 of today's 100_000 used
    fund_wallet(customer, 70_000)  # 80_000 in the wallet, 50_000 of today's limit left
    teller.redeem(customer.wallet, 30_000)  # 20_000 of today's limit left once this one is through
    with pytest.raises(LimitExceededError) as daily:  # counted whether or not the first has reached the chain
        teller.redeem(customer.wallet, 30_000)
    assert (daily.value.problem["limit"], daily.value.problem["remaining"]) == ("daily_outflow", 20_000)
    assert "limit" in (daily.value.detail or "")
    bank.wait_idle()
    balance = teller.get_balance(customer.wallet)
    assert (balance.spendable.amount, balance.spent_today.amount) == (50_000, 80_000)
    assert balance.remaining_today is not None and balance.remaining_today.amount == 20_000


def test_redemption_refusals_and_retries(bank_network: BankNetwork) -> None:
    a = bank_network.a
    customer = open_customer(a, deposit=10_000)
    fund_wallet(customer, 10_000)
    with pytest.raises(ForbiddenError):
        a.client("atm").redeem(customer.wallet, 1_000)
    freeze_by_regulator(bank_network, customer.wallet)
    bank_network.wait_idle()  # the bank admits redemptions from its indexed view: the freeze counts once indexed
    with pytest.raises(WalletFrozenError):
        customer.app().redeem(customer.wallet, 1_000)

    threshold = a.settings.second_factor_threshold
    big = open_customer(a, deposit=threshold * 2)
    assert big.account is not None
    fund_wallet(big, threshold)  # at the threshold: no code needed
    fund_wallet(big, 5)
    app = big.app()
    with pytest.raises(SecondFactorRequiredError):
        app.redeem(big.wallet, threshold + 1)
    secret = app.enrol_totp(big.wallet).secret
    first = app.redeem(big.wallet, threshold + 1, totp=totp_code(secret), idempotency_key="redeem-big")
    again = app.redeem(big.wallet, threshold + 1, totp=totp_code(secret), idempotency_key="redeem-big")
    assert again.id == first.id and again.ref == first.ref  # the first answer, replayed: no second burn
    with pytest.raises(IdempotencyKeyReusedError):
        app.redeem(big.wallet, threshold + 2, idempotency_key="redeem-big")
    completed(app, first)
    a.wait_idle()
    assert app.get_balance(big.wallet).spendable.amount == 4
    assert app.get_account(big.account).balance.amount == threshold * 2 - (threshold + 5) + threshold + 1
