"""Security, issue 18 finding 9: an ``app`` key was bound to no customer, so one app key moved any custodial wallet
of the bank. Now the bank's login backend mints a short-lived customer session for one customer, and the app acts
with its token on that customer's wallets, accounts and operations only; an app key alone acts for no customer.
Tokens expire, can be revoked (at once), are stored hashed and never logged. A teller's money move names the
branch and the operator, and the operation shows them with the teller's key. All through HTTP on the two-bank
network; every refused attempt leaves the victim's wallet, account and records as they were."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from flow_network import BankNetwork, BankNode
from merchant_support import onboard_shop
from money_flows_support import (
    Customer,
    completed,
    fresh,
    holds_on,
    open_customer,
    operations_of,
    outbox_rows_naming,
    refused,
)
from sqlalchemy import Engine, select, update

from api.app import create_app
from node.api_keys import ApiKey, CustomerSession, Scope, hash_secret, revoke_key
from node.db import session_factory, transaction
from node.db.base import utcnow
from node.ledger import AccountKind, SqlLedger
from node.ledger.accounts import ensure_system_accounts
from node.operations.models import Operation as OperationRow
from node.settings import load_settings
from wallet_sdk.client import ApiRequest, Client, Teller
from wallet_sdk.exceptions import (
    CustomerSessionRequiredError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    ValidationError,
)

DEAD_RPC = "http://127.0.0.1:9"


def state_of(customer: Customer) -> dict[str, Any]:
    """What an attempt on ``customer``'s wallet must not change: its balance on chain, its bank's operations and
    outbox rows naming it, the holds and balance of its deposit account."""
    bank = customer.bank
    assert customer.account is not None
    return {"balance": bank.network.balance(customer.wallet), "operations": operations_of(bank, customer.wallet),
            "outbox": outbox_rows_naming(bank, customer.wallet), "holds": holds_on(bank, customer.account),
            "account": bank.client("admin").get_account(customer.account).balance.amount}


def key_id(bank: BankNode, secret: str) -> int:
    with transaction(session_factory(bank.engine, read_only=True)) as session:
        return int(session.scalars(select(ApiKey.id).where(ApiKey.secret_hash == hash_secret(secret))).one())


@pytest.fixture(scope="module")
def victim(bank_network: BankNetwork) -> tuple[Customer, str]:
    """Customer Y of bank A: a custodial wallet with money, money left in the bound account, and the id of an
    operation on the wallet (a top-up)."""
    customer = open_customer(bank_network.a, deposit=30_000)
    teller = bank_network.a.client("teller")
    top_up = completed(teller, teller.top_up(customer.wallet, 20_000))
    return customer, top_up.id


# ------------------------------------------------------------------ one customer's session, another's wallet


def test_an_app_key_alone_moves_no_customers_wallet(bank_network: BankNetwork, victim: tuple[Customer, str]) -> None:
    a, payee = bank_network.a, open_customer(bank_network.b, deposit=None)
    y, y_op = victim
    app_key = a.client("app")  # what every app used to hold: it moved any custodial wallet of the bank
    before = state_of(y)
    for attempt in (lambda: app_key.transfer(y.wallet, payee.wallet, 1_000),
                    lambda: app_key.redeem(y.wallet, 1_000),
                    lambda: app_key.top_up(y.wallet, 1_000),
                    lambda: app_key.close_wallet(y.wallet),
                    lambda: app_key.get_balance(y.wallet),
                    lambda: app_key.get_operation(y_op)):
        assert refused("customer-session-required", CustomerSessionRequiredError, attempt).status == 403
    bank_network.wait_idle()
    assert state_of(y) == before


def test_a_customer_session_cannot_act_on_another_customers_wallet(bank_network: BankNetwork,
                                                                   victim: tuple[Customer, str]) -> None:
    a, b = bank_network.a, bank_network.b
    y, y_op = victim
    x = open_customer(a, deposit=5_000)
    payee = open_customer(b, deposit=None)
    shop = onboard_shop(b)
    request = shop.client.create_payment_request(shop.merchant_id, fresh("ORDER"), 1_000)
    app = x.app()  # customer X's app, with X's session
    assert y.account is not None
    before = state_of(y)
    moves: dict[str, Callable[[], object]] = {
        "transfer": lambda: app.transfer(y.wallet, payee.wallet, 1_000),
        "redeem": lambda: app.redeem(y.wallet, 1_000),
        "top-up": lambda: app.top_up(y.wallet, 1_000),
        "merchant payment": lambda: app.pay_merchant(y.wallet, request.payload),
        "close": lambda: app.close_wallet(y.wallet),
        "bind account": lambda: app.bind_account(y.wallet, str(x.account)),
        "TOTP enrolment": lambda: app.enrol_totp(y.wallet),
        "wallet": lambda: app.get_wallet(y.wallet),
        "record": lambda: app.get_wallet_record(y.wallet),
        "balance": lambda: app.get_balance(y.wallet),
        "history": lambda: app.get_history(y.wallet),
        "account": lambda: app.get_account(str(y.account)),
        "operation": lambda: app.get_operation(y_op),
    }
    for what, attempt in moves.items():  # as if Y's wallet, account and operation did not exist
        assert refused("not-found", NotFoundError, attempt).status == 404, what
    with pytest.raises(ForbiddenError) as for_y:  # nor does X's session open a wallet in Y's name
        app.open_wallet(y.ref, "phone", phone="+15550188")
    assert for_y.value.status == 403
    bank_network.wait_idle()
    assert state_of(y) == before
    assert shop.client.get_order(shop.merchant_id, request.order_id).status == "requested"


def test_a_customer_session_works_for_its_own_customer(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    x = open_customer(a, deposit=10_000)
    payee = open_customer(b, deposit=None)
    minted = a.mint_session(x.ref)
    assert minted.token is not None and minted.token.startswith("wnc_") and minted.token not in repr(minted)
    app = Client(a.url, minted.token, timeout=30.0)
    try:
        current = app.get_customer_session()
        assert (current.id, current.customer_ref, current.token) == (minted.id, x.ref, None)
        top_up = completed(app, app.top_up(x.wallet, 6_000))
        paid = completed(app, app.transfer(x.wallet, payee.wallet, 2_500))
        assert (paid.channel, paid.customer_session, paid.branch, paid.operator) == ("app", minted.id, None, None)
        assert top_up.customer_session == minted.id and top_up.api_key_id == paid.api_key_id is not None
        assert app.get_operation(paid.id).customer_session == minted.id
        assert app.get_balance(x.wallet).spendable.amount == 3_500
        assert app.get_account(str(x.account)).balance.amount == 4_000
        opened = app.open_wallet(x.ref, "phone", phone="+15550177")  # its own customer: a wallet in the app
        assert opened.wallet.customer_ref == x.ref and opened.operation.customer_session == minted.id
        completed(app, opened.operation)
    finally:
        app.close()


# ------------------------------------------------------------------ expiry and revocation


def _expire(bank: BankNode, session_id: int) -> None:
    with transaction(session_factory(bank.engine)) as session:
        session.execute(update(CustomerSession).where(CustomerSession.id == session_id)
                        .values(expires_at=utcnow() - timedelta(seconds=1)))


def test_expired_and_revoked_sessions_are_refused_at_once(bank_network: BankNetwork) -> None:
    a = bank_network.a
    x = open_customer(a, deposit=9_000)
    backend = a.client("auth")

    def session_client(**kwargs: Any) -> tuple[int, Client]:
        minted = backend.mint_customer_session(x.ref, **kwargs)
        assert minted.token is not None
        client = Client(a.url, minted.token, timeout=30.0)
        a._clients.append(client)
        assert client.get_balance(x.wallet).spendable.amount == 0  # it works until ...
        return minted.id, client

    before = state_of(x)
    expired_id, expired = session_client(ttl_seconds=60)
    _expire(a, expired_id)  # ... its time is up
    revoked_id, revoked = session_client()
    assert backend.revoke_customer_session(revoked_id).revoked_at is not None  # ... the backend revokes it
    _, logged_out = session_client()
    logged_out.end_customer_session()  # ... the app logs out
    _, first = session_client()
    _, second = session_client()
    assert backend.revoke_customer_sessions(x.ref).revoked == 2  # ... every session of the customer ends
    minter = a.key("auth", name="a login backend that leaks")
    minted = Client(a.url, minter, timeout=30.0).mint_customer_session(x.ref)
    assert minted.token is not None
    orphan = Client(a.url, minted.token, timeout=30.0)
    a._clients.append(orphan)
    with transaction(session_factory(a.engine)) as session:  # ... or the key that minted it is revoked
        revoke_key(session, key_id(a, minter))
    for client in (expired, revoked, logged_out, first, second, orphan):
        assert refused("unauthorized", UnauthorizedError, lambda c=client: c.top_up(x.wallet, 1_000)).status == 401
        refused("unauthorized", UnauthorizedError, lambda c=client: c.get_balance(x.wallet))
    bank_network.wait_idle()
    assert state_of(x) == before


def test_who_may_mint_a_session_and_for_how_long(bank_network: BankNetwork) -> None:
    a = bank_network.a
    ref = fresh("CUST")
    assert a.client("admin").mint_customer_session(ref).customer_ref == ref  # the back office may, too
    for other in (a.client("app"), a.client("teller"), a.app(ref)):
        with pytest.raises(ForbiddenError):
            other.mint_customer_session(ref)
    backend = a.client("auth")
    longest = a.settings.customer_session_ttl
    with pytest.raises(ValidationError) as too_long:
        backend.mint_customer_session(ref, ttl_seconds=longest + 1)
    assert too_long.value.errors[0]["loc"] == ["body", "ttl_seconds"]
    with pytest.raises(ValidationError):  # never more than a few hours, whatever the node says
        backend.send(ApiRequest("POST", "/v1/customer-sessions", json={"customer_ref": ref, "ttl_seconds": 86_400}))
    short = backend.mint_customer_session(ref, ttl_seconds=120)
    assert short.expires_at > short.created_at
    with pytest.raises(ValidationError):  # nothing but the customer and the lifetime
        backend.send(ApiRequest("POST", "/v1/customer-sessions", json={"customer_ref": ref, "scopes": ["admin"]}))
    with pytest.raises(ForbiddenError):  # the login backend's key acts for no customer itself
        backend.get_balance(str(bank_network.spare[0].address))


def test_tokens_are_stored_hashed_and_never_logged(bank_network: BankNetwork, caplog: pytest.LogCaptureFixture) -> None:
    a = bank_network.a
    x = open_customer(a, deposit=1_000)
    caplog.set_level(logging.DEBUG)
    minted = a.mint_session(x.ref)
    assert minted.token is not None
    app = Client(a.url, minted.token, timeout=30.0)
    a._clients.append(app)
    completed(app, app.top_up(x.wallet, 1_000))
    with pytest.raises(NotFoundError):
        app.get_balance(str(bank_network.spare[0].address))
    app.end_customer_session()
    with pytest.raises(UnauthorizedError) as after:
        app.get_balance(x.wallet)
    assert minted.token not in str(after.value.problem)
    assert caplog.records and minted.token not in caplog.text
    with transaction(session_factory(a.engine, read_only=True)) as session:
        row = session.get(CustomerSession, minted.id)
        assert row is not None and row.token_hash == hashlib.sha256(minted.token.encode()).hexdigest()
        assert minted.token not in repr(row) and row.token_hash not in repr(row)


# ------------------------------------------------------------------ the teller's branch and operator


def test_a_tellers_money_move_shows_its_key_branch_and_operator(bank_network: BankNetwork) -> None:
    a = bank_network.a
    x = open_customer(a, deposit=8_000)
    secret = a.key("teller", name="branch 12 desk")
    desk = Client(a.url, secret, timeout=30.0, teller=Teller(branch="BR-12", operator="T-1001"))
    bare = Client(a.url, secret, timeout=30.0)  # the same key, no desk named
    a._clients.extend((desk, bare))
    before = state_of(x)
    with pytest.raises(ValidationError) as unnamed:
        bare.top_up(x.wallet, 3_000)
    assert sorted(e["loc"][-1] for e in unnamed.value.errors) == ["X-Teller-Branch", "X-Teller-Operator"]
    assert state_of(x) == before
    op = completed(desk, desk.top_up(x.wallet, 3_000))
    seen = a.client("admin").get_operation(op.id)  # GET /v1/operations/{id}, as the back office reads it
    assert (seen.channel, seen.api_key_id, seen.branch, seen.operator, seen.customer_session) == (
        "teller", key_id(a, secret), "BR-12", "T-1001", None)
    with transaction(session_factory(a.engine, read_only=True)) as session:
        row = session.scalars(select(OperationRow).where(OperationRow.public_id == op.id)).one()
        assert (row.api_key_id, row.branch, row.operator) == (key_id(a, secret), "BR-12", "T-1001")
    frozen = completed(bare, bare.freeze_wallet(x.wallet, 3))  # not a money move: the desk is optional
    assert (frozen.branch, frozen.operator, frozen.api_key_id) == (None, None, key_id(a, secret))
    with pytest.raises(ValueError):
        Teller(branch="BR 12; drop", operator="T-1")


# ------------------------------------------------------------------ the transition setting


def test_the_transition_setting_lets_app_keys_act_only_where_it_is_on(api_db_url: str, api_engine: Engine,
                                                                      make_key: Callable[..., str]) -> None:
    with transaction(session_factory(api_engine)) as session:
        ledger = SqlLedger(session)
        ensure_system_accounts(ledger, "DCASH")
        ledger.open_account("DEP-T-1", AccountKind.CUSTOMER_DEPOSIT, "DCASH", owner_ref="C-T-1")
    app_key = {"Authorization": f"Bearer {make_key(Scope.APP)}"}
    answers = []
    for transition in (False, True):
        settings = load_settings(bank_id="BANKA", rpc_url=DEAD_RPC, db_url=api_db_url,
                                 app_keys_act_for_any_customer=transition)
        with TestClient(create_app(settings, engine=api_engine), raise_server_exceptions=False) as http:
            answers.append(http.get("/v1/accounts/DEP-T-1", headers=app_key).status_code)
    assert answers == [403, 200]
    with pytest.raises(ValueError, match="app_keys_act_for_any_customer"):
        load_settings(environment="production", app_keys_act_for_any_customer=True)
