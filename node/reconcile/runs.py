"""The last reconciliations' results, kept so that ``/metrics`` shows the newest one's differences by kind.

``walletnet node reconcile`` (node/reconcile/service.py, :func:`~node.reconcile.service.reconcile_node`) records
each run it finishes: when, at which blocks, how many differences of each kind. The report itself (subjects,
values) is printed, not stored; the row is what monitoring needs to alert on "the last run found differences"
and "no run for a day". Older rows are pruned, so the table stays small.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Final

from sqlalchemy import BigInteger, Boolean, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from node.db.base import Base, IdType, JsonType, UTCDateTime, utcnow
from node.reconcile.report import ReconciliationReport

__all__ = ["KEPT_RUNS", "ReconciliationRun", "last_run", "record_run"]

KEPT_RUNS: Final = 100


class ReconciliationRun(Base):
    __tablename__ = "reconciliation_runs"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    bank: Mapped[str] = mapped_column(String(16))
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    chain_block: Mapped[int] = mapped_column(BigInteger)
    indexer_block: Mapped[int | None] = mapped_column(BigInteger)
    ok: Mapped[bool] = mapped_column(Boolean)
    differences: Mapped[int] = mapped_column(Integer)
    by_kind: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)  # difference kind -> how many


def record_run(session: Session, report: ReconciliationReport, *, now: datetime | None = None) -> ReconciliationRun:
    """Keep ``report``'s result (in the caller's transaction) and drop runs older than the newest
    :data:`KEPT_RUNS`."""
    counts = Counter(d.kind.value for d in report.differences)
    run = ReconciliationRun(bank=report.bank, finished_at=now or utcnow(), chain_block=report.chain_block,
                            indexer_block=report.indexer_block, ok=report.ok, differences=len(report.differences),
                            by_kind=dict(counts))
    session.add(run)
    session.flush()
    session.execute(delete(ReconciliationRun).where(ReconciliationRun.id <= run.id - KEPT_RUNS))
    return run


def last_run(session: Session) -> ReconciliationRun | None:
    """The newest recorded run, if any."""
    return session.scalars(select(ReconciliationRun).order_by(ReconciliationRun.id.desc()).limit(1)).one_or_none()
