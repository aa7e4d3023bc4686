"""Bulk enrolment in batches (node.wallets.bulk): a chunk of a few hundred customers is written together, each row
answered as it would be alone, and every wallet is opened on chain exactly once, by the real writer on anvil,
however often the chunk is sent and whether or not an earlier attempt's transaction was lost. On SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from node.db import transaction
from node.operations.models import Operation, OperationKind, OperationStatus
from node.outbox import OutboxRow
from node.settings import NodeSettings, load_settings
from node.wallets import bulk
from node.wallets.models import WalletRecord, WalletState, open_key
from node.wallets.service import Actor, EnrolmentOutcome
from node.writer.chain_writer import ChainWriter, WriterConfig
from wallet_sdk.chain.events import iter_events
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.types import WalletStatus
from wallet_sdk.keys import WalletKey

TELLER = Actor("teller")
CUSTOMERS = 300


@pytest.fixture
def settings(tmp_path: Path) -> NodeSettings:
    return load_settings(bank_id="BANKA", data_dir=tmp_path)


def chunk(prefix: str) -> list[dict[str, Any]]:
    """300 new customers, then rows the batch leaves to the row-by-row path: a customer twice, a self-custody
    key, a bad row."""
    rows: list[dict[str, Any]] = [{"customer_ref": f"{prefix}-{i}", "verification": "in_person"}
                                  for i in range(CUSTOMERS)]
    rows.append({"customer_ref": f"{prefix}-0", "verification": "in_person"})  # twice in the chunk: the same wallet
    rows.append({"customer_ref": f"{prefix}-self", "verification": "phone", "phone": "+15550100", "custody": "self",
                 "address": str(WalletKey.create().address)})
    rows.append({"customer_ref": f"{prefix}-bad", "verification": "passport"})
    return rows


def enrol(sessions: sessionmaker[Session], settings: NodeSettings, rows: list[dict[str, Any]], *,
          commit: bool = True) -> list[EnrolmentOutcome]:
    with sessions() as session, session.begin():
        outcomes = bulk.enrol(session, settings, None, rows, actor=TELLER)
        if not commit:  # the API process died before its transaction committed
            session.rollback()
    return outcomes


def count(sessions: sessionmaker[Session], model: type[Any]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_chunk_is_answered_row_by_row_and_written_once(sessions: sessionmaker[Session],
                                                         settings: NodeSettings) -> None:
    rows = chunk("C")
    lost = enrol(sessions, settings, rows, commit=False)
    assert len(lost) == len(rows) and count(sessions, WalletRecord) == count(sessions, OutboxRow) == 0

    first = enrol(sessions, settings, rows)
    assert [o.index for o in first] == list(range(len(rows)))
    assert [o.customer_ref for o in first] == [r["customer_ref"] for r in rows]
    shown = [o.shown for o in first]
    assert all(s is not None and s.created for s in shown[:CUSTOMERS])
    assert shown[CUSTOMERS] is not None and not shown[CUSTOMERS].created  # the repeated customer: its wallet
    assert shown[CUSTOMERS].wallet == shown[0].wallet  # type: ignore[union-attr]
    assert shown[CUSTOMERS + 1] is not None and shown[CUSTOMERS + 1].custody.value == "self"  # type: ignore[union-attr]
    assert shown[-1] is None and first[-1].error is not None and first[-1].error.field == "verification"
    wallets = {s.wallet for s in shown if s is not None}
    assert len(wallets) == CUSTOMERS + 1  # one wallet per customer
    assert count(sessions, WalletRecord) == count(sessions, OutboxRow) == count(sessions, Operation) == CUSTOMERS + 1

    with sessions() as session:  # what the batch wrote is what a row on its own writes
        record = session.scalars(select(WalletRecord).where(WalletRecord.customer_ref == "C-7")).one()
        op = session.scalars(select(Operation).where(Operation.wallet == record.address)).one()
        row = session.scalars(select(OutboxRow).where(OutboxRow.idempotency_key == f"{op.public_id}:open")).one()
    assert (record.state, record.tier, record.channel, record.enrolment_key) == (WalletState.PENDING, 1, "bulk",
                                                                                  "bulk:C-7")
    assert open_key(settings, record.key_ciphertext or "").address == record.address  # the bank holds its key
    assert (op.kind, op.status, op.channel) == (OperationKind.WALLET_OPEN, OperationStatus.PENDING, "teller")
    assert row.payload == {"wallet": record.address, "tier": 1, "operation": op.public_id}

    again = enrol(sessions, settings, rows)  # sent again (a client that lost the answer): nothing new
    assert [o.shown for o in again[:-1]] == [s and type(s)(s.wallet, s.operation_id, s.tier, s.custody, False)
                                             for s in shown[:-1]]
    assert count(sessions, OutboxRow) == CUSTOMERS + 1


def test_every_wallet_of_a_chunk_is_opened_on_chain_once(system: Any, sessions: sessionmaker[Session],
                                                         settings: NodeSettings) -> None:
    network = Network.from_web3(system.w3, system.deployment)
    start = network.block_number
    outcomes = enrol(sessions, settings, chunk("D"))
    wallets = sorted({o.shown.wallet for o in outcomes if o.shown is not None})
    writer = ChainWriter(sessions, network, system.banks["A"].operators[0],
                         WriterConfig(confirmations=0, poll_interval=0.02, backoff_initial=0.02))
    writer.run(until_idle=True)
    enrol(sessions, settings, chunk("D")[:CUSTOMERS])  # sent again after the openings: nothing to send
    writer.run(until_idle=True)

    opened = [e["wallet"] for e in iter_events(network, start + 1, None, ["WalletOpened"])]
    assert sorted(opened) == wallets  # each once
    assert {network.wallet(w).status for w in wallets[:5]} == {WalletStatus.ACTIVE}
    with transaction(sessions) as session:
        states = dict(session.execute(select(WalletRecord.state, func.count()).group_by(WalletRecord.state)).all())
        statuses = dict(session.execute(select(Operation.status, func.count()).group_by(Operation.status)).all())
    assert states == {WalletState.ACTIVE: CUSTOMERS + 1}
    assert statuses == {OperationStatus.COMPLETED: CUSTOMERS + 1}
