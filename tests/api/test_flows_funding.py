"""Deposit accounts and top-ups through HTTP with the SDK client, on the two-bank network."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from flow_network import BankNetwork
from money_flows_support import (
    completed,
    freeze_by_regulator,
    fresh,
    holds_on,
    open_customer,
    operations_of,
    outbox_rows_naming,
    totp_code,
)

from api.app import create_app
from node.api_keys import Scope, create_key
from node.db import create_engine, session_factory, transaction
from node.ledger import AccountKind, SqlLedger
from node.ledger.accounts import ensure_system_accounts
from node.settings import load_settings
from tools.devnet import Devnet
from wallet_sdk.chain.network import Network
from wallet_sdk.client import ApiRequest, Client
from wallet_sdk.client.funding import BankAccount
from wallet_sdk.exceptions import (
    AccountNotBoundError,
    ConflictError,
    ForbiddenError,
    IdempotencyKeyReusedError,
    InsufficientFundsError,
    NotFoundError,
    SecondFactorInvalidError,
    SecondFactorRequiredError,
    ValidationError,
    WalletFrozenError,
    WalletNotCustodiedHereError,
)
from wallet_sdk.keys import WalletKey

# ------------------------------------------------------------------ deposit accounts


def test_admin_opens_an_account_that_tellers_and_apps_read(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    admin = bank.client("admin")
    code = fresh("DEP")
    opened = admin.open_account(code, "CUST-ACC-1", opening_balance=12_345, name="Alice current")
    assert opened == BankAccount(code=code, balance=opened.balance, available=opened.available,
                                 customer_ref="CUST-ACC-1", name="Alice current")
    assert (opened.balance.amount, opened.available.amount, opened.balance.currency) == (12_345, 12_345, "DCASH")
    for reader in (bank.client("teller"), bank.app("CUST-ACC-1")):  # the app: with its customer's session
        assert reader.get_account(code) == opened
    with pytest.raises(ConflictError) as again:  # another request (another key) for the same account number
        admin.open_account(code, "CUST-ACC-1", opening_balance=1)
    assert again.value.status == 409
    assert bank.client("teller").get_account(code).balance.amount == 12_345


def test_account_errors(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    admin = bank.client("admin")
    with pytest.raises(ForbiddenError):
        bank.client("app").open_account(fresh("DEP"), "C-1")
    with pytest.raises(ForbiddenError):
        bank.client("atm").get_account(fresh("DEP"))
    with pytest.raises(NotFoundError):
        admin.get_account(fresh("DEP"))
    with pytest.raises(NotFoundError):  # the bank's own accounts are not customer accounts
        admin.get_account("chain:issued")
    with pytest.raises(ValidationError) as reserved:
        admin.open_account("cash:vault", "C-1")
    assert reserved.value.errors[0]["loc"] == ["body", "code"]
    bad = {"code": fresh("DEP"), "customer_ref": "C-1", "opening_balance": -5}
    with pytest.raises(ValidationError) as negative:  # past the client's own check: the server refuses too
        admin.send(ApiRequest("POST", "/v1/accounts", json=bad, idempotent=True))
    assert negative.value.errors[0]["loc"] == ["body", "opening_balance"]
    with pytest.raises(ValidationError) as currency:
        admin.send(ApiRequest("POST", "/v1/accounts", idempotent=True,
                              json={"code": fresh("DEP"), "customer_ref": "C-1", "currency": "EUR"}))
    assert currency.value.errors[0]["loc"] == ["body", "currency"]


@contextmanager
def core_banking_node(db_url: str, devnet: Devnet, network: Network, scope: Scope,
                      accounts: dict[str, str | None]) -> Iterator[Client]:
    """A client (key of ``scope``) of a bank API whose ledger is a core-banking adapter loaded by name, as a
    bank configures its own (``money_flows_support:CoreBankingStub``), with deposit accounts ``accounts``
    (code -> owner's customer ref, None: the core system names no owner) holding 42.00 each."""
    settings = load_settings(bank_id="BANKA", rpc_url=devnet.rpc_url, db_url=db_url,
                             ledger_adapter="money_flows_support:CoreBankingStub")
    engine = create_engine(db_url)
    try:
        with transaction(session_factory(engine)) as session:
            secret = create_key(session, name="t", scopes=[scope]).secret
            core = SqlLedger(session)  # the core-banking system's own books (in this stub, the node's tables)
            ensure_system_accounts(core, settings.currency)
            for code, owner in accounts.items():
                core.open_account(code, AccountKind.CUSTOMER_DEPOSIT, settings.currency, owner_ref=owner)
                core.credit(code, 4_200, contra="cash:vault", reference=f"core:open:{code}")
        app = create_app(settings, engine=engine, network_factory=lambda: network)
        with TestClient(app, raise_server_exceptions=False) as http, \
                Client(str(http.base_url), secret, http=http) as client:
            yield client
    finally:
        engine.dispose()


def test_a_node_on_a_core_banking_system_does_not_open_accounts(api_db_url: str, devnet: Devnet,
                                                                 network: Network) -> None:
    with core_banking_node(api_db_url, devnet, network, Scope.ADMIN, {"CORE-1": "C-9"}) as admin:
        with pytest.raises(ConflictError) as refused:
            admin.open_account("DEP-NEW", "C-9", opening_balance=100)
        assert "core-banking" in (refused.value.detail or "")
        account = admin.get_account("CORE-1")  # read through the adapter, owner included
        assert (account.balance.amount, account.available.amount, account.customer_ref) == (4_200, 4_200, "C-9")


def test_a_core_banking_adapter_binds_only_the_customers_own_account(api_db_url: str, devnet: Devnet,
                                                                     network: Network) -> None:
    """Issue 18 finding 6: with an adapter other than the built-in ledger the node skipped the owner check, so
    a key could bind another customer's deposit account (and later redeem into it or top up from it)."""
    accounts = {"CORE-ALICE": "ALICE", "CORE-NOBODY": None}
    with core_banking_node(api_db_url, devnet, network, Scope.AUTH, accounts) as login:
        def app(customer: str) -> Client:  # the customer's app, in a session the bank's login backend minted
            return login.as_customer(login.mint_customer_session(customer))

        for customer, account, says in (("MALLORY", "CORE-ALICE", "belongs to another customer"),
                                         ("BOB", "CORE-NOBODY", "names no owner")):
            with pytest.raises(ValidationError, match=says) as refused:
                app(customer).open_wallet(customer, "bank_account", account=account)
            assert [e["loc"][-1] for e in refused.value.errors] == ["account"]
        opening = app("ALICE").open_wallet("ALICE", "bank_account", account="CORE-ALICE")
        assert (opening.created, opening.wallet.customer_ref, opening.wallet.account) == (True, "ALICE", "CORE-ALICE")


# ------------------------------------------------------------------ top-up


def test_top_up_moves_money_from_the_account_into_the_wallet(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    admin = bank.client("admin")
    customer = open_customer(bank, deposit=100_000, account_via_api=admin)
    app = customer.app()
    op = app.top_up(customer.wallet, 30_000)
    assert (op.kind, op.status, op.channel, op.wallet, op.account) == ("topup", "pending", "app", customer.wallet,
                                                                       customer.account)
    assert op.amount is not None and op.amount.amount == 30_000 and op.ref is not None and op.ref.startswith("TOPUP-")
    done = completed(app, op)
    assert done.tx_hash and done.completed_at
    assert customer.account is not None
    account = app.get_account(customer.account)
    assert (account.balance.amount, account.available.amount) == (70_000, 70_000)
    assert app.get_balance(customer.wallet).spendable.amount == 30_000
    bank.wait_idle()
    (mint,) = app.get_history(customer.wallet).items
    assert (mint.kind, mint.amount.amount, mint.ref, mint.bank, mint.tx_hash) == ("mint", 30_000, op.ref, "BANKA",
                                                                                  done.tx_hash)


def test_top_up_without_the_money_in_the_account_writes_nothing(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    customer = open_customer(bank, deposit=1_000)
    assert customer.account is not None
    before = operations_of(bank, customer.wallet)
    with pytest.raises(InsufficientFundsError) as refused:
        customer.app().top_up(customer.wallet, 5_000)
    assert refused.value.status == 422
    assert (refused.value.problem["available"], refused.value.problem["requested"]) == (1_000, 5_000)
    assert operations_of(bank, customer.wallet) == before
    assert outbox_rows_naming(bank, customer.wallet) == 1  # its opening only: no mint
    assert holds_on(bank, customer.account) == 0
    assert bank.client("teller").get_account(customer.account).available.amount == 1_000


def test_a_mint_the_chain_refuses_releases_the_hold(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    customer = open_customer(bank, tier=4, deposit=200_000)  # tier 4: balance cap 100_000
    assert customer.account is not None
    teller = bank.client("teller")
    completed(teller, teller.top_up(customer.wallet, 60_000))
    failed = teller.wait_for_operation(teller.top_up(customer.wallet, 50_000).id)
    assert failed.status == "failed"
    assert failed.details["reason"] == "BalanceCapExceeded" and "BalanceCapExceeded" in (failed.error or "")
    account = teller.get_account(customer.account)
    assert (account.balance.amount, account.available.amount) == (140_000, 140_000)
    assert teller.get_balance(customer.wallet).spendable.amount == 60_000


def test_top_up_refusals(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    unbound = open_customer(a, deposit=None)
    app, teller = unbound.app(), a.client("teller")
    with pytest.raises(AccountNotBoundError):
        app.top_up(unbound.wallet, 100)
    at_b = open_customer(b, deposit=10_000)
    with pytest.raises(WalletNotCustodiedHereError) as elsewhere:
        teller.top_up(at_b.wallet, 100)
    assert elsewhere.value.problem["bank"] == "BANKB"
    for client in (app, teller):  # a customer session knows only its customer's wallets here
        with pytest.raises(NotFoundError):
            client.top_up(str(WalletKey.create().address), 100)
    with pytest.raises(NotFoundError):
        app.top_up(at_b.wallet, 100)
    for other in (a.client("atm"), a.client("merchant", merchant_id="SHOP-1"), a.client("regulator"),
                  a.client("admin")):
        with pytest.raises(ForbiddenError):
            other.top_up(unbound.wallet, 100)
    with pytest.raises(ValidationError) as zero:
        app.send(ApiRequest("POST", f"/v1/wallets/{unbound.wallet}/topups", json={"amount": 0}, idempotent=True))
    assert zero.value.errors[0]["loc"] == ["body", "amount"]
    with pytest.raises(ValidationError):  # money-moving POSTs need an Idempotency-Key
        app.send(ApiRequest("POST", f"/v1/wallets/{unbound.wallet}/topups", json={"amount": 5}))


def test_top_up_into_a_frozen_wallet_is_refused(bank_network: BankNetwork) -> None:
    customer = open_customer(bank_network.a, deposit=10_000)
    freeze_by_regulator(bank_network, customer.wallet, reason=9)
    with pytest.raises(WalletFrozenError) as frozen:
        bank_network.a.client("teller").top_up(customer.wallet, 1_000)
    assert frozen.value.status == 409
    assert (frozen.value.problem["reason"], frozen.value.problem["by_regulator"]) == (9, True)


def test_a_retried_top_up_mints_once(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    customer = open_customer(bank, deposit=50_000)
    app = customer.app()
    first = app.top_up(customer.wallet, 7_000, idempotency_key="topup-retry-1")
    second = app.top_up(customer.wallet, 7_000, idempotency_key="topup-retry-1")
    assert second.id == first.id and second.ref == first.ref
    with pytest.raises(IdempotencyKeyReusedError):
        app.top_up(customer.wallet, 7_001, idempotency_key="topup-retry-1")
    completed(app, first)
    bank.wait_idle()
    assert app.get_balance(customer.wallet).spendable.amount == 7_000
    assert [e.kind for e in app.get_history(customer.wallet).items] == ["mint"]
    assert outbox_rows_naming(bank, customer.wallet) == 2  # the opening and one mint


def test_a_large_top_up_needs_the_customers_second_factor(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    threshold = bank.settings.second_factor_threshold
    customer = open_customer(bank, deposit=threshold * 3)
    app = customer.app()
    with pytest.raises(SecondFactorRequiredError) as not_enrolled:
        app.top_up(customer.wallet, threshold + 1)
    assert not_enrolled.value.problem["enrolled"] is False
    secret = app.enrol_totp(customer.wallet).secret
    with pytest.raises(SecondFactorRequiredError) as missing:
        app.top_up(customer.wallet, threshold + 1)
    assert missing.value.status == 403 and missing.value.problem["threshold"] == threshold
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    with pytest.raises(SecondFactorInvalidError):
        app.top_up(customer.wallet, threshold + 1, totp=wrong)
    code = totp_code(secret)
    completed(app, app.top_up(customer.wallet, threshold + 1, totp=code))
    with pytest.raises(SecondFactorInvalidError):  # a code works once
        app.top_up(customer.wallet, threshold + 1, totp=code)
    assert app.top_up(customer.wallet, threshold).status == "pending"  # at the threshold: no code needed
    assert customer.account is not None
    bank.wait_idle()
    assert app.get_account(customer.account).balance.amount == threshold * 3 - (threshold + 1) - threshold
