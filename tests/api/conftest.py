"""API tests: the app of bank A on a real anvil (``system``) and a fresh, migrated SQLite file per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from flow_network import BankNetwork, network_session
from sqlalchemy import Engine

from api.app import create_app
from node.api_keys import Scope, create_key, mint_session
from node.db import create_engine, session_factory, transaction, upgrade
from node.settings import NodeSettings, load_settings
from tools.postgres import PgServer
from wallet_sdk.chain.network import Network

DEAD_RPC = "http://127.0.0.1:9"  # the discard port: nothing answers JSON-RPC there


@pytest.fixture(scope="session")
def api_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api-db-template") / "template.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return path


@pytest.fixture
def api_db_url(api_db_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "node.sqlite3"
    shutil.copyfile(api_db_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def api_engine(api_db_url: str) -> Iterator[Engine]:
    engine = create_engine(api_db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def network(system: object) -> Network:
    return Network.from_web3(system.w3, system.deployment)  # type: ignore[attr-defined]


@pytest.fixture
def settings(api_db_url: str, devnet: object) -> NodeSettings:
    return load_settings(bank_id="BANKA", rpc_url=devnet.rpc_url, db_url=api_db_url)  # type: ignore[attr-defined]


@pytest.fixture
def app(settings: NodeSettings, api_engine: Engine, network: Network) -> FastAPI:
    return create_app(settings, engine=api_engine, network_factory=lambda: network)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def make_key(api_engine: Engine) -> Callable[..., str]:
    """``make_key(Scope.TELLER, ...)`` -> the secret of a new key with those scopes."""

    def make(*scopes: Scope, name: str = "test", merchant_id: str | None = None) -> str:
        with transaction(session_factory(api_engine)) as session:
            return create_key(session, name=name, scopes=scopes or (Scope.ADMIN,), merchant_id=merchant_id).secret

    return make


@pytest.fixture
def make_session(api_engine: Engine) -> Callable[..., str]:
    """``make_session("C-1")`` -> the token of a new customer session of ``C-1`` (minted by a new auth key)."""

    def make(customer_ref: str, *, ttl_seconds: int = 900) -> str:
        with transaction(session_factory(api_engine)) as session:
            backend = create_key(session, name="login backend", scopes=(Scope.AUTH,))
            return mint_session(session, api_key_id=backend.key.id, customer_ref=customer_ref,
                                ttl_seconds=ttl_seconds).token

    return make


PROBLEM = "application/problem+json"


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _assert_problem(response: object, status: int, kind: str) -> dict[str, object]:
    """The response is a problem of ``kind`` with ``status``; returns its body."""
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith(PROBLEM), response.headers  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["type"] == f"https://walletnet.dev/problems/{kind}", body
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    return body


@pytest.fixture
def auth() -> Callable[[str], dict[str, str]]:
    """``auth(secret)`` -> the Authorization header for that key."""
    return _auth


@pytest.fixture
def problem() -> Callable[..., dict[str, object]]:
    """``problem(response, status, kind)``: assert a problem+json response of that kind; returns its body."""
    return _assert_problem


# ------------------------------------------------------------------ the two-bank network of the flow tests


_RUNNING: list[Iterator[BankNetwork]] = []  # the shared network's generator while it runs
_HERE = Path(__file__).parent


def _stop_shared_network() -> None:
    """Stop the shared network (its teardown reconciles both banks and fails on a difference); idempotent."""
    while _RUNNING:
        for _ in _RUNNING.pop():  # runs network_session's teardown
            pass


@pytest.fixture(scope="session")
def bank_network(tmp_path_factory: pytest.TempPathFactory, pg_server: PgServer) -> Iterator[BankNetwork]:
    """Two running bank nodes on their own chain (see flow_network.py); shared by every flow test of the
    session. When the last test of this folder is done, reconciliation of both banks must find no difference
    (a teardown failure), and the network stops (see pytest_runtest_teardown)."""
    pg_server.admin("CREATE DATABASE bankb TEMPLATE walletnet_template")
    running = network_session(tmp_path_factory.mktemp("bank-network"), pg_server.url("bankb"))
    _RUNNING.append(running)
    yield next(running)
    _stop_shared_network()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Stop the shared network as soon as the tests of this folder are done rather than at the end of the
    session: idle, its nodes still poll the chain and the databases, which slows every later test."""
    result = yield
    if _RUNNING and (nextitem is None or _HERE not in nextitem.path.parents):
        _stop_shared_network()
    return result
