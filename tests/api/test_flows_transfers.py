"""P2P transfers across the two banks through HTTP with the SDK client: the payer's bank relays, both banks'
histories show the transfer once."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from flow_network import BankNetwork
from money_flows_support import (
    Customer,
    chain_now,
    completed,
    domain,
    freeze_by_regulator,
    fund_wallet,
    open_customer,
    operations_of,
    totp_code,
)

from node.writer import WriterStep
from wallet_sdk.authorizations import Domain, RelayedTransfer, SignedAuthorization, relay_nonce
from wallet_sdk.client import ApiRequest
from wallet_sdk.client.transfers import transfer_fields
from wallet_sdk.exceptions import (
    AuthorizationInvalidError,
    ForbiddenError,
    IdempotencyKeyReusedError,
    InsufficientBalanceError,
    LimitExceededError,
    NotFoundError,
    SecondFactorInvalidError,
    SecondFactorRequiredError,
    ValidationError,
    WalletFrozenError,
    WalletNotCustodiedHereError,
)
from wallet_sdk.keys import WalletKey
from wallet_sdk.payload import encode_payload


def signed_transfer(payer: Customer, payee: str, value: int, *, valid_for: int = 600, bit: int = 0,
                    word: int | None = None) -> SignedAuthorization[RelayedTransfer]:
    """The payer's app signs a RelayedTransfer with a bitmap nonce (a random word per test, bits in turn)."""
    nonce = relay_nonce(secrets.randbits(64) if word is None else word, bit)
    auth = RelayedTransfer(from_=payer.wallet, to=payee, value=value, valid_before=chain_now(payer.bank) + valid_for,
                           nonce=nonce)
    signed: SignedAuthorization[RelayedTransfer] = payer.sign(auth)
    return signed


def test_a_transfer_to_another_banks_customer_shows_once_in_each_history(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, self_custody=True, deposit=20_000)
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, 20_000)
    app_a = payer.app()
    op = app_a.transfer(payer.wallet, payee.wallet, 7_500, authorization=signed_transfer(payer, payee.wallet, 7_500))
    assert (op.kind, op.status, op.wallet, op.counterparty) == ("p2p", "pending", payer.wallet, payee.wallet)
    assert op.amount is not None and op.amount.amount == 7_500 and op.details["signed_by"] == "customer"
    done = completed(app_a, op)
    bank_network.wait_idle()
    outgoing = [e for e in app_a.get_history(payer.wallet).items if e.kind.startswith("transfer")]
    assert [(e.kind, e.amount.amount, e.counterparty, e.spendable_delta, e.tx_hash) for e in outgoing] == [
        ("transfer_out", 7_500, payee.wallet, -7_500, done.tx_hash)]
    app_b = payee.app()
    incoming = app_b.get_history(payee.wallet).items
    assert [(e.kind, e.amount.amount, e.counterparty, e.spendable_delta, e.tx_hash) for e in incoming] == [
        ("transfer_in", 7_500, payer.wallet, 7_500, done.tx_hash)]
    assert app_b.get_balance(payee.wallet).spendable.amount == 7_500
    assert app_a.get_balance(payer.wallet).spendable.amount == 12_500


def test_custodial_payer_and_qr_payload(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, deposit=30_000)  # custodial: the bank signs
    payee = open_customer(b, self_custody=True, deposit=None)
    fund_wallet(payer, 30_000)
    teller = a.client("teller")
    first = teller.transfer(payer.wallet, payee.wallet, 1_000)
    second = teller.transfer(payer.wallet, payee.wallet, 2_000)  # while the first may still be in flight
    assert first.details["signed_by"] == "bank" and first.details["nonce"] != second.details["nonce"]
    completed(teller, first)
    completed(teller, second)
    back = signed_transfer(payee, payer.wallet, 500)
    app_b = payee.app()
    completed(app_b, app_b.transfer(payee.wallet, payer.wallet, 500, authorization=encode_payload(back)))  # as QR
    bank_network.wait_idle()
    assert teller.get_balance(payer.wallet).spendable.amount == 30_000 - 3_000 + 500
    assert b.client("teller").get_balance(payee.wallet).spendable.amount == 2_500
    kinds = [e.kind for e in b.client("teller").get_history(payee.wallet).items]
    assert kinds == ["transfer_in", "transfer_in", "transfer_out"]


def test_the_payees_limit_fails_the_operation_with_the_reason(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, self_custody=True, deposit=50_000)
    payee = open_customer(b, tier=4, deposit=95_000)  # tier 4: balance cap 100_000
    fund_wallet(payer, 50_000)
    fund_wallet(payee, 95_000)
    app = payer.app()
    op = app.transfer(payer.wallet, payee.wallet, 6_000, authorization=signed_transfer(payer, payee.wallet, 6_000))
    failed = app.wait_for_operation(op.id)
    assert failed.status == "failed"
    assert failed.details["reason"] == "BalanceCapExceeded" and "BalanceCapExceeded" in (failed.error or "")
    bank_network.wait_idle()
    assert app.get_balance(payer.wallet).spendable.amount == 50_000
    assert [e.kind for e in app.get_history(payer.wallet).items] == ["mint"]
    # the refused transfer changed nothing: a smaller one fits under the cap and goes through
    ok = app.transfer(payer.wallet, payee.wallet, 5_000, authorization=signed_transfer(payer, payee.wallet, 5_000))
    completed(app, ok)


def test_a_transfer_another_bank_relayed_first_completes_with_that_relay(bank_network: BankNetwork,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18 finding 10(a): a customer's signed transfer reaches bank A's API, and before A's writer sends it
    bank B relays the same authorization on chain. A's relay item is refused (nonce used), but the money moved
    as the customer signed: the operation completes with B's transaction, not failed."""
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, self_custody=True, deposit=10_000)
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, 10_000)
    signed = signed_transfer(payer, payee.wallet, 4_000)
    bank_network.wait_idle()
    relayed: list[str] = []

    def bank_b_relays_it_first(point: WriterStep) -> None:  # A signed and stored its relay, not broadcast yet
        if point is WriterStep.SIGNED_COMMITTED and not relayed:
            result = b.network.bank_operator(b.operator).relay_transfers([signed])
            assert result.succeeded == 1
            relayed.append(result.tx_hash)

    monkeypatch.setattr(a.runner.writer, "_checkpoint", bank_b_relays_it_first)
    app = payer.app()
    op = app.transfer(payer.wallet, payee.wallet, 4_000, authorization=signed)
    done = completed(app, op)
    assert relayed and done.tx_hash == relayed[0]
    bank_network.wait_idle()
    assert app.get_balance(payer.wallet).spendable.amount == 6_000  # moved once
    assert payee.app().get_balance(payee.wallet).spendable.amount == 4_000
    outgoing = [(e.kind, e.amount.amount, e.tx_hash) for e in app.get_history(payer.wallet).items
                if e.kind.startswith("transfer")]
    assert outgoing == [("transfer_out", 4_000, relayed[0])]


def test_limits_and_balance_are_checked_before_relaying(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, tier=4, deposit=200_000)  # single 50_000, daily 100_000, cap 100_000
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, 100_000)
    teller = a.client("teller")
    with pytest.raises(LimitExceededError) as single:
        teller.transfer(payer.wallet, payee.wallet, 50_001)
    assert (single.value.problem["limit"], single.value.problem["limit_minor"]) == ("single_payment", 50_000)
    completed(teller, teller.transfer(payer.wallet, payee.wallet, 50_000))
    fund_wallet(payer, 50_000)  # 100_000 in the wallet again, 50_000 of today's limit left
    teller.transfer(payer.wallet, payee.wallet, 45_000)
    with pytest.raises(LimitExceededError) as daily:  # 5_000 of today's limit is left, in flight or not
        teller.transfer(payer.wallet, payee.wallet, 5_001)
    assert (daily.value.problem["limit"], daily.value.problem["remaining"]) == ("daily_outflow", 5_000)
    a.wait_idle()
    balance = teller.get_balance(payer.wallet)
    assert (balance.spendable.amount, balance.spent_today.amount) == (55_000, 95_000)
    assert balance.remaining_today is not None and balance.remaining_today.amount == 5_000


def test_forged_transfers_are_refused(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, self_custody=True, deposit=10_000)
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, 10_000)
    app = payer.app()
    word = secrets.randbits(64)
    good = signed_transfer(payer, payee.wallet, 1_000, word=word)
    tampered = transfer_fields(good)
    tampered["authorization"]["value"] = 2_000
    redirected = transfer_fields(good)
    redirected["authorization"]["to"] = payer.wallet
    expired = signed_transfer(payer, payee.wallet, 1_000, valid_for=-1, word=word, bit=1)
    stranger = WalletKey.create()
    not_theirs = transfer_fields(RelayedTransfer(from_=stranger.address, to=payee.wallet, value=1_000,
                                                 valid_before=chain_now(a) + 600).sign(stranger, domain(a)))
    not_theirs["authorization"]["from"] = payer.wallet
    other_chain = Domain.for_token(domain(a).name, domain(a).chain_id + 1, domain(a).verifying_contract)
    assert payer.key is not None
    elsewhere = RelayedTransfer(from_=payer.wallet, to=payee.wallet, value=1_000,
                                valid_before=chain_now(a) + 600).sign(payer.key, other_chain)
    before = operations_of(a, payer.wallet)
    for body, amount in ((tampered, 2_000), (redirected, 1_000), (transfer_fields(expired), 1_000),
                         (not_theirs, 1_000), (transfer_fields(elsewhere), 1_000),
                         (transfer_fields(good), 999)):
        with pytest.raises(AuthorizationInvalidError) as refused:
            app.send(ApiRequest("POST", "/v1/transfers", idempotent=True,
                                json={"payer": payer.wallet, "payee": payee.wallet, "amount": amount, **body}))
        assert refused.value.status == 422, body
    redirected_payee = {"payer": payer.wallet, "payee": payer.wallet, "amount": 1_000, **transfer_fields(good)}
    with pytest.raises(ValidationError):  # paying oneself
        app.send(ApiRequest("POST", "/v1/transfers", idempotent=True, json=redirected_payee))
    with pytest.raises(ValidationError) as unsigned:
        app.transfer(payer.wallet, payee.wallet, 1_000)
    assert unsigned.value.errors[0]["loc"] == ["body", "authorization"]
    with pytest.raises(ValidationError) as nobody:
        app.transfer(payer.wallet, str(WalletKey.create().address), 1_000,
                     authorization=signed_transfer(payer, payee.wallet, 1_000))
    assert nobody.value.errors[0]["loc"] == ["body", "payee"]
    assert operations_of(a, payer.wallet) == before
    completed(app, app.transfer(payer.wallet, payee.wallet, 1_000, authorization=good))
    with pytest.raises(AuthorizationInvalidError) as replayed:  # its nonce is used now
        app.transfer(payer.wallet, payee.wallet, 1_000, authorization=good)
    assert "nonce" in (replayed.value.detail or "")


def test_transfer_refusals(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, deposit=5_000)
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, 5_000)
    with pytest.raises(InsufficientBalanceError) as short:
        a.client("teller").transfer(payer.wallet, payee.wallet, 5_001)
    assert (short.value.problem["balance"], short.value.problem["requested"]) == (5_000, 5_001)
    with pytest.raises(WalletNotCustodiedHereError):  # the payer's own bank relays, not the payee's
        b.client("teller").transfer(payer.wallet, payee.wallet, 100)
    with pytest.raises(NotFoundError):  # a session at the payee's bank knows only that bank's wallets
        b.app(payer.ref).transfer(payer.wallet, payee.wallet, 100)
    for other in (a.client("atm"), a.client("admin"), a.client("regulator"),
                  a.client("merchant", merchant_id="SHOP-2")):
        with pytest.raises(ForbiddenError):
            other.transfer(payer.wallet, payee.wallet, 100)
    with pytest.raises(ValidationError) as both:
        payer.app().send(ApiRequest("POST", "/v1/transfers", idempotent=True, json={
            "payer": payer.wallet, "payee": payee.wallet, "amount": 100, "payload": "x",
            "authorization": {"from": payer.wallet, "to": payee.wallet, "value": 100, "valid_before": 1, "nonce": "1",
                              "v": 27, "r": "0x" + "11" * 32, "s": "0x" + "22" * 32}}))
    assert both.value.status == 422
    freeze_by_regulator(bank_network, payer.wallet)
    bank_network.wait_idle()  # the bank admits payments from its indexed view: the freeze counts once indexed
    with pytest.raises(WalletFrozenError):
        payer.app().transfer(payer.wallet, payee.wallet, 100)


def test_a_large_transfer_needs_the_second_factor_and_a_retry_relays_once(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    threshold = a.settings.second_factor_threshold
    payer = open_customer(a, deposit=threshold * 2)
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, threshold)
    fund_wallet(payer, threshold)
    app = payer.app()
    with pytest.raises(SecondFactorRequiredError):
        app.transfer(payer.wallet, payee.wallet, threshold + 1)
    secret = app.enrol_totp(payer.wallet).secret
    with pytest.raises(SecondFactorInvalidError):
        app.transfer(payer.wallet, payee.wallet, threshold + 1, totp="000000" if totp_code(secret) != "000000"
                     else "111111")
    code = totp_code(secret)
    first = app.transfer(payer.wallet, payee.wallet, threshold + 1, totp=code, idempotency_key="p2p-big")
    again = app.transfer(payer.wallet, payee.wallet, threshold + 1, totp=code, idempotency_key="p2p-big")
    assert again.id == first.id
    with pytest.raises(IdempotencyKeyReusedError):
        app.transfer(payer.wallet, payee.wallet, 5, idempotency_key="p2p-big")
    completed(app, first)
    bank_network.wait_idle()
    assert payee.app().get_balance(payee.wallet).spendable.amount == threshold + 1
    assert [e.kind for e in payee.app().get_history(payee.wallet).items] == ["transfer_in"]


def test_the_async_client_pays_and_reads(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    payer = open_customer(a, self_custody=True, deposit=3_000)
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, 3_000)
    signed = signed_transfer(payer, payee.wallet, 1_200)

    async def pay() -> tuple[str, int]:
        async with a.async_app(payer.ref) as app:
            op = await app.transfer(payer.wallet, payee.wallet, 1_200, authorization=signed)
            done = await app.wait_for_operation(op.id)
            balance = await app.get_balance(payer.wallet)
            return done.status, balance.spendable.amount

    assert asyncio.run(pay()) == ("completed", 1_800)
