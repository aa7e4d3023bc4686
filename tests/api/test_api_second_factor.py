"""TOTP enrolment through HTTP, and a refused idempotent request that frees its key at once."""

from __future__ import annotations

import time
from collections.abc import Callable

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.shown_once import REDACTED
from node.api_keys import Scope
from node.db import session_factory, transaction
from node.wallets.models import CustodyMode, Verification, WalletRecord, WalletState

WALLET = "0x" + "ab" * 20
UNKNOWN = "0x" + "cd" * 20


def _record(engine: Engine) -> None:
    with transaction(session_factory(engine)) as session:
        session.add(WalletRecord(address=_checksum(WALLET), customer_ref="C-1",
                                 channel="app", verification=Verification.PHONE, tier=4, custody=CustodyMode.SELF,
                                 state=WalletState.ACTIVE))


def _checksum(address: str) -> str:
    from eth_utils.address import to_checksum_address

    return to_checksum_address(address)


def test_enrolment_returns_a_working_secret_once(client: TestClient, make_session: Callable[..., str],
                                                 auth: Callable[[str], dict[str, str]], api_engine: Engine) -> None:
    _record(api_engine)
    headers = {**auth(make_session("C-1")), "Idempotency-Key": "totp-1"}  # the customer's app, in C-1's session
    response = client.post(f"/v1/wallets/{WALLET}/totp", headers=headers, json={})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["wallet"] == _checksum(WALLET)
    assert pyotp.parse_uri(body["provisioning_uri"]).secret == body["secret"]
    again = client.post(f"/v1/wallets/{WALLET}/totp", headers=headers, json={})
    assert again.headers["Idempotent-Replayed"] == "true"  # a replay does not show the secret again
    assert again.json() == {**body, "secret": REDACTED, "provisioning_uri": REDACTED}


def test_a_refused_request_frees_its_idempotency_key_without_waiting(
        client: TestClient, make_key: Callable[..., str], auth: Callable[[str], dict[str, str]],
        problem: Callable[..., dict[str, object]]) -> None:
    headers = {**auth(make_key(Scope.TELLER)), "Idempotency-Key": "totp-unknown"}
    started = time.monotonic()
    for _ in range(2):  # the retry is refused the same way, not "in flight"
        problem(client.post(f"/v1/wallets/{UNKNOWN}/totp", headers=headers, json={}), 404, "not-found")
    assert time.monotonic() - started < 10  # not SQLite's 30 s busy timeout: the claim was dropped after rollback


def test_merchant_and_atm_keys_cannot_enrol(client: TestClient, make_key: Callable[..., str],
                                            auth: Callable[[str], dict[str, str]],
                                            problem: Callable[..., dict[str, object]]) -> None:
    for scope in (Scope.MERCHANT, Scope.ATM, Scope.REGULATOR):
        secret = make_key(scope, merchant_id="M-1" if scope is Scope.MERCHANT else None)
        headers = {**auth(secret), "Idempotency-Key": f"k-{scope}"}
        problem(client.post(f"/v1/wallets/{WALLET}/totp", headers=headers, json={}), 403, "forbidden")
