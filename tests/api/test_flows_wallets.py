"""Wallet opening through the HTTP API with the SDK client, on the two-bank network: at the counter and in the
app, custodial and self-custody, idempotent per customer and channel, and every way it is refused."""

from __future__ import annotations

import secrets

import pytest
from flow_network import BankNetwork, BankNode
from sqlalchemy import select

from node.db import session_factory, transaction
from node.operations.models import Operation as OperationRow
from node.wallets.models import WalletRecord, custodial_key, find_wallet
from node.wallets.service import account_hash
from wallet_sdk.client import Client
from wallet_sdk.client.wallets import WalletOpening, sign_registration
from wallet_sdk.exceptions import (
    ConflictError,
    ForbiddenError,
    IdempotencyKeyReusedError,
    UnauthorizedError,
    ValidationError,
)
from wallet_sdk.keys import WalletKey


def fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def record_of(bank: BankNode, address: str) -> WalletRecord:
    with transaction(session_factory(bank.engine, read_only=True)) as session:
        record = find_wallet(session, address)
        assert record is not None
        session.expunge(record)
        return record


def opened(client: Client, opening: WalletOpening) -> WalletOpening:
    """Wait until the opening is on chain; it must have completed."""
    op = client.wait_for_operation(opening.operation.id)
    assert op.status == "completed", op
    assert op.tx_hash is not None and op.tx_hash.startswith("0x")
    return opening


def field_of(error: ValidationError) -> list[str]:
    return [str(e["loc"][-1]) for e in error.problem.get("errors", [])]


# ------------------------------------------------------------------ at the counter


def test_counter_opens_a_custodial_tier_1_wallet(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    teller = bank.client("teller")
    customer = fresh("CUST")
    opening = teller.open_wallet(customer, "in_person")
    assert opening.created is True
    assert (opening.wallet.tier, opening.wallet.custody, opening.wallet.channel) == (1, "custodial", "teller")
    assert opening.wallet.state == "pending" and opening.wallet.customer_ref == customer
    assert (opening.operation.kind, opening.operation.channel) == ("wallet_open", "teller")
    assert opening.operation.wallet == opening.wallet.address
    opened(teller, opening)

    on_chain = teller.get_wallet(opening.wallet.address)
    assert (on_chain.bank, on_chain.tier, on_chain.status, on_chain.balance.amount) == ("BANKA", 1, "active", 0)
    assert teller.get_wallet_record(opening.wallet.address).state == "active"
    record = record_of(bank, opening.wallet.address)
    assert record.key_ciphertext and opening.wallet.address not in record.key_ciphertext
    assert custodial_key(bank.settings, record).address == opening.wallet.address  # the bank holds the key


def test_opening_again_for_the_same_customer_and_channel_returns_the_same_wallet(bank_network: BankNetwork) -> None:
    teller = bank_network.a.client("teller")
    customer = fresh("CUST")
    first = opened(teller, teller.open_wallet(customer, "in_person"))
    again = teller.open_wallet(customer, "in_person")
    assert again.created is False
    assert again.wallet.address == first.wallet.address and again.operation.id == first.operation.id
    assert again.operation.status == "completed" and again.wallet.state == "active"

    # the same customer in the app is another enrolment: a wallet of its own
    app = bank_network.a.app(customer)
    in_app = app.open_wallet(customer, "identity_document")
    assert in_app.created is True and in_app.wallet.address != first.wallet.address
    opened(app, in_app)

    # same enrolment, other details: a conflict, not a second wallet
    with pytest.raises(ConflictError) as clash:
        app.open_wallet(customer, "phone", phone="+4930123456")
    assert clash.value.status == 409 and clash.value.problem["wallet"] == in_app.wallet.address


def test_the_idempotency_key_replays_the_answer_and_refuses_another_body(bank_network: BankNetwork) -> None:
    teller = bank_network.a.client("teller")
    key = fresh("idem")
    first = teller.open_wallet(fresh("CUST"), "in_person", idempotency_key=key)
    replay = teller.open_wallet(first.wallet.customer_ref, "in_person", idempotency_key=key)
    assert replay == first  # the recorded answer, byte for byte (still "pending" and created)
    with pytest.raises(IdempotencyKeyReusedError) as reused:
        teller.open_wallet(fresh("CUST"), "in_person", idempotency_key=key)
    assert reused.value.status == 409
    opened(teller, first)


# ------------------------------------------------------------------ in the app


def test_app_opens_tier_2_with_a_verified_bank_account_bound_by_salted_hash(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    customer = fresh("CUST")
    app = bank.app(customer)
    account = bank.fund_account(fresh("DEP"), 10_000, customer_ref=customer)
    opening = opened(app, app.open_wallet(customer, "bank_account", account=account))
    assert (opening.wallet.tier, opening.wallet.account, opening.wallet.channel) == (2, account, "app")
    assert opening.operation.account == account

    record = record_of(bank, opening.wallet.address)
    assert record.account_salt and record.account_hash == account_hash(record.account_salt, account)
    chain = bank.network.wallet(opening.wallet.address)
    assert chain.tier == 2 and "0x" + chain.account_hash.hex() == record.account_hash
    assert account.encode() not in chain.account_hash  # only the salted hash is on chain


def test_app_opens_tier_3_on_an_identity_document_and_tier_4_on_a_phone(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    by_document, by_phone = fresh("CUST"), fresh("CUST")
    document_app, phone_app = bank.app(by_document), bank.app(by_phone)
    document = opened(document_app, document_app.open_wallet(by_document, "identity_document"))
    phone = opened(phone_app, phone_app.open_wallet(by_phone, "phone", phone="+49 30 1234-567"))
    assert document.wallet.tier == 3 and document_app.get_wallet(document.wallet.address).tier == 3
    assert phone.wallet.tier == 4 and phone_app.get_wallet(phone.wallet.address).tier == 4
    assert phone.wallet.phone == "+49301234567"
    assert document.wallet.account is None


def test_app_registers_a_self_custody_wallet_with_a_proof_of_its_key(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    key, customer = WalletKey.create(), fresh("CUST")
    app = bank.app(customer)
    proof = sign_registration(key, "BANKA", customer)
    opening = opened(app, app.open_wallet(customer, "identity_document", custody="self", address=key.address,
                                          proof=proof))
    assert opening.wallet.address == key.address and opening.wallet.custody == "self"
    assert record_of(bank, key.address).key_ciphertext is None  # the bank never had the key
    assert app.get_wallet(key.address).status == "active"


def test_a_self_custody_proof_must_be_the_keys_own_for_this_bank_and_customer(bank_network: BankNetwork) -> None:
    key, customer = WalletKey.create(), fresh("CUST")
    app = bank_network.a.app(customer)
    with pytest.raises(ValidationError) as missing:
        app.open_wallet(customer, "phone", phone="+15550100", custody="self", address=key.address)
    assert field_of(missing.value) == ["proof"]
    for proof in (sign_registration(WalletKey.create(), "BANKA", customer),  # another key
                  sign_registration(key, "BANKB", customer),  # for the other bank
                  sign_registration(key, "BANKA", fresh("CUST"))):  # for another customer
        with pytest.raises(ValidationError) as wrong:
            app.open_wallet(customer, "phone", phone="+15550100", custody="self", address=key.address, proof=proof)
        assert field_of(wrong.value) == ["proof"]
    assert bank_network.a.network.wallet(key.address).registered is False


def test_the_counter_registers_a_self_custody_address(bank_network: BankNetwork) -> None:
    teller = bank_network.a.client("teller")
    key = WalletKey.create()
    opening = opened(teller, teller.open_wallet(fresh("CUST"), "in_person", custody="self", address=key.address))
    assert opening.wallet.custody == "self" and opening.wallet.tier == 1


# ------------------------------------------------------------------ refused


@pytest.mark.parametrize(("scope", "kwargs", "field"), [
    ("teller", {"verification": "phone", "phone": "+15550100"}, "verification"),  # the counter checks in person
    ("app", {"verification": "in_person"}, "verification"),  # the app cannot
    ("app", {"verification": "passport"}, "verification"),
    ("app", {"verification": "bank_account"}, "account"),
    ("app", {"verification": "bank_account", "account": "NO-SUCH-ACCOUNT"}, "account"),
    ("app", {"verification": "phone"}, "phone"),
    ("app", {"verification": "phone", "phone": "call me"}, "phone"),
    ("teller", {"verification": "in_person", "custody": "self"}, "address"),
    ("teller", {"verification": "in_person", "custody": "self", "address": "0x1234"}, "address"),
    ("teller", {"verification": "in_person", "custody": "self",
                "address": "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}, "address"),  # bad EIP-55 checksum
    ("teller", {"verification": "in_person", "address": "0x" + "11" * 20}, "address"),  # custodial: bank's key
    ("teller", {"verification": "in_person", "custody": "paper"}, "custody"),
])
def test_a_bad_opening_is_a_validation_problem(bank_network: BankNetwork, scope: str, kwargs: dict[str, str],
                                               field: str) -> None:
    customer = fresh("CUST")  # the app acts in a session of the customer it opens the wallet for
    client = bank_network.a.app(customer) if scope == "app" else bank_network.a.client(scope)
    with pytest.raises(ValidationError) as refused:
        client.open_wallet(customer, **kwargs)  # type: ignore[arg-type]
    assert refused.value.status == 422 and refused.value.type.endswith("/validation")
    assert field in field_of(refused.value), refused.value.problem


def test_an_account_of_another_bank_or_kind_does_not_verify(bank_network: BankNetwork) -> None:
    other_banks = bank_network.b.fund_account(fresh("DEP"), 500)
    customer = fresh("CUST")
    app = bank_network.a.app(customer)
    for account in (other_banks, "chain:issued"):
        with pytest.raises(ValidationError) as refused:
            app.open_wallet(customer, "bank_account", account=account)
        assert field_of(refused.value) == ["account"]
    someone_elses = bank_network.a.fund_account(fresh("DEP"), 500, customer_ref=fresh("CUST"))
    with pytest.raises(ValidationError, match="another customer"):
        app.open_wallet(customer, "bank_account", account=someone_elses)


def test_an_address_registered_already_is_a_conflict(bank_network: BankNetwork) -> None:
    b_teller = bank_network.b.client("teller")
    taken = opened(b_teller, b_teller.open_wallet(fresh("CUST"), "in_person")).wallet.address
    with pytest.raises(ConflictError) as clash:
        bank_network.a.client("teller").open_wallet(fresh("CUST"), "in_person", custody="self", address=taken)
    assert clash.value.type.endswith("/conflict")


@pytest.mark.parametrize("scopes", [("merchant",), ("atm",), ("regulator",), ("admin",)])
def test_other_scopes_may_not_open_wallets(bank_network: BankNetwork, scopes: tuple[str, ...]) -> None:
    client = bank_network.a.client(*scopes, merchant_id="SHOP-1" if "merchant" in scopes else None)
    with pytest.raises(ForbiddenError) as refused:
        client.open_wallet(fresh("CUST"), "in_person")
    assert refused.value.status == 403 and refused.value.type.endswith("/forbidden")


def test_a_key_with_both_channels_must_name_one(bank_network: BankNetwork) -> None:
    both = bank_network.a.client("teller", "app")
    with pytest.raises(ValidationError) as unnamed:
        both.open_wallet(fresh("CUST"), "in_person")
    assert field_of(unnamed.value) == ["channel"]
    opening = opened(both, both.open_wallet(fresh("CUST"), "phone", phone="+15550100", channel="app"))
    assert opening.wallet.channel == "app" and opening.operation.channel == "app"
    customer = fresh("CUST")
    with pytest.raises(ForbiddenError):
        bank_network.a.app(customer).open_wallet(customer, "in_person", channel="teller")


def test_without_a_key_nothing_is_opened(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    customer = fresh("CUST")
    with Client(bank.url, None) as anonymous, pytest.raises(UnauthorizedError):
        anonymous.open_wallet(customer, "in_person")
    with transaction(session_factory(bank.engine, read_only=True)) as session:
        assert session.scalars(select(WalletRecord).where(WalletRecord.customer_ref == customer)).first() is None
        assert session.scalars(select(OperationRow).where(
            OperationRow.details["customer_ref"].as_string() == customer)).first() is None


def test_the_async_client_opens_and_changes_a_wallet(bank_network: BankNetwork) -> None:
    import asyncio

    async def scenario() -> tuple[str, int, str]:
        async with bank_network.a.async_client("teller") as teller:
            opening = await teller.open_wallet(fresh("CUST"), "in_person")
            assert (await teller.wait_for_operation(opening.operation.id)).status == "completed"
            tier = await teller.change_tier(opening.wallet.address, 2)
            assert (await teller.wait_for_operation(tier.id)).status == "completed"
            record = await teller.get_wallet_record(opening.wallet.address)
            wallet = await teller.get_wallet(opening.wallet.address)
            return record.state, wallet.tier, wallet.status

    assert asyncio.run(scenario()) == ("active", 2, "active")
