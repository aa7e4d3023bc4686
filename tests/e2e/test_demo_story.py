"""The whole story across two banks, end to end: ``walletnet demo`` on a network it starts (as CI runs it), each
of its steps checking what it did (tools/demo.py ``STEPS``: wallets opened at a counter, in an app and in bulk,
ATM cash in and out, a cross-bank payment, a limit refusal, a merchant's QR payment, refund, settlement and
statement, reconciliation); then ``walletnet up``'s resume: the network the demo left behind starts again with
its balances, keys and databases, and keeps working."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from tools.cli import app
from tools.demo import STEPS, run_story
from tools.localnet_nodes import (
    DataDirBusyError,
    api_answers,
    data_dir_busy,
    network_description,
    read_network_file,
    start_network,
)
from wallet_sdk.chain.network import Network
from wallet_sdk.client import Client


def test_the_demo_completes_every_step_and_a_restart_resumes_the_network(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--data-dir", str(tmp_path)])
    out = result.output
    assert result.exit_code == 0, out
    assert "no running network" in out  # it started its own
    for number, (name, _) in enumerate(STEPS, start=1):
        assert f"{number}. {name}" in out and f"✓ {name}" in out, name
    assert "✗" not in out and f"all {len(STEPS)} steps did what they said" in out
    assert "0 differences" in out
    alice = re.search(r"opened Alice's wallet (0x[0-9a-fA-F]{40})", out)
    bob = re.search(r"opened Bob's wallet (0x[0-9a-fA-F]{40})", out)
    assert alice and bob
    credentials_file = tmp_path / "credentials.json"
    assert stat.S_IMODE(credentials_file.stat().st_mode) == 0o600
    credentials = json.loads(credentials_file.read_text())["banks"]
    assert read_network_file(tmp_path) is None  # stopped: no network.json left

    net = start_network(data_dir=tmp_path, banks=2)
    try:
        assert net.chain.reused and net.credentials_created == []  # same contracts, same keys
        assert net.credentials == credentials
        info = read_network_file(tmp_path)
        assert info is not None and all(api_answers(b.url) for b in net.banks)
        assert data_dir_busy(tmp_path)  # a second network on the same chain state is refused
        with pytest.raises(DataDirBusyError):
            start_network(data_dir=tmp_path, banks=2)
        chain = Network.connect(net.chain.devnet.rpc_url, tmp_path / "deployment.json")
        # the demo's ending balances: Alice 800 in, 600 to Bob, 150 out; Bob 600 in, 120 paid, 20 refunded
        assert (chain.balance(alice[1]), chain.balance(bob[1])) == (5_000, 50_000)
        bank_a = net.bank("BANKA")
        with Client(bank_a.url, credentials[bank_a.code]["teller"]) as teller:
            assert teller.get_wallet(alice[1]).balance.amount == 5_000
            assert teller.get_wallet_record(alice[1]).custody == "self"  # the node's database was kept
            opening = teller.open_wallet("after-restart", "in_person")  # the writer still sends
            assert teller.wait_for_operation(opening.operation.id, timeout=60).status == "completed"
        net.wait_idle()

        # a step that does not do what it says fails the demo, naming the step (here: a revoked-looking key)
        wrong = {code: dict.fromkeys(keys, "wn_not-a-key") for code, keys in credentials.items()}
        console = Console(record=True, width=200)
        failed = run_story(network_description(net), wrong, tmp_path, console)
        shown = console.export_text()
        assert failed.exit_code == 1 and [s.ok for s in failed.steps] == [False]
        assert f"demo failed at step 1: {STEPS[0][0]}" in shown and "401" in shown
    finally:
        net.stop()
    assert not (tmp_path / "network.json").exists() and not data_dir_busy(tmp_path)
