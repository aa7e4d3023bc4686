"""`walletnet` commands that fail for a reason outside walletnet say so in one line and exit non-zero: a chain
node or a database that does not answer, a settings file that is not there; `--debug` shows the traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools.devnet import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-pw"


def walletnet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def dead_rpc() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


@pytest.fixture(scope="module")
def dead_db() -> str:
    return f"postgresql://walletnet:{SECRET}@127.0.0.1:{free_port()}/walletnet"


@pytest.fixture(scope="module")
def dead_settings(tmp_path_factory: pytest.TempPathFactory, dead_rpc: str, dead_db: str) -> Path:
    folder = tmp_path_factory.mktemp("dead")
    (folder / "deployment.json").write_text("{}")
    path = folder / "walletnet.toml"
    path.write_text(f'bank_id = "BANKA"\nrpc_url = "{dead_rpc}"\ndb_url = "{dead_db}"\n'
                    f'deployment_file = "{folder / "deployment.json"}"\n')
    return path


@pytest.mark.parametrize(("argv", "cause"), [
    (["deploy", "--rpc-url", "{rpc}", "--out", "{tmp}/deployment.json"], "cannot reach the chain node at {rpc}"),
    (["db", "upgrade", "--db-url", "{db}"], "cannot use the database: connection failed"),
    (["apikey", "list", "--db-url", "{db}"], "cannot use the database: connection failed"),
    (["apikey", "create", "--name", "x", "--scope", "teller", "--db-url", "{db}"],
     "cannot use the database: connection failed"),
    (["node", "run", "--config", "{settings}", "--until-idle"], "cannot use the database: connection failed"),
    (["db", "upgrade", "--config", "{tmp}/missing.toml"], "config file {tmp}/missing.toml"),
    (["reconcile", "--config", "{tmp}/missing.toml"], "config file {tmp}/missing.toml"),
    (["node", "run", "--config", "{settings}", "--roles", "api,ledger"], "--roles takes a comma-separated subset"),
    (["node", "run", "--config", "{settings}", "--roles", "api", "--until-idle"],
     "--until-idle runs the background roles only"),
], ids=["deploy-dead-rpc", "db-upgrade-dead-db", "apikey-list-dead-db", "apikey-create-dead-db", "node-run-dead-db",
        "db-upgrade-missing-config", "reconcile-missing-config", "node-run-unknown-role", "node-run-idle-api"])
def test_a_command_that_cannot_reach_what_it_needs_says_why_in_one_line(
        argv: list[str], cause: str, tmp_path: Path, dead_rpc: str, dead_db: str, dead_settings: Path) -> None:
    values = {"rpc": dead_rpc, "db": dead_db, "settings": str(dead_settings), "tmp": str(tmp_path)}
    result = walletnet(*(arg.format(**values) for arg in argv))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, no traceback
    assert cause.format(**values) in lines[0], lines[0]
    assert "Traceback" not in result.stderr and SECRET not in result.stderr + result.stdout


@pytest.fixture(scope="module")
def dead_chain_settings(tmp_path_factory: pytest.TempPathFactory, dead_rpc: str) -> Path:
    """A node whose database is there and migrated, and whose chain node does not answer."""
    folder = tmp_path_factory.mktemp("dead-chain")
    somewhere = "0x" + "11" * 20
    (folder / "deployment.json").write_text(json.dumps({
        "chain_id": 31337, "contracts": dict.fromkeys(("DigitalCash", "WalletRegistry", "MerchantSettlement",
                                                       "Consortium"), somewhere),
        "implementations": {}, "block": 0, "token": {"name": "Digital Cash", "symbol": "DCASH", "decimals": 2}}))
    db_url = f"sqlite:///{folder / 'node.sqlite3'}"
    assert walletnet("db", "upgrade", "--db-url", db_url).returncode == 0
    path = folder / "walletnet.toml"
    path.write_text(f'bank_id = "BANKA"\nrpc_url = "{dead_rpc}"\ndb_url = "{db_url}"\n'
                    f'deployment_file = "{folder / "deployment.json"}"\n')
    return path


@pytest.mark.parametrize("argv", [
    ["index", "run", "--once"], ["reconcile"], ["node", "reconcile"],
    ["node", "run", "--roles", "indexer,jobs", "--until-idle"],
], ids=["index-run", "reconcile", "node-reconcile", "node-run-indexer"])
def test_a_command_whose_chain_node_is_down_says_so_in_one_line(argv: list[str], dead_rpc: str,
                                                                 dead_chain_settings: Path) -> None:
    result = walletnet(*argv, "--config", str(dead_chain_settings))
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()  # one line, no traceback
    assert line.endswith(f": cannot reach the node at {dead_rpc}: ConnectionError"), line


@pytest.mark.parametrize("argv", [
    ["db", "current"], ["writer", "run"], ["index", "run"], ["apikey", "list"], ["apikey", "revoke", "1"],
    ["node", "reconcile"], ["node", "run"],
])
def test_a_command_with_a_missing_config_file_says_so_in_one_line(argv: list[str], tmp_path: Path) -> None:
    result = walletnet(*argv, "--config", str(tmp_path / "missing.toml"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        f"settings: config file {tmp_path / 'missing.toml'}: No such file or directory"]


def test_a_database_without_tables_is_told_to_run_db_upgrade(tmp_path: Path) -> None:
    result = walletnet("apikey", "create", "--name", "x", "--scope", "teller", "--db-url",
                       f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "walletnet apikey create: the database has no walletnet tables yet (no such table: api_keys): run "
        "`walletnet db upgrade` first."]


def test_debug_shows_the_traceback(dead_db: str) -> None:
    result = walletnet("--debug", "db", "upgrade", "--db-url", dead_db)
    assert result.returncode != 0
    assert "OperationalError" in result.stderr and len(result.stderr.splitlines()) > 10
