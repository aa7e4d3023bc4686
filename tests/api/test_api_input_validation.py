"""Bad input is a clear 422, never a 500 and never silently taken (issue 18, "input validation"), on the two-bank
network: integers beyond what the database holds, amounts that are not integers (``true``, ``"100"``,
``100.0``), unknown fields; and a webhook URL a production node will not send to. The class of each is checked
over the whole OpenAPI document in test_api_openapi.py; these are the cases that were found."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from flow_network import BankNetwork, BankNode
from merchant_support import onboard_shop
from money_flows_support import count_rows, fresh, open_customer, operations_of
from production_support import production_settings
from sqlalchemy import Engine

from api.app import create_app
from node.api_keys import Scope
from node.custody import Custody
from node.merchants.models import Merchant
from node.settings import NodeSettings
from node.wallets.models import WalletRecord
from wallet_sdk.chain.network import Network

NOT_INTEGERS = [True, "100", 100.0]


def call(bank: BankNode, secret: str, method: str, path: str, *, json: Any = None,
         params: dict[str, Any] | None = None) -> httpx.Response:
    """One raw request (the SDK would not send these bodies), with a fresh Idempotency-Key and a teller's desk."""
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": fresh("idem"),
               "X-Teller-Branch": "BR-TEST", "X-Teller-Operator": "OP-TEST"}  # a teller's money move names them
    return httpx.request(method, f"{bank.url}{path}", json=json, params=params, headers=headers, timeout=30)


def validation_error(response: httpx.Response, problem: Callable[..., dict[str, Any]]) -> list[Any]:
    """The fields a 422 validation problem names, each with the type of its error."""
    body = problem(response, 422, "validation")
    return [(e["loc"], e["type"]) for e in body.get("errors", [])]


def test_a_batch_id_beyond_the_database_is_a_422_not_a_500(bank_network: BankNetwork,
                                                          problem: Callable[..., dict[str, Any]]) -> None:
    """``?before=2**63`` reached SQLite and failed with OverflowError: a 500."""
    shop = onboard_shop(bank_network.a)
    admin = bank_network.a.key(Scope.ADMIN)
    path = f"/v1/merchants/{shop.merchant_id}/settlements"
    for value in (2**63, 2**64, 10**30):
        response = call(bank_network.a, admin, "GET", path, params={"before": value})
        assert validation_error(response, problem) == [(["query", "before"], "less_than_equal")], response.text
        response = call(bank_network.a, admin, "GET", f"{path}/{value}")
        assert validation_error(response, problem) == [(["path", "batch_id"], "less_than_equal")], response.text
    largest = call(bank_network.a, admin, "GET", path, params={"before": 2**63 - 1})
    assert (largest.status_code, largest.json()) == (200, [])


@pytest.mark.parametrize("amount", NOT_INTEGERS, ids=["true", "string", "float"])
def test_an_amount_is_a_json_integer(bank_network: BankNetwork, problem: Callable[..., dict[str, Any]],
                                     amount: Any) -> None:
    """``{"amount": true}`` topped up 0.01; ``"100"`` and ``100.0`` were taken as 100."""
    bank = bank_network.a
    payer, payee = open_customer(bank, tier=2, deposit=50_000), open_customer(bank, deposit=None)
    teller = bank.key(Scope.TELLER)
    before = operations_of(bank, payer.wallet)
    top_up = call(bank, teller, "POST", f"/v1/wallets/{payer.wallet}/topups", json={"amount": amount})
    assert validation_error(top_up, problem) == [(["body", "amount"], "int_type")]
    transfer = call(bank, teller, "POST", "/v1/transfers",
                    json={"payer": payer.wallet, "payee": payee.wallet, "amount": amount})
    assert validation_error(transfer, problem) == [(["body", "amount"], "int_type")]
    assert operations_of(bank, payer.wallet) == before  # nothing was started

    good = call(bank, teller, "POST", f"/v1/wallets/{payer.wallet}/topups", json={"amount": 100})
    assert good.status_code == 202, good.text


def test_unknown_fields_are_refused_not_dropped(bank_network: BankNetwork,
                                                problem: Callable[..., dict[str, Any]]) -> None:
    """``{"tier": 2}`` at the counter opened a tier-1 wallet with 202."""
    bank = bank_network.a
    ref = fresh("CUST")
    opening = call(bank, bank.key(Scope.TELLER), "POST", "/v1/wallets",
                   json={"customer_ref": ref, "verification": "in_person", "tier": 2})
    assert validation_error(opening, problem) == [(["body", "tier"], "extra_forbidden")]
    assert count_rows(bank, WalletRecord, WalletRecord.customer_ref == ref) == 0

    merchant_id = fresh("SHOP")
    onboarding = call(bank, bank.key(Scope.ADMIN), "POST", "/v1/merchants",
                      json={"merchant_id": merchant_id, "legal_name": "Shop Ltd", "mcc": 5411, "fee_bps": 150,
                            "settlement_account": "DEP-X", "settlement_delay_days": 0})
    assert validation_error(onboarding, problem) == [(["body", "settlement_delay_days"], "extra_forbidden")]
    assert count_rows(bank, Merchant, Merchant.merchant_id == merchant_id) == 0


@pytest.mark.parametrize(("url", "reason"), [
    ("https://169.254.169.254/latest/meta-data/", "link-local"),
    ("https://127.0.0.1:8443/hooks", "loopback"),
    ("http://hooks.shop.example/walletnet", "https://"),
])
def test_a_production_node_refuses_a_private_webhook_url_at_onboarding(
        settings: NodeSettings, api_engine: Engine, network: Network, tmp_path: Path,
        make_key: Callable[..., str], problem: Callable[..., dict[str, Any]], url: str, reason: str) -> None:
    """The same onboarding with a public https URL is accepted (shown in test_flows_merchants.py)."""
    custody_key = tmp_path / "custody.key"
    custody_key.write_bytes(Custody.generate_key())
    custody_key.chmod(0o600)
    production = production_settings(settings, tmp_path, custody_key_file=custody_key)
    app = create_app(production, engine=api_engine, network_factory=lambda: network)
    admin = {"Authorization": f"Bearer {make_key(Scope.ADMIN)}"}
    with TestClient(app, raise_server_exceptions=False) as client:
        account = client.post("/v1/accounts", headers={**admin, "Idempotency-Key": "account-1"},
                              json={"code": "DEP-1", "customer_ref": "SHOP-1"})
        assert account.status_code == 201, account.text
        response = client.post("/v1/merchants", headers={**admin, "Idempotency-Key": "onboard-1"},
                               json={"merchant_id": "SHOP-1", "legal_name": "Shop Ltd", "mcc": 5411, "fee_bps": 150,
                                     "settlement_account": "DEP-1", "webhook_url": url})
    body = problem(response, 422, "validation")
    assert body["errors"] == [{"loc": ["body", "webhook_url"], "msg": body["detail"], "type": "value_error"}]
    assert reason in str(body["detail"])
