"""Crash tests: the chain writer runs as a real process (tests/node/writer_proc.py) that is SIGKILLed at each
point of its work, or by this test at a random moment, and is then restarted; every effect must be on
chain exactly once and every outbox row final, on SQLite and on PostgreSQL.

The crash points (the process kills itself there, selected by ``$WRITER_CRASH_AT``):

1. ``signed_committed``: the signed transaction is committed with its rows, not yet broadcast;
2. ``broadcast``: the node has it (anvil mines at once), the writer has not seen the receipt;
3. ``receipt_seen``: the receipt is read and the rows' new states flushed, not committed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from writer_support import (
    RowView,
    assert_all_written_once,
    chain_txs,
    enqueue_rows,
    mint_row,
    minted_refs,
    nonce_bit,
    open_wallets,
    relay,
    relay_row,
    rows_by_key,
)

from node.db import session_factory
from node.outbox import OutboxRow, OutboxState
from wallet_sdk import rawtx
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.types import WalletStatus
from wallet_sdk.keys import WalletKey

WRITER_PROC = Path(__file__).with_name("writer_proc.py")
RUN_TIMEOUT = 90  # seconds: far above a normal run (a few seconds)


@pytest.fixture
def deployment_file(system: Any, tmp_path: Path) -> Path:
    path = tmp_path / "deployment.json"
    system.deployment.save(path)
    return path


class WriterProcess:
    """Starts tests/node/writer_proc.py against the session's anvil and the test's database."""

    def __init__(self, rpc_url: str, deployment: Path, db_url: str, operator: LocalAccount) -> None:
        self.args = [sys.executable, str(WRITER_PROC), "--rpc-url", rpc_url, "--deployment", str(deployment),
                     "--db-url", db_url]
        self.env = {**os.environ, "WRITER_KEY": "0x" + bytes(operator.key).hex(), "PYTHONUNBUFFERED": "1"}
        self.env.pop("WRITER_CRASH_AT", None)

    def start(self, crash_at: str | None = None, crash_on: int = 1) -> subprocess.Popen[str]:
        env = dict(self.env)
        if crash_at is not None:
            env |= {"WRITER_CRASH_AT": crash_at, "WRITER_CRASH_ON": str(crash_on)}
        return subprocess.Popen(self.args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def run(self, crash_at: str | None = None, crash_on: int = 1) -> tuple[int, str]:
        proc = self.start(crash_at, crash_on)
        output, _ = proc.communicate(timeout=RUN_TIMEOUT)
        return proc.returncode, output


@pytest.fixture
def writer_process(devnet: Any, deployment_file: Path, db_url: str, operator: LocalAccount) -> WriterProcess:
    return WriterProcess(devnet.rpc_url, deployment_file, db_url, operator)


# ------------------------------------------------------------------ the crash points


@pytest.mark.parametrize(("crash_at", "crash_on"), [("signed_committed", 2), ("broadcast", 3), ("receipt_seen", 2)])
def test_a_crash_at_each_point_loses_and_doubles_nothing(
        crash_at: str, crash_on: int, writer_process: WriterProcess, sessions: sessionmaker[Session],
        network: Network, operator: LocalAccount, system: Any) -> None:
    bank = network.bank_operator(system.banks["A"].operators[1])
    alice, bob, carol = open_wallets(bank, 3, funds=[5_000])
    dave = WalletKey.create()
    block = network.block_number + 1
    first_nonce = rawtx.nonce_of(network.w3, operator.address)
    rows = [mint_row("CASH-1", alice, 100), mint_row("CASH-2", bob, 200),  # one mintBatch
            relay_row("R-1", relay(network, alice, bob, 10, nonce_bit(0))),  # one transaction
            relay_row("R-2", relay(network, alice, carol, 20, nonce_bit(1))),
            ("OPEN-DAVE", "open_wallet", {"wallet": dave.address}), mint_row("CASH-3", dave, 300),  # CASH-3 and
            mint_row("CASH-4", carol, 400)]  # CASH-4: one mintBatch, after the opening
    enqueue_rows(sessions, rows)

    code, output = writer_process.run(crash_at, crash_on)
    assert code == -signal.SIGKILL, f"the writer did not crash at {crash_at} (exit {code}):\n{output}"
    _assert_left_at(crash_at, rows_by_key(sessions), network)

    code, output = writer_process.run()
    assert code == 0, f"restart after a crash at {crash_at}: exit {code}:\n{output}"

    assert {r.state for r in rows_by_key(sessions).values()} == {OutboxState.CONFIRMED}
    assert_all_written_once(network, sessions, operator.address, first_nonce)
    assert len(chain_txs(sessions)) == 4  # 2 mint batches, 1 relay batch, 1 opening: each sent once
    assert [len(attempts) for _, attempts in chain_txs(sessions)] == [1] * 4  # the stored bytes, never re-signed
    assert minted_refs(network, block) == {"CASH-1": 1, "CASH-2": 1, "CASH-3": 1, "CASH-4": 1}
    assert network.balance(alice) == 5_000 + 100 - 10 - 20
    assert (network.balance(bob), network.balance(carol), network.balance(dave)) == (200 + 10, 20 + 400, 300)
    assert network.wallet(dave).status is WalletStatus.ACTIVE


def _assert_left_at(crash_at: str, rows: dict[str, RowView], network: Network) -> None:
    """What the killed process left behind shows that it died where it was meant to."""
    w3 = network.w3
    if crash_at == "signed_committed":  # the 2nd transaction (the relay batch) is stored, the node never saw it
        for key in ("R-1", "R-2"):
            row = rows[key]
            assert row.state is OutboxState.SUBMITTED and row.tx_hash is not None
            assert not rawtx.is_known(w3, row.tx_hash)
        assert rows["OPEN-DAVE"].state is OutboxState.RECEIVED
    elif crash_at == "broadcast":  # the 3rd (the opening) is mined, and its row does not know it yet
        row = rows["OPEN-DAVE"]
        assert row.state is OutboxState.SUBMITTED and row.tx_hash is not None
        receipt = rawtx.receipt_of(w3, row.tx_hash)
        assert receipt is not None and receipt["status"] == 1
        assert rows["CASH-3"].state is OutboxState.RECEIVED
    else:  # receipt_seen: the 1st (the first mint batch) is confirmed, the 2nd's confirmation died uncommitted
        assert rows["CASH-1"].state is rows["CASH-2"].state is OutboxState.CONFIRMED
        row = rows["R-1"]
        assert row.state is OutboxState.SUBMITTED and row.tx_hash is not None
        assert rawtx.receipt_of(w3, row.tx_hash) is not None


# ------------------------------------------------------------------ killed at a random moment


def test_a_writer_killed_at_random_moments_of_a_30_row_run_writes_each_effect_once(
        writer_process: WriterProcess, sessions: sessionmaker[Session], engine: Engine, network: Network,
        operator: LocalAccount, system: Any) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    bank = network.bank_operator(system.banks["A"].operators[1])
    wallets = open_wallets(bank, 4, funds=[1_000])
    block = network.block_number + 1
    first_nonce = rawtx.nonce_of(network.w3, operator.address)
    rows = []
    for i in range(30):  # 6 runs of 3 mints and 6 pairs of relays (one transaction per run or pair): 12 in all
        if i % 5 in (3, 4):
            rows.append(relay_row(f"R-{i}", relay(network, wallets[0], wallets[1 + i % 3], 1 + i, nonce_bit(i))))
        else:
            rows.append(mint_row(f"CASH-{i}", wallets[i % 4], 10 * (i + 1)))
    enqueue_rows(sessions, rows)
    readers = session_factory(engine, read_only=True)

    kills = []
    for _ in range(2):
        phase = rng.choice([OutboxState.RECEIVED, OutboxState.CONFIRMED])  # kill while sending, or confirming
        threshold = rng.randint(1, 24)
        proc = writer_process.start()
        _wait_for_progress(readers, phase, threshold, proc)
        time.sleep(rng.uniform(0, 0.03))
        proc.send_signal(signal.SIGKILL)
        output, _ = proc.communicate(timeout=RUN_TIMEOUT)
        kills.append((phase.value, threshold, proc.returncode))
        assert proc.returncode in (-signal.SIGKILL, 0), f"seed {seed}: exit {proc.returncode}\n{output}"

    code, output = writer_process.run()
    assert code == 0, f"seed {seed}, kills {kills}: exit {code}\n{output}"
    assert any(code == -signal.SIGKILL for *_, code in kills), f"seed {seed}: never killed mid-run: {kills}"
    assert_all_written_once(network, sessions, operator.address, first_nonce)
    assert {r.state for r in rows_by_key(sessions).values()} == {OutboxState.CONFIRMED}, f"seed {seed}"
    assert minted_refs(network, block) == {key: 1 for key, kind, _ in rows if kind == "mint"}, f"seed {seed}"
    assert len(chain_txs(sessions)) == 12
    paid = sum(1 + i for i in range(30) if i % 5 in (3, 4))
    expected = [1_000 - paid, 0, 0, 0]
    for i in range(30):
        if i % 5 in (3, 4):
            expected[1 + i % 3] += 1 + i
        else:
            expected[i % 4] += 10 * (i + 1)
    assert [network.balance(w) for w in wallets] == expected, f"seed {seed}, kills {kills}"


def _wait_for_progress(readers: sessionmaker[Session], phase: OutboxState, threshold: int,
                       proc: subprocess.Popen[str]) -> None:
    """Until ``threshold`` rows have left ``received`` (or reached ``confirmed``), or the process ended."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        with readers() as session:
            if phase is OutboxState.RECEIVED:
                where = OutboxRow.state != OutboxState.RECEIVED
            else:
                where = OutboxRow.state == OutboxState.CONFIRMED
            done = session.scalar(select(func.count()).select_from(OutboxRow).where(where)) or 0
        if done >= threshold:
            return
        time.sleep(0.005)
