"""GET /v1/wallets/{address} and /v1/health end to end: real anvil, real SQLite."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from web3 import Web3

from api.app import create_app
from node.api_keys import Scope
from node.db import create_engine
from node.settings import NodeSettings, load_settings
from wallet_sdk.chain.network import Network

AMOUNT = 123_456  # minor units


def open_wallet(system: Any, tier: int = 2) -> str:
    bank = system.banks["A"]
    address: str = system.new_wallet().address
    system.send(system.registry.functions.openWallet(address, bank.id, tier, 0, os.urandom(32)), bank.operators[0])
    return address


def test_wallet_read_returns_record_and_exact_balance(system: Any, client: TestClient, make_key: Callable[..., str],
                                                       auth: Callable[[str], dict[str, str]]) -> None:
    address = open_wallet(system, tier=2)
    system.send(system.token.functions.mint(address, AMOUNT, os.urandom(32)), system.banks["A"].operators[0])
    response = client.get(f"/v1/wallets/{address}", headers=auth(make_key(Scope.TELLER)))
    assert response.status_code == 200, response.text
    assert response.json() == {"address": address, "bank": "BANKA", "tier": 2, "status": "active",
                               "balance": {"amount": AMOUNT, "currency": "DCASH"}}


def test_wallet_read_accepts_lower_case_address_and_x_api_key(system: Any, client: TestClient,
                                                              make_key: Callable[..., str]) -> None:
    address = open_wallet(system)
    response = client.get(f"/v1/wallets/{address.lower()}", headers={"X-API-Key": make_key(Scope.REGULATOR)})
    assert response.status_code == 200, response.text
    assert response.json()["address"] == address
    assert response.json()["balance"] == {"amount": 0, "currency": "DCASH"}


def test_frozen_wallet_shows_frozen(system: Any, client: TestClient, make_key: Callable[..., str],
                                    auth: Callable[[str], dict[str, str]]) -> None:
    address = open_wallet(system)
    system.send(system.registry.functions.freeze(address, 1), system.banks["A"].operators[0])
    body = client.get(f"/v1/wallets/{address}", headers=auth(make_key(Scope.TELLER))).json()
    assert body["status"] == "frozen"


def test_unknown_wallet_is_404(client: TestClient, make_key: Callable[..., str], auth: Callable[[str], dict[str, str]],
                               problem: Callable[..., dict[str, Any]], system: Any) -> None:
    address = system.new_wallet().address
    body = problem(client.get(f"/v1/wallets/{address}", headers=auth(make_key(Scope.ADMIN))), 404, "not-found")
    assert body["address"] == address
    assert body["instance"] == f"/v1/wallets/{address}"


def test_malformed_addresses_are_422(client: TestClient, make_key: Callable[..., str],
                                     auth: Callable[[str], dict[str, str]], problem: Callable[..., dict[str, Any]],
                                     system: Any) -> None:
    headers = auth(make_key(Scope.TELLER))
    for bad in ("0x1234", "not-an-address", "0x" + "zz" * 20, "0x" + "ab" * 21):
        body = problem(client.get(f"/v1/wallets/{bad}", headers=headers), 422, "validation")
        assert body["errors"][0]["loc"] == ["path", "address"], body
    wrong_checksum = "0x52908400098527886E0F7030069857D2E4169Ee7"  # EIP-55 example with one letter's case flipped
    body = problem(client.get(f"/v1/wallets/{wrong_checksum}", headers=headers), 422, "validation")
    assert body["errors"][0]["loc"] == ["address"]


def test_chain_down_is_503_chain_unavailable(api_db_url: str, api_engine: Engine, make_key: Callable[..., str],
                                             auth: Callable[[str], dict[str, str]],
                                             problem: Callable[..., dict[str, Any]], system: Any) -> None:
    settings = load_settings(bank_id="BANKA", rpc_url="http://127.0.0.1:9", db_url=api_db_url)
    app = create_app(settings, engine=api_engine)  # the real connect path: nothing listens there
    with TestClient(app, raise_server_exceptions=False) as client:
        address = system.new_wallet().address
        problem(client.get(f"/v1/wallets/{address}", headers=auth(make_key(Scope.TELLER))), 503,
                "chain-unavailable")
        body = problem(client.get("/v1/health"), 503, "service-unavailable")
        assert body["checks"]["chain"]["ok"] is False
        assert body["checks"]["database"]["ok"] is True


def test_chain_lost_after_connecting_is_503(api_engine: Engine, settings: NodeSettings, system: Any,
                                             make_key: Callable[..., str], auth: Callable[[str], dict[str, str]],
                                             problem: Callable[..., dict[str, Any]]) -> None:
    dead = Network(Web3(Web3.HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 5})), system.deployment)
    app = create_app(settings, engine=api_engine, network_factory=lambda: dead)
    with TestClient(app, raise_server_exceptions=False) as client:
        address = system.new_wallet().address
        body = problem(client.get(f"/v1/wallets/{address}", headers=auth(make_key(Scope.TELLER))), 503,
                       "chain-unavailable")
        assert "127.0.0.1" not in str(body)
        problem(client.get("/v1/health"), 503, "service-unavailable")


def test_health_is_200_when_chain_and_db_answer(client: TestClient, network: Network) -> None:
    response = client.get("/v1/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["chain"]["ok"] is True and body["chain"]["block"] >= 0
    assert body["database"] == {"ok": True, "detail": None, "block": None}


def test_health_reports_database_down(settings: NodeSettings, network: Network, tmp_path: Path,
                                      problem: Callable[..., dict[str, Any]]) -> None:
    folder = tmp_path / "gone"
    engine = create_engine(f"sqlite:///{folder / 'db.sqlite3'}")  # creates the folder ...
    folder.rmdir()  # ... which vanishes: the database cannot be opened
    try:
        app = create_app(settings, engine=engine, network_factory=lambda: network)
        with TestClient(app, raise_server_exceptions=False) as client:
            body = problem(client.get("/v1/health"), 503, "service-unavailable")
        assert body["checks"]["database"]["ok"] is False
        assert body["checks"]["chain"]["ok"] is True
    finally:
        engine.dispose()
