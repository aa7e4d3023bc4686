"""Wallet history (indexer, cursor-paginated) and balance with limits (chain) through HTTP with the SDK client."""

from __future__ import annotations

import pytest
from flow_network import BankNetwork
from money_flows_support import completed, fund_wallet, open_customer

from wallet_sdk.client import ApiRequest
from wallet_sdk.client.models import Money
from wallet_sdk.client.transfers import TierLimits
from wallet_sdk.exceptions import ForbiddenError, NotFoundError, ValidationError, WalletNotCustodiedHereError
from wallet_sdk.keys import WalletKey


def test_history_pages_through_every_event_once(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    customer = open_customer(a, deposit=10_000)
    payee = open_customer(b, deposit=None)
    teller = a.client("teller")
    refs = [completed(teller, teller.top_up(customer.wallet, amount)).ref for amount in (1_000, 2_000, 3_000)]
    completed(teller, teller.transfer(customer.wallet, payee.wallet, 500))
    redemption = completed(teller, teller.redeem(customer.wallet, 700))
    a.wait_idle()
    everything = teller.get_history(customer.wallet, limit=200)
    assert everything.next_cursor is None
    assert [(e.kind, e.amount.amount, e.ref) for e in everything.items] == [
        ("mint", 1_000, refs[0]), ("mint", 2_000, refs[1]), ("mint", 3_000, refs[2]),
        ("transfer_out", 500, None), ("burn", 700, redemption.ref)]
    assert sum(e.spendable_delta for e in everything.items) == teller.get_balance(customer.wallet).spendable.amount
    assert [e.id for e in everything.items] == sorted(e.id for e in everything.items)

    pages, cursor = [], None
    while True:
        page = teller.get_history(customer.wallet, limit=2, cursor=cursor)
        assert len(page.items) <= 2
        pages.append(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [e for p in pages for e in p] == everything.items
    with pytest.raises(ValidationError) as bad_cursor:
        teller.get_history(customer.wallet, cursor="not-a-cursor")
    assert bad_cursor.value.errors[0]["loc"] == ["query", "cursor"]
    with pytest.raises(ValidationError):
        teller.get_history(customer.wallet, limit=0)


def test_balance_shows_the_tiers_limits_and_what_is_left_today(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    customer = open_customer(a, tier=4, deposit=80_000)
    payee = open_customer(b, deposit=None)
    fund_wallet(customer, 80_000)
    app = customer.app()
    completed(app, app.transfer(customer.wallet, payee.wallet, 30_000))
    balance = app.get_balance(customer.wallet)
    currency = balance.spendable.currency
    assert (balance.wallet, balance.bank, balance.tier, balance.status) == (customer.wallet, "BANKA", 4, "active")
    assert (balance.spendable.amount, balance.held.amount, balance.spent_today.amount) == (50_000, 0, 30_000)
    assert balance.limits == TierLimits(balance_cap=Money(100_000, currency), single_payment=Money(50_000, currency),
                                        daily_outflow=Money(100_000, currency))
    assert balance.remaining_today == Money(70_000, currency)
    assert balance.block_number > 0
    other = open_customer(a, deposit=None)
    fresh_tier_1 = other.app().get_balance(other.wallet)
    assert fresh_tier_1.limits.single_payment == Money(5_000_000, currency)
    assert fresh_tier_1.remaining_today == Money(10_000_000, currency)
    assert (fresh_tier_1.spendable.amount, fresh_tier_1.spent_today.amount) == (0, 0)


def test_each_bank_shows_its_own_customers_and_the_regulator_every_wallet(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    at_b = open_customer(b, deposit=5_000)
    fund_wallet(at_b, 5_000)
    bank_network.wait_idle()
    for reader in (a.client("teller"), a.client("admin")):
        with pytest.raises(WalletNotCustodiedHereError):
            reader.get_history(at_b.wallet)
        with pytest.raises(WalletNotCustodiedHereError):
            reader.get_balance(at_b.wallet)
    app = a.app(at_b.ref)  # a session at bank A (even for the same customer reference) sees bank A's wallets only
    with pytest.raises(NotFoundError):
        app.get_history(at_b.wallet)
    with pytest.raises(NotFoundError):
        app.get_balance(at_b.wallet)
    regulator = a.client("regulator")
    assert [e.kind for e in regulator.get_history(at_b.wallet).items] == ["mint"]
    assert regulator.get_balance(at_b.wallet).spendable.amount == 5_000
    for other in (a.client("atm"), a.client("merchant", merchant_id="SHOP-3")):
        with pytest.raises(ForbiddenError):
            other.get_history(at_b.wallet)
        with pytest.raises(ForbiddenError):
            other.get_balance(at_b.wallet)
    nobody = str(WalletKey.create().address)
    with pytest.raises(NotFoundError):
        regulator.get_history(nobody)
    with pytest.raises(NotFoundError):
        regulator.get_balance(nobody)
    with pytest.raises(ValidationError):
        regulator.send(ApiRequest("GET", "/v1/wallets/0x1234/balance"))
