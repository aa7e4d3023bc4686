"""Issue 18, finding 3: a secret the API shows once (a merchant's API key and webhook secret, a TOTP secret) is
never kept in the idempotency record, and a replay of the Idempotency-Key does not show it again; the
schema marks every such field, so a new endpoint cannot forget it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.idempotency import REDACTED_HEADER
from api.shown_once import REDACTED, SECRET_MARK
from node.api_keys import Scope
from node.db import session_factory, transaction
from node.ledger import AccountKind, SqlLedger
from node.ledger.accounts import ensure_system_accounts
from node.wallets.models import CustodyMode, Verification, WalletRecord, WalletState
from wallet_sdk.chain.network import to_address
from wallet_sdk.client import Client, SecretAlreadyShownError

SECRET_NAMES = re.compile(r"secret|api_key(?!_id)|token|password|provisioning_uri|private|mnemonic", re.IGNORECASE)


def _recorded(engine: Engine, key: str) -> str:
    """The raw text of the response recorded for Idempotency-Key ``key`` (exactly what the database holds)."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT CAST(response_body AS TEXT) FROM idempotency_keys WHERE key = :k"),
                                  {"k": key}).scalars().all()
    assert len(rows) == 1 and rows[0], rows
    return str(rows[0])


def _replay(client: TestClient, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[Any, Any]:
    """The first answer and its replay (same key, same body), both successful."""
    first = client.post(path, headers=headers, json=body)
    assert first.status_code in (201, 202), first.text
    again = client.post(path, headers=headers, json=body)
    assert again.status_code == first.status_code, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    return first, again


def test_a_replayed_totp_enrolment_does_not_show_the_secret_and_the_record_holds_none(
        client: TestClient, make_key: Callable[..., str], auth: Callable[[str], dict[str, str]],
        api_engine: Engine) -> None:
    wallet = to_address("0x" + "5e" * 20, "wallet")
    with transaction(session_factory(api_engine)) as session:
        session.add(WalletRecord(address=wallet, customer_ref="C-SECRET", channel="app",
                                 verification=Verification.PHONE, tier=4, custody=CustodyMode.SELF,
                                 state=WalletState.ACTIVE))
    headers = {**auth(make_key(Scope.TELLER)), "Idempotency-Key": "totp-secret-1"}
    first, again = _replay(client, f"/v1/wallets/{wallet}/totp", headers, {})
    secret = first.json()["secret"]
    assert pyotp.parse_uri(first.json()["provisioning_uri"]).secret == secret  # the first answer shows it
    assert again.json() == {"wallet": wallet, "secret": REDACTED, "provisioning_uri": REDACTED}
    assert again.headers[REDACTED_HEADER] == "secret, provisioning_uri"
    stored = _recorded(api_engine, "totp-secret-1")
    assert secret not in stored and "otpauth" not in stored
    assert json.loads(stored) == again.json()


@pytest.fixture
def settlement_account(api_engine: Engine) -> str:
    with transaction(session_factory(api_engine)) as session:
        ledger = SqlLedger(session)
        ensure_system_accounts(ledger, "DCASH")
        ledger.open_account("MRCH-SECRET", AccountKind.CUSTOMER_DEPOSIT, "DCASH", name="shop", owner_ref="SECRETSHOP")
    return "MRCH-SECRET"


def test_a_replayed_merchant_onboarding_shows_neither_the_api_key_nor_the_webhook_secret(
        client: TestClient, make_key: Callable[..., str], auth: Callable[[str], dict[str, str]], api_engine: Engine,
        settlement_account: str) -> None:
    headers = {**auth(make_key(Scope.ADMIN)), "Idempotency-Key": "onboard-secret-1"}
    terms = {"merchant_id": "SECRETSHOP", "legal_name": "Secret Shop Ltd", "mcc": 5411, "fee_bps": 100,
             "settlement_account": settlement_account, "webhook_url": "https://shop.example/hooks"}
    first, again = _replay(client, "/v1/merchants", headers, terms)
    api_key, webhook_secret = first.json()["api_key"], first.json()["webhook_secret"]
    assert api_key.startswith("wn_") and len(webhook_secret) >= 16
    assert client.get("/v1/merchants/SECRETSHOP", headers=auth(api_key)).status_code == 200  # the key works
    assert again.json() == {**first.json(), "api_key": REDACTED, "webhook_secret": REDACTED}
    assert again.headers[REDACTED_HEADER] == "api_key, webhook_secret"
    stored = _recorded(api_engine, "onboard-secret-1")
    assert api_key not in stored and webhook_secret not in stored
    assert api_key[:10] not in stored  # not even the key's prefix


def test_the_sdk_says_a_replayed_secret_was_shown_once_instead_of_handing_back_the_placeholder(
        client: TestClient, make_key: Callable[..., str], settlement_account: str) -> None:
    sdk = Client("http://testserver", make_key(Scope.ADMIN), http=client)
    terms = {"legal_name": "Secret Shop Ltd", "mcc": 5411, "fee_bps": 100, "settlement_account": settlement_account,
             "webhook_url": "https://shop.example/hooks", "idempotency_key": "onboard-sdk-1"}
    first = sdk.onboard_merchant("SECRETSHOP", **terms)
    assert first.api_key is not None and first.api_key.startswith("wn_") and first.webhook_secret
    with pytest.raises(SecretAlreadyShownError) as shown:  # as a retry whose first answer was lost would
        sdk.onboard_merchant("SECRETSHOP", **terms)
    assert shown.value.fields == ("api_key", "webhook_secret")
    replayed = shown.value.result
    assert (replayed.merchant.merchant_id, replayed.operation.id) == ("SECRETSHOP", first.operation.id)
    assert (replayed.api_key, replayed.webhook_secret) == (REDACTED, REDACTED)


def test_a_webhook_secret_the_bank_chose_is_not_recorded_either(
        client: TestClient, make_key: Callable[..., str], auth: Callable[[str], dict[str, str]], api_engine: Engine,
        settlement_account: str) -> None:
    chosen = "whsec-chosen-by-the-bank-0123456789"
    headers = {**auth(make_key(Scope.ADMIN)), "Idempotency-Key": "onboard-secret-2"}
    terms = {"merchant_id": "SECRETSHOP", "legal_name": "Secret Shop Ltd", "mcc": 5411, "fee_bps": 100,
             "settlement_account": settlement_account, "webhook_url": "https://shop.example/hooks",
             "webhook_secret": chosen}
    first, again = _replay(client, "/v1/merchants", headers, terms)
    assert first.json()["webhook_secret"] == chosen
    assert again.json()["webhook_secret"] == REDACTED
    assert chosen not in _recorded(api_engine, "onboard-secret-2")


def _reachable(schema: Any, components: dict[str, Any], seen: set[str]) -> None:
    """The names of the component schemas ``schema`` refers to, transitively, added to ``seen``."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                _reachable(components[name], components, seen)
        for value in schema.values():
            _reachable(value, components, seen)
    elif isinstance(schema, list):
        for item in schema:
            _reachable(item, components, seen)


def test_every_response_field_named_like_a_secret_is_marked_shown_once(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    components = document["components"]["schemas"]
    in_responses: set[str] = set()
    for item in document["paths"].values():
        for operation in item.values():
            _reachable(operation.get("responses", {}), components, in_responses)
    secret_like = {(name, field): prop for name in in_responses
                   for field, prop in components[name].get("properties", {}).items() if SECRET_NAMES.search(field)}
    assert ("TotpEnrolmentOut", "secret") in secret_like and ("MerchantOnboardingOut", "api_key") in secret_like
    unmarked = sorted(f"{name}.{field}" for (name, field), prop in secret_like.items()
                      if prop.get(SECRET_MARK) is not True)
    assert not unmarked, f"declare these response fields with api.shown_once.shown_once(): {unmarked}"
