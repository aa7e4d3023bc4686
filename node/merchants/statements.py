"""A merchant's settlement statements and daily report, read from the indexer's tables (what the chain says).

Read-only: nothing here writes. Every query is scoped to one merchant id; another merchant's rows never show.

A statement is one settlement batch and what it settled: the indexer gives each order and refund the id of
the batch that took it (a batch settles everything pending), so the lines are the rows with that batch id.
Before a statement is served it is checked to the cent against the batch's own totals (from the chain's
MerchantSettled event): the payments sum to ``gross_minor``, the refunds to ``refunds_minor``, and
``refunds + fee + net == gross``. A database that disagrees (corrupt, or restored half-indexed) raises
:class:`StatementMismatchError` rather than serving a statement that does not add up.

CSV layout (:meth:`Statement.to_csv`), one header row then one row per line::

    batch_id,currency,type,order_id,ref,payer,time,tx_hash,amount_minor,signed_amount_minor

- ``type`` is ``payment`` (one per order settled), ``refund`` (one per refund), ``fee`` (one), then a final
  ``total`` row, which is the statement's net line.
- ``amount_minor`` is the line's amount, always >= 0; on the ``total`` row it is ``net_minor``.
- ``signed_amount_minor`` is the line's effect on the payout: payments positive, refunds and the fee
  negative, and *empty* on the ``total`` row. So a spreadsheet ``SUM`` of the whole signed column is the net,
  equal to the total row's ``amount_minor``.
- ``time`` is ISO 8601 UTC (``...Z``): when paid, refunded, or (fee and total) when the batch settled.
- ``order_id`` and ``ref`` are text the merchant chose; one that starts with ``= + - @`` or a tab or carriage
  return is written with a leading ``'`` so a spreadsheet shows it instead of running it as a formula.

A line is the SDK's :class:`~wallet_sdk.client.merchants.StatementLine` (one definition for the server and its
clients: the JSON served is its fields).

The daily report aggregates in Python over ``(time, amount)`` pairs fetched for the range: grouping a
timestamp by day is spelled differently on SQLite and PostgreSQL, and the rows are UTC-aware datetimes here,
so the calendar day is the UTC one on both.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.errors import FlowError, FlowNotFoundError, FlowValidationError
from node.indexer.models import ChainMerchant, MerchantOrder, MerchantRefund, SettlementBatchRecord
from wallet_sdk.client.merchants import Batch, StatementLine

__all__ = [
    "CSV_COLUMNS",
    "MAX_BATCHES_PAGE",
    "MAX_REPORT_DAYS",
    "DayRow",
    "LineType",
    "ReportRangeError",
    "Statement",
    "StatementLine",
    "StatementMismatchError",
    "StatementNotFoundError",
    "batches",
    "daily_report",
    "statement",
]

MAX_REPORT_DAYS = 366
MAX_BATCHES_PAGE = 500
CSV_COLUMNS = ("batch_id", "currency", "type", "order_id", "ref", "payer", "time", "tx_hash", "amount_minor",
               "signed_amount_minor")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# ------------------------------------------------------------------ errors


class StatementNotFoundError(FlowNotFoundError, LookupError):
    """The merchant has no settlement batch with that id (the API answers 404)."""


class StatementMismatchError(FlowError):
    """The batch's lines do not add up to its totals: the database is corrupt or half-indexed.

    ``mismatches`` maps each failed check to ``{"expected": ..., "actual": ...}`` (``gross_minor``: the
    batch's gross against the sum of its payments; ``refunds_minor``: against the sum of its refunds;
    ``net_minor``: the batch's net against gross - refunds - fee; ``currency``: the batch's currency against
    other currencies among its lines).
    """

    problem = "internal"
    status = 500
    public = True  # the merchant and its bank see which totals disagree

    def __init__(self, merchant_id: str, batch_id: int, mismatches: dict[str, dict[str, Any]]) -> None:
        self.merchant_id = merchant_id
        self.batch_id = batch_id
        self.mismatches = mismatches
        parts = ", ".join(f"{k}: expected {v['expected']}, lines give {v['actual']}" for k, v in mismatches.items())
        super().__init__(f"statement of batch {batch_id} of merchant {merchant_id} does not add up ({parts})",
                         merchant_id=merchant_id, batch_id=batch_id, mismatches=mismatches)


class ReportRangeError(FlowValidationError, ValueError):
    """The report's date range is reversed or longer than :data:`MAX_REPORT_DAYS` days."""


# ------------------------------------------------------------------ values


class LineType(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    FEE = "fee"
    NET = "net"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _line(kind: LineType, moment: datetime, amount_minor: int, signed_amount_minor: int, tx_hash: str, *,
          order_id: str | None = None, ref: str | None = None, payer: str | None = None) -> StatementLine:
    """A line of type ``kind`` at ``moment`` (``amount_minor`` >= 0 as the chain says it; ``signed_amount_minor``
    its effect on the payout: payments +, refunds and fee -, and the net line carries the net itself)."""
    return StatementLine(type=kind.value, order_id=order_id, ref=ref, payer=payer, time=_iso(moment),
                         tx_hash=tx_hash, amount_minor=amount_minor, signed_amount_minor=signed_amount_minor)


@dataclass(frozen=True)
class Statement:
    """A batch and its lines, in order: payments (as paid), refunds (as refunded), the fee, the net."""

    batch: Batch
    lines: tuple[StatementLine, ...] = field(default=())

    @property
    def payments(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if line.type == LineType.PAYMENT)

    @property
    def refunds(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if line.type == LineType.REFUND)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self.batch), "lines": [asdict(line) for line in self.lines]}

    def to_csv(self) -> str:
        """The statement as CSV (layout in the module docstring), ``\\r\\n`` line ends as RFC 4180 says."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for line in self.lines:
            total = line.type == LineType.NET
            writer.writerow([
                self.batch.batch_id, self.batch.currency, "total" if total else line.type,
                _cell(line.order_id), _cell(line.ref), line.payer or "", line.time, line.tx_hash,
                line.amount_minor, "" if total else line.signed_amount_minor,
            ])
        return out.getvalue()


def _cell(text: str | None) -> str:
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_START) else text


@dataclass(frozen=True)
class DayRow:
    """A UTC calendar day's activity of one merchant (minor units): payments and refunds by the time their
    block was mined, and the fees and net of the batches settled that day."""

    day: date
    payments_count: int = 0
    payments_minor: int = 0
    refunds_count: int = 0
    refunds_minor: int = 0
    batches_count: int = 0
    fees_minor: int = 0
    net_settled_minor: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "payments_count": self.payments_count,
                "payments_minor": self.payments_minor, "refunds_count": self.refunds_count,
                "refunds_minor": self.refunds_minor, "batches_count": self.batches_count,
                "fees_minor": self.fees_minor, "net_settled_minor": self.net_settled_minor}


# ------------------------------------------------------------------ reads


def _fee_bps(session: Session, merchant_id: str) -> int | None:
    return session.scalars(select(ChainMerchant.fee_bps).where(ChainMerchant.merchant_id == merchant_id)).first()


def _rate_if_consistent(bps: int | None, row: SettlementBatchRecord) -> int | None:
    if bps is None:
        return None
    fee = min(row.gross_minor * bps // 10_000, row.gross_minor - row.refunds_minor)
    return bps if fee == row.fee_minor else None


def _summary(row: SettlementBatchRecord, *, payments: int, refunds: int, bps: int | None) -> Batch:
    """The batch as the API serves it: the SDK's :class:`~wallet_sdk.client.merchants.Batch` (``settled_at`` ISO
    8601 UTC; ``fee_bps`` the merchant's current rate if it reproduces this batch's fee, else None: the chain
    event does not carry the rate, and it may have changed since)."""
    return Batch(
        merchant_id=row.merchant_id, batch_id=row.batch_id, currency=row.currency, payout_mode=row.payout_mode,
        ref=row.ref, tx_hash=row.tx_hash, block_number=row.block_number, settled_at=_iso(row.block_time),
        gross_minor=row.gross_minor, refunds_minor=row.refunds_minor, fee_minor=row.fee_minor,
        net_minor=row.net_minor, payments_count=payments, refunds_count=refunds,
        fee_bps=_rate_if_consistent(bps, row))


def statement(session: Session, merchant_id: str, batch_id: int) -> Statement:
    """The statement of ``merchant_id``'s batch ``batch_id``, checked to the cent.

    Raises:
        StatementNotFoundError: the merchant has no such batch (indexed).
        StatementMismatchError: the lines do not add up to the batch's totals.
    """
    row = session.scalars(select(SettlementBatchRecord).where(
        SettlementBatchRecord.merchant_id == merchant_id, SettlementBatchRecord.batch_id == batch_id)).one_or_none()
    if row is None:
        raise StatementNotFoundError(f"merchant {merchant_id} has no settlement batch {batch_id}",
                                     merchant_id=merchant_id, batch_id=batch_id)
    orders = session.scalars(select(MerchantOrder).where(
        MerchantOrder.merchant_id == merchant_id, MerchantOrder.batch_id == batch_id,
    ).order_by(MerchantOrder.paid_block, MerchantOrder.paid_log_index)).all()
    refunds = session.scalars(select(MerchantRefund).where(
        MerchantRefund.merchant_id == merchant_id, MerchantRefund.batch_id == batch_id,
    ).order_by(MerchantRefund.block_number, MerchantRefund.log_index)).all()

    lines = [_line(LineType.PAYMENT, o.paid_time, o.paid_minor, o.paid_minor, o.paid_tx_hash,
                   order_id=o.order_id, payer=o.payer) for o in orders]
    lines += [_line(LineType.REFUND, r.block_time, r.amount_minor, -r.amount_minor, r.tx_hash,
                    order_id=r.order_id, ref=r.ref, payer=r.payer) for r in refunds]
    lines.append(_line(LineType.FEE, row.block_time, row.fee_minor, -row.fee_minor, row.tx_hash, ref=row.ref))
    lines.append(_line(LineType.NET, row.block_time, row.net_minor, row.net_minor, row.tx_hash, ref=row.ref))

    checks = {
        "gross_minor": (row.gross_minor, sum(o.paid_minor for o in orders)),
        "refunds_minor": (row.refunds_minor, sum(r.amount_minor for r in refunds)),
        "net_minor": (row.net_minor, row.gross_minor - row.refunds_minor - row.fee_minor),
    }
    mismatches: dict[str, dict[str, Any]] = {
        name: {"expected": want, "actual": got} for name, (want, got) in checks.items() if want != got}
    foreign = sorted(({o.currency for o in orders} | {r.currency for r in refunds}) - {row.currency})
    if foreign:  # one currency per deployment: another one means rows from somewhere else
        mismatches["currency"] = {"expected": row.currency, "actual": ",".join(foreign)}
    if mismatches:
        raise StatementMismatchError(merchant_id, batch_id, mismatches)
    summary = _summary(row, payments=len(orders), refunds=len(refunds), bps=_fee_bps(session, merchant_id))
    return Statement(summary, tuple(lines))


def _counts(session: Session, model: type[MerchantOrder] | type[MerchantRefund], merchant_id: str,
            batch_ids: list[int]) -> dict[int, int]:
    if not batch_ids:
        return {}
    rows = session.execute(select(model.batch_id, func.count()).where(
        model.merchant_id == merchant_id, model.batch_id.in_(batch_ids)).group_by(model.batch_id)).all()
    return {int(b): int(n) for b, n in rows if b is not None}


def batches(session: Session, merchant_id: str, *, limit: int = 50,
            before_batch: int | None = None) -> list[Batch]:
    """The merchant's settlement batches, newest (highest batch id) first; ``before_batch`` pages on (batches
    with a lower id). Not checked to the cent: :func:`statement` does that for one batch.

    Raises:
        FlowValidationError: ``limit`` is not within 1..MAX_BATCHES_PAGE.
    """
    if not 1 <= limit <= MAX_BATCHES_PAGE:
        raise FlowValidationError("limit", f"limit must be 1..{MAX_BATCHES_PAGE}, not {limit}")
    query = select(SettlementBatchRecord).where(SettlementBatchRecord.merchant_id == merchant_id)
    if before_batch is not None:
        query = query.where(SettlementBatchRecord.batch_id < before_batch)
    rows = session.scalars(query.order_by(SettlementBatchRecord.batch_id.desc()).limit(limit)).all()
    ids = [r.batch_id for r in rows]
    payments = _counts(session, MerchantOrder, merchant_id, ids)
    refunds = _counts(session, MerchantRefund, merchant_id, ids)
    bps = _fee_bps(session, merchant_id) if rows else None
    return [_summary(r, payments=payments.get(r.batch_id, 0), refunds=refunds.get(r.batch_id, 0), bps=bps)
            for r in rows]


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def daily_report(session: Session, merchant_id: str, *, start: date, end: date) -> list[DayRow]:
    """The merchant's activity per UTC calendar day from ``start`` to ``end`` (both included), oldest first.

    Only days with activity (a payment, a refund or a settlement) have a row; a day without any is left out,
    not given a row of zeros.

    Raises:
        ReportRangeError: ``end`` is before ``start``, the range spans more than MAX_REPORT_DAYS days, or a
            bound is a datetime rather than a date.
    """
    for name, bound in (("start", start), ("end", end)):
        if isinstance(bound, datetime) or not isinstance(bound, date):
            raise ReportRangeError(name, f"{name} must be a calendar date, not {bound!r}")
    if end < start:
        raise ReportRangeError("end", f"end {end} is before start {start}", start=start.isoformat(),
                               end=end.isoformat())
    days = (end - start).days + 1
    if days > MAX_REPORT_DAYS:
        raise ReportRangeError("end", f"the range spans {days} days; at most {MAX_REPORT_DAYS}",
                               start=start.isoformat(), end=end.isoformat())
    since, until = _utc_midnight(start), _utc_midnight(end + timedelta(days=1))

    totals: dict[date, dict[str, int]] = {}

    def add(pairs: Iterable[Any], count: str | None, amount: str) -> None:  # (block time, amount) rows
        for moment, value in pairs:
            day = totals.setdefault(moment.astimezone(UTC).date(), {})
            if count is not None:
                day[count] = day.get(count, 0) + 1
            day[amount] = day.get(amount, 0) + value

    add(session.execute(select(MerchantOrder.paid_time, MerchantOrder.paid_minor).where(
        MerchantOrder.merchant_id == merchant_id, MerchantOrder.paid_time >= since,
        MerchantOrder.paid_time < until)).all(), "payments_count", "payments_minor")
    add(session.execute(select(MerchantRefund.block_time, MerchantRefund.amount_minor).where(
        MerchantRefund.merchant_id == merchant_id, MerchantRefund.block_time >= since,
        MerchantRefund.block_time < until)).all(), "refunds_count", "refunds_minor")
    settled = session.execute(select(SettlementBatchRecord.block_time, SettlementBatchRecord.fee_minor,
                                     SettlementBatchRecord.net_minor).where(
        SettlementBatchRecord.merchant_id == merchant_id, SettlementBatchRecord.block_time >= since,
        SettlementBatchRecord.block_time < until)).all()
    add(((t, fee) for t, fee, _ in settled), "batches_count", "fees_minor")
    add(((t, net) for t, _, net in settled), None, "net_settled_minor")
    return [DayRow(day=day, **values) for day, values in sorted(totals.items())]
