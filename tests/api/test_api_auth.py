"""API keys: 401 for missing/unknown/revoked keys, 403 outside the endpoint's scopes (and for an app key alone on
a customer's wallet: it needs a customer session), and the CLI."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from typer.testing import CliRunner

from node.api_keys import ApiKey, Scope, revoke_key
from node.db import session_factory, transaction
from tools.cli import app as cli

WALLET_READERS = {Scope.TELLER, Scope.APP, Scope.ADMIN, Scope.REGULATOR}
STAFF_READERS = {Scope.TELLER, Scope.ADMIN, Scope.REGULATOR}  # any customer's wallet; an app acts for one customer


def wallet_path(system: Any) -> str:
    return f"/v1/wallets/{system.new_wallet().address}"


def refused_within_cache_time(client: TestClient, path: str, headers: dict[str, str]) -> Any:
    """The first answer to ``GET path`` that is not a 404 (the key still taken), which must come within the API's
    ``api_key_cache_seconds`` of a revocation made outside it (node/api_keys/cache.py)."""
    revoked_at = time.monotonic()
    ttl = client.app.state.walletnet.settings.api_key_cache_seconds  # type: ignore[attr-defined]
    while (response := client.get(path, headers=headers)).status_code == 404:
        assert time.monotonic() - revoked_at < ttl + 0.5, "the revoked key is still taken after the cache's time"
        time.sleep(0.05)
    return response


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wn_unknown"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer "},
    {"X-API-Key": ""},
    {"X-API-Key": "wn_" + "x" * 500},
    {"X-API-Key": "wn_\u00e9t\u00e9".encode("latin-1")},
], ids=["none", "unknown", "basic", "empty-bearer", "empty-header", "too-long", "non-ascii"])
def test_missing_or_unknown_key_is_401(client: TestClient, system: Any, headers: dict[str, Any],
                                       problem: Callable[..., dict[str, Any]]) -> None:
    response = client.get(wallet_path(system), headers=headers)
    problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_revoked_key_is_401(client: TestClient, system: Any, api_engine: Engine, make_key: Callable[..., str],
                            auth: Callable[[str], dict[str, str]], problem: Callable[..., dict[str, Any]]) -> None:
    """A key revoked outside the API (the CLI, another process) is refused within ``api_key_cache_seconds``: the
    API remembers who a key is that long (node/api_keys/cache.py), and no longer."""
    secret = make_key(Scope.TELLER)
    assert client.get(wallet_path(system), headers=auth(secret)).status_code == 404  # authenticated: no wallet
    with transaction(session_factory(api_engine)) as session:
        key = session.scalars(select(ApiKey)).one()
        revoke_key(session, key.id)
    problem(refused_within_cache_time(client, wallet_path(system), auth(secret)), 401, "unauthorized")


def test_a_known_key_is_not_read_again_within_the_cache_time(
        client: TestClient, system: Any, api_engine: Engine, make_key: Callable[..., str],
        auth: Callable[[str], dict[str, str]]) -> None:
    """Who a key is comes from memory on its next requests: a read it would make shows in the engine's events."""
    client.app.state.walletnet.principals.ttl = 60.0  # type: ignore[attr-defined]  # however slow this machine is
    secret, path = make_key(Scope.TELLER), wallet_path(system)
    assert client.get(path, headers=auth(secret)).status_code == 404
    reads: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "api_keys" in statement and "secret_hash" in statement:
            reads.append(statement)

    event.listen(api_engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):
            assert client.get(path, headers=auth(secret)).status_code == 404
    finally:
        event.remove(api_engine, "before_cursor_execute", seen)
    assert reads == []


@pytest.mark.parametrize("scope", list(Scope), ids=[s.value for s in Scope])
def test_each_scope_on_the_wallet_read(client: TestClient, system: Any, scope: Scope, make_key: Callable[..., str],
                                       auth: Callable[[str], dict[str, str]],
                                       problem: Callable[..., dict[str, Any]]) -> None:
    secret = make_key(scope, merchant_id="SHOP-1" if scope is Scope.MERCHANT else None)
    response = client.get(wallet_path(system), headers=auth(secret))
    if scope in STAFF_READERS:
        problem(response, 404, "not-found")  # past the scope check: the wallet does not exist
    elif scope is Scope.APP:
        problem(response, 403, "customer-session-required")  # an app key alone acts for no customer
    else:
        body = problem(response, 403, "forbidden")
        assert set(body["required_scopes"]) == {s.value for s in WALLET_READERS}


@pytest.mark.parametrize("scope", list(Scope), ids=[s.value for s in Scope])
def test_each_scope_on_the_admin_list(client: TestClient, scope: Scope, make_key: Callable[..., str],
                                      auth: Callable[[str], dict[str, str]],
                                      problem: Callable[..., dict[str, Any]]) -> None:
    secret = make_key(scope, merchant_id="SHOP-1" if scope is Scope.MERCHANT else None)
    response = client.get("/v1/api-keys", headers=auth(secret))
    if scope is Scope.ADMIN:
        assert response.status_code == 200, response.text
    else:
        problem(response, 403, "forbidden")


def test_a_key_with_several_scopes_passes_if_one_matches(client: TestClient, system: Any,
                                                         make_key: Callable[..., str],
                                                         auth: Callable[[str], dict[str, str]]) -> None:
    secret = make_key(Scope.ATM, Scope.TELLER)
    assert client.get(wallet_path(system), headers=auth(secret)).status_code == 404


def test_only_the_hash_is_stored(api_engine: Engine, make_key: Callable[..., str]) -> None:
    secret = make_key(Scope.TELLER)
    with transaction(session_factory(api_engine)) as session:
        key = session.scalars(select(ApiKey)).one()
        assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in json.dumps(key.summary())


def test_cli_create_list_revoke(client: TestClient, system: Any, api_db_url: str,
                                auth: Callable[[str], dict[str, str]], problem: Callable[..., dict[str, Any]]) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, ["apikey", "create", "--name", "counter 1", "--scope", "teller", "--scope", "atm",
                                  "--db-url", api_db_url])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("wn_")
    assert client.get(wallet_path(system), headers=auth(secret)).status_code == 404  # the key works

    listed = runner.invoke(cli, ["apikey", "list", "--json", "--db-url", api_db_url])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    assert [(r["name"], r["scopes"], r["revoked_at"]) for r in rows] == [("counter 1", ["atm", "teller"], None)]
    assert secret not in listed.stdout

    revoked = runner.invoke(cli, ["apikey", "revoke", str(rows[0]["id"]), "--db-url", api_db_url])
    assert revoked.exit_code == 0, revoked.output
    problem(refused_within_cache_time(client, wallet_path(system), auth(secret)), 401, "unauthorized")
    table = runner.invoke(cli, ["apikey", "list", "--db-url", api_db_url])
    assert table.exit_code == 0 and "counter 1" in table.stdout


def test_cli_merchant_key_and_refusals(api_db_url: str) -> None:
    runner = CliRunner()
    shop = runner.invoke(cli, ["apikey", "create", "--name", "shop", "--scope", "merchant", "--merchant", "SHOP-1",
                               "--db-url", api_db_url])
    assert shop.exit_code == 0, shop.output
    for argv in (["--scope", "merchant"], ["--scope", "root"]):
        refused = runner.invoke(cli, ["apikey", "create", "--name", "x", *argv, "--db-url", api_db_url])
        assert refused.exit_code == 2, refused.output
    missing = runner.invoke(cli, ["apikey", "revoke", "999", "--db-url", api_db_url])
    assert missing.exit_code == 1
    assert "no API key with id 999" in missing.output
    listed = runner.invoke(cli, ["apikey", "list", "--json", "--db-url", api_db_url])
    rows = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    assert [(r["name"], r["merchant_id"]) for r in rows] == [("shop", "SHOP-1")]
