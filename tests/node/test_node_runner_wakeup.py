"""A node whose loops poll rarely still writes and indexes at once: a commit on its engine (the API, when it runs
in the node's process) wakes the writer, and a final transaction wakes the indexer (node/wakeup.py). With a
one-minute poll interval, only the wake-ups can get the work done within the test's few seconds."""

from __future__ import annotations

import time
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from writer_support import enqueue_rows, mint_row, minted_refs, open_wallets, rows_by_key

from node.indexer.models import ChainWallet
from node.outbox import OutboxState
from node.runner import NodeRunner
from node.settings import load_settings
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator

POLL = 60.0  # seconds: far longer than the test waits


def test_a_commit_wakes_the_writer_and_a_final_transaction_wakes_the_indexer(
        engine: Engine, sessions: sessionmaker[Session], db_url: str, system: Any, devnet: Any,
        tmp_path: Any) -> None:
    network = Network.connect(devnet.rpc_url, system.deployment)
    operator: LocalAccount = system.banks["A"].operators[0]
    (alice,) = open_wallets(BankOperator(network, operator), 1)
    block = network.block_number
    settings = load_settings(bank_id="BANKA", rpc_url=devnet.rpc_url, db_url=db_url, data_dir=tmp_path,
                             confirmations=0, settlement_cutoff=None)
    runner = NodeRunner(settings, engine, lambda: Network.connect(devnet.rpc_url, system.deployment), operator,
                        poll_interval=POLL)
    with runner:
        deadline = time.monotonic() + 60
        while runner.indexer.checkpoint() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the first rounds, before the loops settle into their idle wait
        time.sleep(0.5)
        started = time.monotonic()
        enqueue_rows(sessions, [mint_row("WAKE-1", alice, 250)])  # committed on the node's engine
        while rows_by_key(sessions)["WAKE-1"].state is not OutboxState.CONFIRMED:
            assert time.monotonic() - started < 20, "the writer was not woken by the commit"
            time.sleep(0.05)
        while True:  # no wait_idle here: it wakes the loops itself
            with sessions() as session:
                indexed = session.scalar(select(ChainWallet.spendable_minor)
                                         .where(ChainWallet.address == alice.address))
            if indexed == 250:
                break
            assert time.monotonic() - started < 20, "the indexer was not woken by the final transaction"
            time.sleep(0.05)
        assert not runner.failures
    assert minted_refs(network, block) == {"WAKE-1": 1}
    assert network.balance(alice) == 250
