"""Reconciliation agrees with the real chain writer: mints booked in the ledger and queued in the outbox, sent by
:class:`node.writer.ChainWriter`, then indexed, reconcile to zero differences (the outbox payload convention
``{"wallet", "amount", "ref"}`` is the writer's ``mint`` kind)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from test_node_indexer_helpers import open_wallet

from node.db import transaction
from node.indexer.service import Indexer, IndexerConfig
from node.ledger import Leg, SqlLedger
from node.outbox import OutboxRow, OutboxState, enqueue
from node.reconcile.service import reconcile
from node.writer import ChainWriter, WriterConfig
from wallet_sdk.chain.network import Network


def test_rows_the_writer_sent_reconcile_to_zero(system: Any, sessions: sessionmaker[Session], engine: Engine,
                                               ledger: SqlLedger) -> None:
    network = Network.from_web3(system.w3, system.deployment)
    account = system.banks["A"].operators[1]
    alice = open_wallet(network.bank_operator(account))
    with transaction(sessions) as session:
        SqlLedger(session).credit("deposit:alice", 10_000, contra="vault", reference="OPEN")
    for n in range(3):
        with transaction(sessions) as session:
            SqlLedger(session).transfer([Leg.debit("deposit:alice", 1_000 + n), Leg.credit("chain:issued", 1_000 + n)],
                                        reference=f"TOPUP-{n}")
            enqueue(session, f"TOPUP-{n}", "mint", {"wallet": alice.address, "amount": 1_000 + n, "ref": f"TOPUP-{n}"})

    ChainWriter(sessions, network, account, WriterConfig(confirmations=0, poll_interval=0.05)).run(until_idle=True)
    Indexer(network, sessions, IndexerConfig(confirmations=0)).run_once()

    with sessions() as session:
        assert {row.state for row in session.query(OutboxRow)} == {OutboxState.CONFIRMED}
    report = reconcile(network, engine, "BANKA", confirmations=0)
    assert report.differences == ()
    assert network.balance(alice) == 3_003 and network.net_issued("BANKA") == 3_003
