"""How the bank's node is doing, read from its database (and the chain's head): what ``/metrics`` exports at scrape
time (node/metrics.py) and ``/v1/health/ready`` judges (api/routes/health.py).

Read from the database rather than counted in a process, so that every process (any API worker, any node
process) shows the bank-wide truth. Each reading is a cheap aggregate over an index: operations and outbox rows
not final yet (their counts and the oldest one's age), the writer's transactions in flight, the indexer's
checkpoint, the newest reconciliation's result, who holds each background role (``node_roles``). Final rows
(which grow without end) are never counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.confirmations import confirmed_head
from node.db.base import utcnow
from node.indexer.models import IndexerCheckpoint
from node.indexer.service import CHECKPOINT_NAME
from node.operations.models import IN_FLIGHT, Operation, OperationKind, OperationStatus
from node.outbox import OutboxRow, OutboxState
from node.reconcile.runs import ReconciliationRun, last_run
from node.roles import Role, RoleHolder, role_holders
from node.writer.models import ChainTransaction, ChainTxState
from wallet_sdk.chain.network import Network

__all__ = ["OUTBOX_WAITING", "DatabaseVitals", "IndexerLag", "Queue", "indexer_lag", "read_database"]

OUTBOX_WAITING: Final = (OutboxState.RECEIVED, OutboxState.SUBMITTED)


@dataclass(frozen=True)
class Queue:
    """Rows waiting in one state: how many, and how long the oldest has waited (seconds; None when empty)."""

    depth: int
    oldest_age: float | None


@dataclass(frozen=True)
class Checkpoint:
    """The indexer's checkpoint: its block, that block's time (Unix seconds), and when the indexer last moved it."""

    block: int
    block_time: int | None
    whole_block: bool
    updated_at: datetime


@dataclass(frozen=True)
class DatabaseVitals:
    operations: dict[tuple[str, str], int]  # (kind, status) -> operations not final yet
    outbox: dict[str, Queue]  # received, submitted
    transactions: Queue  # the writer's pending chain transactions (signed, not final)
    checkpoint: Checkpoint | None
    reconciliation: ReconciliationRun | None
    roles: dict[Role, RoleHolder | None]  # who holds each background role (node/roles), as last recorded


def _age(now: datetime, since: datetime | None) -> float | None:
    return None if since is None else max((now - since).total_seconds(), 0.0)


def _outbox_queue(session: Session, state: OutboxState, now: datetime) -> Queue:
    depth = session.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.state == state))
    oldest = session.scalar(select(OutboxRow.created_at).where(OutboxRow.state == state)
                            .order_by(OutboxRow.id).limit(1))
    return Queue(int(depth or 0), _age(now, oldest))


def _transactions(session: Session, now: datetime) -> Queue:
    pending = ChainTransaction.state == ChainTxState.PENDING
    depth = session.scalar(select(func.count()).select_from(ChainTransaction).where(pending))
    oldest = session.scalar(select(func.min(ChainTransaction.created_at)).where(pending))
    return Queue(int(depth or 0), _age(now, oldest))


def _operations(session: Session) -> dict[tuple[str, str], int]:
    """Operations not final, by kind and status: every kind is named, so the (kind, status) index is searched, not
    scanned."""
    rows = session.execute(select(Operation.kind, Operation.status, func.count())
                           .where(Operation.kind.in_(list(OperationKind)), Operation.status.in_(IN_FLIGHT))
                           .group_by(Operation.kind, Operation.status))
    return {(OperationKind(kind).value, OperationStatus(status).value): int(count) for kind, status, count in rows}


def _checkpoint(session: Session) -> Checkpoint | None:
    row = session.scalars(select(IndexerCheckpoint).where(IndexerCheckpoint.name == CHECKPOINT_NAME)).one_or_none()
    if row is None:
        return None
    return Checkpoint(row.block_number, row.block_time, row.log_index is None, row.updated_at)


def read_database(session: Session, *, now: datetime | None = None) -> DatabaseVitals:
    """Every database reading, in ``session`` (one snapshot where the database gives one)."""
    now = now or utcnow()
    return DatabaseVitals(operations=_operations(session),
                          outbox={state.value: _outbox_queue(session, state, now) for state in OUTBOX_WAITING},
                          transactions=_transactions(session, now), checkpoint=_checkpoint(session),
                          reconciliation=last_run(session), roles=role_holders(session))


@dataclass(frozen=True)
class IndexerLag:
    """How far the indexer's checkpoint is behind the newest block with enough confirmations: blocks, and the
    seconds of chain time between the two blocks (0 when caught up, whatever the wall clock says)."""

    head: int
    blocks: int
    seconds: float


def indexer_lag(checkpoint: Checkpoint | None, network: Callable[[], Network], confirmations: int) -> IndexerLag:
    """The lag of ``checkpoint`` on the chain of ``network`` (one JSON-RPC call, two when behind). A missing
    checkpoint is behind by the whole chain."""
    w3 = network().w3
    target = max(confirmed_head(int(w3.eth.block_number), confirmations), 0)
    done = -1 if checkpoint is None else checkpoint.block - (0 if checkpoint.whole_block else 1)
    blocks = max(target - done, 0)
    if blocks == 0:
        return IndexerLag(target, 0, 0.0)
    target_time = int(w3.eth.get_block(target)["timestamp"])
    since = checkpoint.block_time if checkpoint is not None and checkpoint.block_time is not None else None
    if since is None:
        since = int(w3.eth.get_block(max(done, 0))["timestamp"])
    return IndexerLag(target, blocks, float(max(target_time - since, 0)))
