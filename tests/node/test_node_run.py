"""`walletnet node run` runs the writer and the indexer from one settings file; `walletnet node reconcile`
then compares chain, indexer, ledger and outbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account.signers.local import LocalAccount
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner
from writer_support import enqueue_rows, mint_row, minted_refs, open_wallets, rows_by_key

from node.indexer.models import ChainWallet
from node.outbox import OutboxState
from tools.cli import app
from tools.devnet import free_port
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator
from wallet_sdk.keys import WalletKey


@pytest.fixture
def node_config(db_url: str, system: Any, devnet: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.upper().startswith("WALLETNET_"):
            monkeypatch.delenv(name)
    operator = system.banks["A"].operators[0]
    keystore = WalletKey.from_private_key(bytes(operator.key)).save(tmp_path / "operator.json", "s3cret",
                                                                    scrypt_n=2**10)
    deployment = tmp_path / "deployment.json"
    system.deployment.save(deployment)
    config = tmp_path / "node.toml"
    config.write_text(f'bank_id = "BANKA"\nrpc_url = "{devnet.rpc_url}"\ndeployment_file = "{deployment}"\n'
                      f'db_url = "{db_url}"\noperator_keystore = "{keystore}"\nconfirmations = 0\n'
                      f'data_dir = "{tmp_path}"\noperator_password_env = "WALLETNET_TEST_OPERATOR_PASSWORD"\n')
    monkeypatch.setenv("WALLETNET_TEST_OPERATOR_PASSWORD", "s3cret")
    monkeypatch.setenv("COLUMNS", "200")
    return config


def test_node_run_sends_the_outbox_indexes_it_and_reconcile_reports_the_unbooked_mints(
        node_config: Path, sessions: sessionmaker[Session], system: Any) -> None:
    network = Network.connect(system.w3.provider.endpoint_uri, system.deployment)  # type: ignore[attr-defined]
    operator: LocalAccount = system.banks["A"].operators[0]
    (alice,) = open_wallets(BankOperator(network, operator), 1)
    block = network.block_number
    enqueue_rows(sessions, [mint_row("CASH-1", alice, 1_500), mint_row("CASH-2", alice, 250)])

    runner = CliRunner()
    ran = runner.invoke(app, ["node", "run", "--config", str(node_config), "--until-idle", "--poll-interval", "0.1"])

    assert ran.exit_code == 0, ran.output
    assert f"writer (operator {operator.address})" in ran.output
    assert "bank node idle: outbox sent and chain indexed" in ran.output
    assert {r.state for r in rows_by_key(sessions).values()} == {OutboxState.CONFIRMED}
    assert minted_refs(network, block) == {"CASH-1": 1, "CASH-2": 1}
    with sessions() as session:  # the indexer caught up with the writer's effects
        indexed = session.scalar(select(ChainWallet.spendable_minor).where(ChainWallet.address == alice.address))
    assert indexed == 1_750 == network.balance(alice)

    # Nothing booked these mints in the ledger: reconciliation must say so, ref by ref, and exit 1.
    report = runner.invoke(app, ["node", "reconcile", "--config", str(node_config), "--json"])
    assert report.exit_code == 1, report.output
    differences = json.loads(report.output)["differences"]
    assert sorted((d["kind"], d["expected"], d["actual"]) for d in differences) == [
        ("ledger_issuance", 250, 0), ("ledger_issuance", 1_500, 0)]


def test_node_run_refuses_an_unmigrated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("WALLETNET_"):
            monkeypatch.delenv(name)
    config = tmp_path / "node.toml"
    config.write_text(f'bank_id = "BANKA"\ndb_url = "sqlite:///{tmp_path / "empty.sqlite3"}"\n')
    refused = CliRunner().invoke(app, ["node", "run", "--config", str(config), "--until-idle"])
    assert refused.exit_code == 2
    assert "run `walletnet db upgrade` first" in refused.output


def _scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float] | None:
    try:
        text = httpx.get(url, timeout=2.0).text
    except httpx.HTTPError:
        return None  # not serving yet
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_node_run_serves_its_metrics_and_logs_json_lines(node_config: Path, sessions: sessionmaker[Session],
                                                         system: Any, tmp_path: Path) -> None:
    """`--metrics-port`: the node process's own metrics (the writer's batch sizes, its roles) beside the bank's
    state; its log is one JSON object per line, the writer's naming their transaction."""
    network = Network.connect(system.w3.provider.endpoint_uri, system.deployment)  # type: ignore[attr-defined]
    (alice,) = open_wallets(BankOperator(network, system.banks["A"].operators[0]), 1)
    enqueue_rows(sessions, [mint_row(f"MET-{i}", alice, 100 + i) for i in range(3)])  # one batch of three
    port = free_port()
    log = tmp_path / "node.log"
    root = Path(__file__).resolve().parents[2]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.cli", "node", "run", "--config", str(node_config), "--roles",
             "writer,indexer,jobs", "--metrics-port", str(port), "--poll-interval", "0.1"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(root)}, cwd=root)
    try:
        deadline = time.monotonic() + 60
        while True:
            samples = _scrape(f"http://127.0.0.1:{port}/metrics")
            batches = (samples or {}).get(("walletnet_writer_batch_rows_count", frozenset({("kind", "mint")})), 0)
            depth = sum(v for (name, _), v in (samples or {}).items() if name == "walletnet_outbox_depth")
            if samples and batches >= 1 and depth == 0:
                break
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    assert samples[("walletnet_writer_batch_rows_count", frozenset({("kind", "mint")}))] == 1
    assert samples[("walletnet_writer_batch_rows_sum", frozenset({("kind", "mint")}))] == 3
    assert samples[("walletnet_role_held", frozenset({("role", "writer")}))] == 1
    assert samples[("walletnet_database_up", frozenset())] == 1
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    signed = [line for line in lines if line["logger"] == "walletnet.writer" and "signed as" in line["message"]]
    assert len(signed) == 1 and signed[0]["message"].endswith(signed[0]["tx_hash"])
