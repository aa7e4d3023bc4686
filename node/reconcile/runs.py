"""The record of reconciliation runs: where the next incremental run starts, and what ``/metrics`` shows.

Every run is recorded (its mode, the chain block and indexer block it compared at, when its database snapshot
began, how many differences it found and of which kinds). An incremental run starts from the last run of the
bank that found none: a difference stays in every report until a run comes out clean, however little is
touched meanwhile. Monitoring alerts on the newest run's differences and on no run for a day. The newest
:data:`KEPT_RUNS` runs are kept, and the last clean one whatever its age.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import BigInteger, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from node.db.base import Base, IdType, JsonType, UTCDateTime, str_enum, utcnow

__all__ = ["CHANGE_MARGIN", "KEPT_RUNS", "ReconciliationMode", "ReconciliationRun", "Since", "last_clean", "last_run",
           "prune_runs"]

KEPT_RUNS: Final = 100

CHANGE_MARGIN: Final = timedelta(minutes=5)
"""How far before the last clean run's snapshot an incremental run looks for changed rows: a row's
``updated_at`` is set before its transaction commits, so one committed just after that snapshot may carry an
earlier time. No node transaction lasts this long."""


class ReconciliationMode(StrEnum):
    FULL = "full"  # every wallet, ref and outbox row
    INCREMENTAL = "incremental"  # what changed since the last clean run


class ReconciliationRun(Base):
    __tablename__ = "reconciliation_runs"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    bank_id: Mapped[str] = mapped_column(String(66), index=True)  # as the indexer keeps bank ids
    mode: Mapped[ReconciliationMode] = mapped_column(str_enum(ReconciliationMode, "reconciliation_mode"))
    chain_block: Mapped[int] = mapped_column(BigInteger)
    indexer_block: Mapped[int | None] = mapped_column(BigInteger)  # None: the indexer part was not compared
    snapshot_at: Mapped[datetime] = mapped_column(UTCDateTime())  # just before the database snapshot began
    differences: Mapped[int] = mapped_column(Integer)
    by_kind: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)  # difference kind -> how many
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def ok(self) -> bool:
        return self.differences == 0


@dataclass(frozen=True)
class Since:
    """Where an incremental run starts: the last clean run's blocks, and the time after which a row counts as
    changed (its snapshot less :data:`CHANGE_MARGIN`)."""

    chain_block: int
    indexer_block: int
    changed_after: datetime


def last_clean(session: Session, bank: str, margin: timedelta = CHANGE_MARGIN) -> Since | None:
    """The start of an incremental run of ``bank``: None if no run of it compared the indexer and came out clean
    (the run is then a full one). ``margin``: how far before that run's snapshot a change counts."""
    run = session.scalars(_clean_runs(bank)).first()
    if run is None or run.indexer_block is None:
        return None
    return Since(run.chain_block, run.indexer_block, run.snapshot_at - margin)


def _clean_runs(bank: str) -> Any:
    return select(ReconciliationRun).where(
        ReconciliationRun.bank_id == bank, ReconciliationRun.differences == 0,
        ReconciliationRun.indexer_block.is_not(None)).order_by(ReconciliationRun.id.desc()).limit(1)


def last_run(session: Session) -> ReconciliationRun | None:
    """The newest recorded run, if any."""
    return session.scalars(select(ReconciliationRun).order_by(ReconciliationRun.id.desc()).limit(1)).one_or_none()


def prune_runs(session: Session, newest: ReconciliationRun) -> None:
    """Drop the runs older than the newest :data:`KEPT_RUNS`, except the bank's last clean one."""
    clean = session.scalars(_clean_runs(newest.bank_id)).first()
    keep = [clean.id] if clean is not None else []
    session.execute(delete(ReconciliationRun).where(ReconciliationRun.id <= newest.id - KEPT_RUNS,
                                                    ReconciliationRun.id.not_in(keep)))
