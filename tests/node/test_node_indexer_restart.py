"""The indexer survives crashes: stopped between rounds, inside a round, or killed with SIGKILL as a real process,
it resumes from its checkpoint and ends with exactly what one uninterrupted pass writes (no duplicate, no gap).
It also refuses to build on a chain that changed under its checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker
from test_node_indexer_helpers import dump, mine, mixed_activity, open_wallet, transfer

from node.db import create_engine, session_factory, upgrade
from node.indexer.projection import EVENT_NAMES
from node.indexer.service import ChainReorganizedError, IndexedUpTo, Indexer, IndexerConfig, IndexerRound
from wallet_sdk.chain.events import iter_events
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator

REPO = Path(__file__).resolve().parents[2]


class Crash(Exception):
    """Stands for the process dying."""


@pytest.fixture
def network(system: Any) -> Network:
    return Network.from_web3(system.w3, system.deployment)


@pytest.fixture
def bank_a(network: Network, system: Any) -> BankOperator:
    return network.bank_operator(system.banks["A"].operators[0])


@pytest.fixture
def bank_b(network: Network, system: Any) -> BankOperator:
    return network.bank_operator(system.banks["B"].operators[0])


@pytest.fixture
def one_pass(empty_db_url: str) -> Any:
    """A second database, indexed in one uninterrupted pass by ``one_pass(network, until)``; returns its dump."""
    upgrade(empty_db_url)
    engine = create_engine(empty_db_url)

    def index(network: Network, until: int) -> dict[str, list[tuple[Any, ...]]]:
        Indexer(network, session_factory(engine), IndexerConfig(confirmations=0)).run_once(until=until)
        return dump(engine)

    yield index
    engine.dispose()


def small_rounds(network: Network, sessions: sessionmaker[Session]) -> Indexer:
    """Rounds of at most 3 blocks and 4 events, so checkpoints also fall inside blocks."""
    return Indexer(network, sessions, IndexerConfig(confirmations=0, batch_blocks=3, max_events=4))


def test_crashing_between_rounds_again_and_again_ends_as_one_pass(
        network: Network, bank_a: BankOperator, bank_b: BankOperator, sessions: sessionmaker[Session],
        engine: Engine, one_pass: Any) -> None:
    mixed_activity(network, bank_a, bank_b)
    head = network.block_number
    checkpoints: list[IndexedUpTo] = []

    def crash_after_the_commit(result: IndexerRound) -> None:
        checkpoints.append(result.checkpoint)
        raise Crash

    restarts = 0
    while True:
        try:
            small_rounds(network, sessions).run_once(until=head, after_round=crash_after_the_commit)
            break
        except Crash:
            restarts += 1
    assert restarts >= 10
    assert any(c.log_index is not None for c in checkpoints)  # some restarts happened inside a block
    assert checkpoints == sorted(checkpoints, key=lambda c: (c.block_number, c.log_index is None, c.log_index or 0))
    assert dump(engine) == one_pass(network, head)


def test_a_crash_inside_a_round_leaves_nothing_of_it(network: Network, bank_a: BankOperator,
                                                     bank_b: BankOperator, sessions: sessionmaker[Session],
                                                     engine: Engine, one_pass: Any) -> None:
    mixed_activity(network, bank_a, bank_b)
    head = network.block_number
    indexer = small_rounds(network, sessions)
    for _ in range(3):
        indexer.run_round(until=head)
    before, checkpoint = dump(engine), indexer.checkpoint()

    def die_before_commit(_session: Session) -> None:
        raise Crash

    event.listen(sessions, "before_commit", die_before_commit)
    with pytest.raises(Crash):
        indexer.run_round(until=head)  # rows written and flushed, then the commit never happens
    event.remove(sessions, "before_commit", die_before_commit)
    assert indexer.checkpoint() == checkpoint
    assert dump(engine) == before
    indexer.run_once(until=head)
    assert dump(engine) == one_pass(network, head)


def test_a_round_commits_in_parts_and_a_crash_between_them_keeps_the_parts_before(
        network: Network, bank_a: BankOperator, bank_b: BankOperator, sessions: sessionmaker[Session],
        engine: Engine, one_pass: Any) -> None:
    mixed_activity(network, bank_a, bank_b)
    head = network.block_number
    events = list(iter_events(network, network.deployment.block, head, EVENT_NAMES))
    assert len(events) > 6
    indexer = Indexer(network, sessions, IndexerConfig(confirmations=0, commit_events=2))
    commits = 0

    def die_at_the_second_part(_session: Session) -> None:
        nonlocal commits
        commits += 1
        if commits == 3:  # the checkpoint's read, the first part, then this
            raise Crash

    event.listen(sessions, "before_commit", die_at_the_second_part)
    with pytest.raises(Crash):
        indexer.run_round(until=head)
    event.remove(sessions, "before_commit", die_at_the_second_part)
    second = events[1]
    assert indexer.checkpoint() == IndexedUpTo(second.block_number, second.log_index, second.block_hash)
    indexer.run_once(until=head)
    assert dump(engine) == one_pass(network, head)


def _checkpoint_block(engine: Engine) -> int:
    with engine.connect() as connection:
        value = connection.exec_driver_sql("SELECT block_number FROM indexer_checkpoints").scalar()
    return -1 if value is None else int(value)


def test_sigkill_mid_way_then_restart_ends_as_one_pass(network: Network, bank_a: BankOperator, system: Any,
                                                     devnet: Any, db_url: str, engine: Engine, tmp_path: Path,
                                                     one_pass: Any) -> None:
    alice, bob = open_wallet(bank_a), open_wallet(bank_a)
    for n in range(40):  # 40 blocks with events
        bank_a.mint(alice if n % 2 else bob, 100 + n, f"M-{n}")
    first_head = network.block_number
    deployment = tmp_path / "deployment.json"
    system.deployment.save(deployment)
    env = {**os.environ, "WALLETNET_RPC_URL": devnet.rpc_url, "WALLETNET_DEPLOYMENT_FILE": str(deployment),
           "WALLETNET_DB_URL": db_url, "WALLETNET_BANK_ID": "BANKA", "WALLETNET_CONFIRMATIONS": "0",
           "WALLETNET_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "tools.cli", "index", "run", "--batch-blocks", "1", "--poll-interval", "0.05"]
    follower = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while _checkpoint_block(engine) < network.deployment.block + 10:
            assert follower.poll() is None, follower.stderr.read().decode() if follower.stderr else ""
            assert time.monotonic() < deadline, "the indexer made no progress"
            time.sleep(0.01)
    finally:
        follower.send_signal(signal.SIGKILL)
        follower.wait(timeout=30)
        if follower.stderr:
            follower.stderr.close()
    killed_at = _checkpoint_block(engine)
    assert follower.returncode == -signal.SIGKILL
    assert killed_at < first_head, "the indexer finished before it could be killed mid-way"

    for n in range(5):  # more history while it is down
        transfer(network, bank_a, alice, bob.address, 10 + n)
    mine(network)
    head = network.block_number
    done = subprocess.run([*command[:5], "--once"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"indexed up to block {head}" in done.stdout
    assert dump(engine) == one_pass(network, head)


def test_a_reorganisation_under_the_checkpoint_stops_the_indexer(network: Network, bank_a: BankOperator,
                                                                  system: Any, sessions: sessionmaker[Session]) -> None:
    alice = open_wallet(bank_a)
    fork_point = system.rpc("evm_snapshot")
    bank_a.mint(alice, 1_000, "SOON-GONE")
    indexer = Indexer(network, sessions, IndexerConfig(confirmations=0))
    indexed = indexer.run_once()
    assert indexed is not None
    assert system.rpc("evm_revert", fork_point) is True
    mine(network, 2)  # another block at the checkpoint's height
    with pytest.raises(ChainReorganizedError) as stopped:
        indexer.run_once()
    assert (stopped.value.block_number, stopped.value.indexed_hash) == (indexed.block_number, indexed.block_hash)
    assert stopped.value.chain_hash != indexed.block_hash
