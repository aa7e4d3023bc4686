"""``prepare``: the request a client would send, for callers that send it themselves (the bench's load
generator serialises thousands before its clock starts, tests/benchmarks uses them against a running bank)."""

from __future__ import annotations

import json
import uuid

from wallet_sdk.client import AsyncClient, Client
from wallet_sdk.client import transfers as transfer_requests
from wallet_sdk.client.atm import (
    ATM_NONCE_HEADER,
    ATM_SIGNATURE_HEADER,
    ATM_TIMESTAMP_HEADER,
    AtmClient,
    report_cash_in,
    verify_atm_signature,
)

PAYER, PAYEE = "0x" + "11" * 20, "0x" + "22" * 20


def test_a_prepared_post_carries_the_key_an_idempotency_key_and_the_exact_body() -> None:
    client = Client("http://bank.example/", "secret-key", retries=0)
    request = transfer_requests.transfer(PAYER, PAYEE, 250)
    first, second = client.prepare(request), client.prepare(request)
    assert (first.method, first.path) == ("POST", "/v1/transfers")
    assert first.body == request.body() and json.loads(first.body or b"") == {"payer": PAYER, "payee": PAYEE,
                                                                              "amount": 250}
    assert first.headers["Authorization"] == "Bearer secret-key"
    assert first.headers["Content-Type"] == "application/json"
    uuid.UUID(first.headers["Idempotency-Key"])
    assert first.headers["Idempotency-Key"] != second.headers["Idempotency-Key"]  # each send is its own request
    given = client.prepare(transfer_requests.transfer(PAYER, PAYEE, 250, idempotency_key="order-7"))
    assert given.headers["Idempotency-Key"] == "order-7"


def test_a_prepared_read_has_its_query_and_no_body() -> None:
    prepared = AsyncClient("http://bank.example", "k").prepare(transfer_requests.get_history(PAYER, limit=5))
    assert prepared.path == f"/v1/wallets/{PAYER}/history?limit=5" and prepared.body is None
    assert "Idempotency-Key" not in prepared.headers and "Content-Type" not in prepared.headers


def test_a_prepared_atm_message_is_signed_over_its_exact_body() -> None:
    atm = AtmClient("http://bank.example", "atm-key", atm_id="ATM-1", secret="device-secret")
    prepared = atm.prepare(report_cash_in("EV-1", PAYER, {10_000: 2}))
    h = prepared.headers
    assert verify_atm_signature("device-secret", h[ATM_SIGNATURE_HEADER], timestamp=int(h[ATM_TIMESTAMP_HEADER]),
                                nonce=h[ATM_NONCE_HEADER], method="POST", path="/v1/atm/cash-ins", body=prepared.body)
    assert not verify_atm_signature("device-secret", h[ATM_SIGNATURE_HEADER], timestamp=int(h[ATM_TIMESTAMP_HEADER]),
                                    nonce=h[ATM_NONCE_HEADER], method="POST", path="/v1/atm/cash-ins",
                                    body=(prepared.body or b"") + b" ")
