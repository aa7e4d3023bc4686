"""An overloaded database must not stop the bank node: when no pooled connection is free in time (or SQLite says
`database is locked`), the writer, the indexer and the periodic jobs wait and retry. Stopping instead would leave
the node's API accepting work that nobody sends (seen in `make bench` at 200 requests/s)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from writer_support import enqueue_rows, mint_row, minted_refs, open_wallets

from node.db import create_engine, session_factory
from node.indexer.models import ChainWallet
from node.runner import NodeRunner
from node.settings import load_settings
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator


def test_a_starved_connection_pool_is_waited_out_not_fatal(db_url: str, system: Any, devnet: Any,
                                                           tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    network = Network.connect(devnet.rpc_url, system.deployment)
    operator: LocalAccount = system.banks["A"].operators[0]
    (alice,) = open_wallets(BankOperator(network, operator), 1)
    block = network.block_number
    # One connection, and a pool that gives up after 50 ms: the node's three threads already compete for it.
    engine = create_engine(db_url, pool_size=1, max_overflow=0, pool_timeout=0.05)
    settings = load_settings(bank_id="BANKA", rpc_url=devnet.rpc_url, db_url=db_url, data_dir=tmp_path,
                             confirmations=0, settlement_cutoff=None)
    runner = NodeRunner(settings, engine, lambda: Network.connect(devnet.rpc_url, system.deployment), operator,
                        poll_interval=0.02)
    try:
        with engine.connect():  # the test holds the only connection while the node starts and polls
            runner.start()
            time.sleep(1.0)
            assert not runner.failures
        enqueue_rows(session_factory(engine), [mint_row("BUSY-1", alice, 700)])
        runner.wait_idle(60)
        assert not runner.failures
    finally:
        runner.stop()
        engine.dispose()
    timeouts = [r for r in caplog.records if "QueuePool limit" in r.getMessage()]
    assert timeouts, "the pool never ran dry: the test did not starve the node"
    assert minted_refs(network, block) == {"BUSY-1": 1}
    check = create_engine(db_url)
    try:
        with session_factory(check)() as session:
            indexed = session.scalar(select(ChainWallet.spendable_minor).where(ChainWallet.address == alice.address))
    finally:
        check.dispose()
    assert indexed == 700 == network.balance(alice)
