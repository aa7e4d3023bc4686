"""A wallet's life after opening, through the HTTP API with the SDK client on the two-bank network: tier
changes, freeze and unfreeze with a reason, bank-account binding, and closure with the balance paid out to the
bound account; and every way each is refused."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from flow_network import BankNetwork, BankNode

from node.db import session_factory, transaction
from node.ledger import SqlLedger
from node.wallets.models import WalletRecord, find_wallet
from node.wallets.service import account_hash
from wallet_sdk.client import Client, Operation
from wallet_sdk.client.wallets import WalletRecord as WalletRecordDoc
from wallet_sdk.exceptions import (
    AccountNotBoundError,
    ForbiddenError,
    InvalidStateError,
    NotFoundError,
    SecondFactorInvalidError,
    SecondFactorRequiredError,
    ValidationError,
    WalletNotCustodiedHereError,
)
from wallet_sdk.keys import WalletKey


def fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def done(client: Client, op: Operation) -> Operation:
    final = client.wait_for_operation(op.id)
    assert final.status == "completed", final
    return final


def open_wallet(bank: BankNode, *, deposit: int | None = None) -> WalletRecordDoc:
    """An active custodial wallet opened at the counter; with ``deposit``, a deposit account holding it is opened
    for the customer and bound to the wallet (through the API)."""
    teller = bank.client("teller")
    customer = fresh("CUST")
    opening = teller.open_wallet(customer, "in_person")
    done(teller, opening.operation)
    if deposit is not None:
        account = bank.fund_account(fresh("DEP"), deposit, customer_ref=customer)
        done(teller, teller.bind_account(opening.wallet.address, account))
    return teller.get_wallet_record(opening.wallet.address)


def record_of(bank: BankNode, address: str) -> WalletRecord:
    with transaction(session_factory(bank.engine, read_only=True)) as session:
        record = find_wallet(session, address)
        assert record is not None
        session.expunge(record)
        return record


def deposit_balance(bank: BankNode, account: str) -> int:
    with transaction(session_factory(bank.engine, read_only=True)) as session:
        return SqlLedger(session).balance(account).amount_minor


# ------------------------------------------------------------------ tier


def test_a_teller_upgrades_and_downgrades_the_tier(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    customer = fresh("CUST")
    app = bank.app(customer)
    opening = app.open_wallet(customer, "phone", phone="+15550101")
    wallet = done(app, opening.operation).wallet
    assert wallet is not None
    teller = bank.client("teller")
    assert teller.get_wallet(wallet).tier == 4

    up = teller.change_tier(wallet, 2, reason="bank account verified at the counter")
    assert (up.kind, up.status, up.channel) == ("tier_change", "pending", "teller")
    assert up.details["previous_tier"] == 4 and up.details["tier"] == 2
    done(teller, up)
    assert teller.get_wallet(wallet).tier == 2 and teller.get_wallet_record(wallet).tier == 2

    admin = bank.client("admin")
    done(admin, admin.change_tier(wallet, 3))
    assert admin.get_wallet(wallet).tier == 3 and admin.get_wallet_record(wallet).tier == 3


def test_a_tier_change_is_refused_when_it_is_no_change_or_no_tier(bank_network: BankNetwork) -> None:
    wallet = open_wallet(bank_network.a).address
    teller = bank_network.a.client("teller")
    for tier in (1, 0, 5, 7):
        with pytest.raises(ValidationError) as refused:
            teller.change_tier(wallet, tier)
        assert [e["loc"][-1] for e in refused.value.errors] == ["tier"]


# ------------------------------------------------------------------ freeze


def test_freeze_with_a_reason_and_unfreeze(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    wallet = open_wallet(bank).address
    teller = bank.client("teller")
    frozen = done(teller, teller.freeze_wallet(wallet, 7, note="card reported stolen"))
    assert frozen.kind == "freeze" and frozen.details == {"reason": 7, "note": "card reported stolen"}
    assert teller.get_wallet(wallet).status == "frozen"
    assert bank.network.wallet(wallet).freeze_reason == 7
    assert (teller.get_wallet_record(wallet).state, teller.get_wallet_record(wallet).freeze_reason) == ("frozen", 7)
    with pytest.raises(InvalidStateError):
        teller.freeze_wallet(wallet, 8)

    admin = bank.client("admin")
    lifted = done(admin, admin.unfreeze_wallet(wallet, note="card found"))
    assert lifted.kind == "unfreeze" and lifted.details["reason"] == 7
    assert admin.get_wallet(wallet).status == "active"
    record = admin.get_wallet_record(wallet)
    assert (record.state, record.freeze_reason) == ("active", None)
    with pytest.raises(InvalidStateError):
        admin.unfreeze_wallet(wallet)


def test_a_freeze_reason_is_a_code_from_1_to_65535(bank_network: BankNetwork) -> None:
    wallet = open_wallet(bank_network.a).address
    teller = bank_network.a.client("teller")
    for reason in (0, 65536, -1):
        with pytest.raises(ValidationError):
            teller.freeze_wallet(wallet, reason)
    assert teller.get_wallet(wallet).status == "active"


def test_the_regulators_freeze_is_not_the_banks_to_lift(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    wallet = open_wallet(bank).address
    bank.network.regulator(bank_network.regulator).freeze(wallet, 99)
    teller = bank.client("teller")
    with pytest.raises(InvalidStateError, match="regulator"):
        teller.unfreeze_wallet(wallet)
    with pytest.raises(InvalidStateError, match="regulator"):
        teller.close_wallet(wallet)
    bank.network.regulator(bank_network.regulator).unfreeze(wallet)
    assert teller.get_wallet(wallet).status == "active"


# ------------------------------------------------------------------ bank account


def test_binding_an_account_keeps_only_a_salted_hash_on_chain(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    customer = fresh("CUST")
    app = bank.app(customer)
    opening = app.open_wallet(customer, "identity_document")
    done(app, opening.operation)
    wallet = opening.wallet.address
    assert bank.network.wallet(wallet).account_hash == bytes(32)

    first = bank.fund_account(fresh("DEP"), 0, customer_ref=customer)
    op = done(app, app.bind_account(wallet, first))
    assert (op.kind, op.account, op.channel) == ("account_binding", first, "app")
    record = record_of(bank, wallet)
    assert record.account_code == first and record.account_salt
    assert "0x" + bank.network.wallet(wallet).account_hash.hex() == account_hash(record.account_salt, first)

    # binding another account replaces it, with a new salt
    second = bank.fund_account(fresh("DEP"), 0, customer_ref=customer)
    done(app, bank.client("teller").bind_account(wallet, second))
    rebound = record_of(bank, wallet)
    assert rebound.account_code == second and rebound.account_salt != record.account_salt
    assert "0x" + bank.network.wallet(wallet).account_hash.hex() == account_hash(rebound.account_salt, second)
    assert app.get_wallet_record(wallet).account == second


def test_only_an_existing_deposit_account_of_this_bank_binds(bank_network: BankNetwork) -> None:
    wallet = open_wallet(bank_network.a).address
    elsewhere = bank_network.b.fund_account(fresh("DEP"), 0)
    teller = bank_network.a.client("teller")
    for account in ("NO-SUCH-ACCOUNT", elsewhere, "cash:vault"):
        with pytest.raises(ValidationError) as refused:
            teller.bind_account(wallet, account)
        assert [e["loc"][-1] for e in refused.value.errors] == ["account"]
    assert teller.get_wallet_record(wallet).account is None


# ------------------------------------------------------------------ closure


def test_closing_pays_the_balance_out_to_the_bound_account(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    record = open_wallet(bank, deposit=10_000)
    assert record.account is not None
    teller = bank.client("teller")
    done(teller, teller.top_up(record.address, 4_321))
    assert deposit_balance(bank, record.account) == 10_000 - 4_321

    app = bank.app(record.customer_ref)
    closing = app.close_wallet(record.address)
    assert (closing.kind, closing.status, closing.account) == ("wallet_close", "pending", record.account)
    assert closing.amount is not None and closing.amount.amount == 4_321 and closing.ref
    closed = done(app, closing)
    assert closed.amount is not None and closed.amount.amount == 4_321 and closed.details["burned"] == 4_321
    assert deposit_balance(bank, record.account) == 10_000

    on_chain = app.get_wallet(record.address)
    assert (on_chain.status, on_chain.balance.amount) == ("closed", 0)
    assert app.get_wallet_record(record.address).state == "closed"
    with pytest.raises(InvalidStateError):
        app.close_wallet(record.address)
    with pytest.raises(InvalidStateError):
        teller.freeze_wallet(record.address, 1)


def test_an_empty_wallet_closes_without_an_account_and_the_customer_may_open_again(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    teller = bank.client("teller")
    record = open_wallet(bank)
    closed = done(teller, teller.close_wallet(record.address))
    assert closed.amount is not None and closed.amount.amount == 0 and closed.account is None
    assert teller.get_wallet(record.address).status == "closed"
    again = teller.open_wallet(record.customer_ref, "in_person")
    assert again.created is True and again.wallet.address != record.address
    done(teller, again.operation)


def test_a_frozen_wallet_closes_too(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    record = open_wallet(bank, deposit=500)
    teller = bank.client("teller")
    done(teller, teller.top_up(record.address, 500))
    done(teller, teller.freeze_wallet(record.address, 4))
    closed = done(teller, teller.close_wallet(record.address))
    assert closed.amount is not None and closed.amount.amount == 500
    assert record.account is not None and deposit_balance(bank, record.account) == 500


def test_a_balance_without_a_bound_account_is_not_closed(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    payer = open_wallet(bank, deposit=2_000)
    teller = bank.client("teller")
    done(teller, teller.top_up(payer.address, 2_000))
    payee = open_wallet(bank)
    done(teller, teller.transfer(payer.address, payee.address, 750))

    with pytest.raises(AccountNotBoundError) as unbound:
        teller.close_wallet(payee.address)
    assert unbound.value.status == 409 and unbound.value.problem["balance"] == 750
    assert teller.get_wallet(payee.address).status == "active"

    account = bank.fund_account(fresh("DEP"), 0, customer_ref=payee.customer_ref)
    done(teller, teller.bind_account(payee.address, account))
    done(teller, teller.close_wallet(payee.address))
    assert deposit_balance(bank, account) == 750


def test_closing_above_the_threshold_needs_the_customers_code(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    amount = bank.settings.second_factor_threshold + 1
    record = open_wallet(bank, deposit=amount)
    app = bank.app(record.customer_ref)
    secret = app.enrol_totp(record.address).secret
    totp = pyotp.TOTP(secret)
    done(app, app.top_up(record.address, amount, totp=totp.now()))

    with pytest.raises(SecondFactorRequiredError) as required:
        app.close_wallet(record.address)
    assert required.value.status == 403 and required.value.problem["enrolled"] is True
    with pytest.raises(SecondFactorInvalidError):
        app.close_wallet(record.address, totp=totp.at(int(time.time()) - 600))  # long expired
    assert app.get_wallet(record.address).status == "active"

    next_code = totp.at(int(time.time()) + 30)  # this step's code was used by the top-up
    closed = done(app, app.close_wallet(record.address, totp=next_code))
    assert closed.amount is not None and closed.amount.amount == amount
    assert record.account is not None and deposit_balance(bank, record.account) == amount


# ------------------------------------------------------------------ whose wallet, which key


CHANGES: dict[str, Callable[[Client, str], Any]] = {
    "record": lambda c, w: c.get_wallet_record(w),
    "tier": lambda c, w: c.change_tier(w, 2),
    "freeze": lambda c, w: c.freeze_wallet(w, 1),
    "unfreeze": lambda c, w: c.unfreeze_wallet(w),
    "account": lambda c, w: c.bind_account(w, "DEP-ANY"),
    "close": lambda c, w: c.close_wallet(w),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_an_unknown_wallet_is_not_found(bank_network: BankNetwork, change: str) -> None:
    with pytest.raises(NotFoundError) as missing:
        CHANGES[change](bank_network.a.client("teller"), WalletKey.create().address)
    assert missing.value.status == 404


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_another_banks_wallet_is_not_custodied_here(bank_network: BankNetwork, change: str) -> None:
    b_teller = bank_network.b.client("teller")
    opening = b_teller.open_wallet(fresh("CUST"), "in_person")
    done(b_teller, opening.operation)
    with pytest.raises(WalletNotCustodiedHereError) as elsewhere:
        CHANGES[change](bank_network.a.client("teller"), opening.wallet.address)
    assert elsewhere.value.status == 409 and elsewhere.value.problem["custodian"] == "BANKB"
    assert b_teller.get_wallet(opening.wallet.address).status == "active"


@pytest.mark.parametrize(("scope", "change"), [
    ("app", "tier"), ("app", "freeze"), ("app", "unfreeze"),  # the customer's app does not administer
    ("admin", "account"), ("admin", "close"),  # nor does the back office act for the customer
    ("regulator", "freeze"), ("atm", "close"), ("regulator", "close"),
    ("merchant", "record"), ("merchant", "close"), ("merchant", "tier"),
])
def test_keys_outside_the_routes_scopes_are_forbidden(bank_network: BankNetwork, scope: str, change: str) -> None:
    wallet = open_wallet(bank_network.a).address
    client = bank_network.a.client(scope, merchant_id="SHOP-1" if scope == "merchant" else None)
    with pytest.raises(ForbiddenError) as refused:
        CHANGES[change](client, wallet)
    assert refused.value.status == 403 and refused.value.type.endswith("/forbidden")
    assert bank_network.a.client("teller").get_wallet(wallet).status == "active"
