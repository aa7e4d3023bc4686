"""Settlement statements, batch lists and the daily report over indexer rows, on SQLite and PostgreSQL.

The rows are inserted directly (as the indexer would have written them): merchant M1 with two batches,
partial refunds before and after the first, and an order still pending; merchant M2, whose rows share M1's
batch id and times, and must never show in M1's reads.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

from node.db import transaction
from node.errors import FlowNotFoundError, FlowValidationError
from node.indexer.models import ChainMerchant, MerchantOrder, MerchantRefund, SettlementBatchRecord
from node.merchants.statements import (
    DayRow,
    ReportRangeError,
    StatementMismatchError,
    StatementNotFoundError,
    batches,
    daily_report,
    statement,
)

CURRENCY = "DCASH"
PAYER = "0x" + "AB" * 20
OTHER_PAYER = "0x" + "CD" * 20
_seq = itertools.count(1)


def at(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2024, 3, day, hh, mm, ss, tzinfo=UTC)


def tx() -> str:
    return f"0x{next(_seq):064x}"


def merchant(merchant_id: str, fee_bps: int) -> ChainMerchant:
    return ChainMerchant(merchant_id=merchant_id, acquirer="BANKA", wallet="0x" + "11" * 20, fee_bps=fee_bps,
                         payout_mode="wallet", status="active", currency=CURRENCY, pending_gross_minor=1_234,
                         pending_refunds_minor=0, last_batch_id=2)


def order(merchant_id: str, order_id: str, amount: int, paid: datetime, batch: int | None,
          refunded: int = 0) -> MerchantOrder:
    return MerchantOrder(acquirer="BANKA", merchant_id=merchant_id, order_id=order_id, payer=PAYER, currency=CURRENCY,
                         paid_minor=amount, refunded_minor=refunded, paid_block=int(paid.timestamp()) // 10,
                         paid_time=paid, paid_tx_hash=tx(), paid_log_index=0,
                         last_refund_ref=None, batch_id=batch)


def refund(merchant_id: str, order_id: str, amount: int, total: int, ref: str, when: datetime,
           batch: int | None) -> MerchantRefund:
    return MerchantRefund(acquirer="BANKA", merchant_id=merchant_id, order_id=order_id, payer=PAYER, currency=CURRENCY,
                          amount_minor=amount, refunded_total_minor=total, ref=ref,
                          block_number=int(when.timestamp()) // 10, block_time=when, tx_hash=tx(), log_index=1,
                          batch_id=batch)


def batch(merchant_id: str, batch_id: int, gross: int, refunds: int, fee: int, when: datetime,
          ref: str) -> SettlementBatchRecord:
    return SettlementBatchRecord(merchant_id=merchant_id, batch_id=batch_id, acquirer="BANKA", currency=CURRENCY,
                                 gross_minor=gross, refunds_minor=refunds, fee_minor=fee,
                                 net_minor=gross - refunds - fee, payout_mode="bank_account", ref=ref,
                                 block_number=int(when.timestamp()) // 10, block_time=when, tx_hash=tx(),
                                 log_index=2)


# M1, fee 150 bps. Batch 1 (2024-03-02 00:05): A1 10_000 (23:59 on the 1st), A2 2_500, A3 4_000 (00:01 on the
# 2nd), A1 refunded 1_000 at 00:01:30 -> gross 16_500, refunds 1_000, fee floor(16_500 * 1.5%) = 247, net 15_253.
# Batch 2 (2024-03-03 23:59:59): A4 7_000, refunds of A3 500 and A1 2_000 (on the 2nd, after batch 1)
# -> gross 7_000, refunds 2_500, fee 105, net 4_395. A5 1_234 (the 4th) is pending.
B1_GROSS, B1_REFUNDS, B1_FEE, B1_NET = 16_500, 1_000, 247, 15_253
B2_GROSS, B2_REFUNDS, B2_FEE, B2_NET = 7_000, 2_500, 105, 4_395


@pytest.fixture
def sessions_with_rows(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with transaction(sessions) as s:
        s.add_all([
            merchant("M1", 150), merchant("M2", 200),
            order("M1", "A1", 10_000, at(1, 23, 59), 1, refunded=3_000),
            order("M1", "A2", 2_500, at(1, 10, 0), 1),
            order("M1", "A3", 4_000, at(2, 0, 1), 1, refunded=500),
            refund("M1", "A1", 1_000, 1_000, "RF-1", at(2, 0, 1, 30), 1),
            batch("M1", 1, B1_GROSS, B1_REFUNDS, B1_FEE, at(2, 0, 5), "SETTLE-1"),
            refund("M1", "A3", 500, 500, "RF-2", at(2, 12, 0), 2),
            refund("M1", "A1", 2_000, 3_000, "=HYPERLINK(1)", at(2, 13, 0), 2),
            order("M1", "A4", 7_000, at(3, 9, 0), 2),
            batch("M1", 2, B2_GROSS, B2_REFUNDS, B2_FEE, at(3, 23, 59, 59), "SETTLE-2"),
            order("M1", "A5", 1_234, at(4, 8, 0), None),
            # M2: same batch id, same days; batch 3 exists only for M2.
            order("M2", "A1", 99_999, at(1, 23, 59, 30), 1, refunded=11),
            refund("M2", "A1", 11, 11, "RF-1", at(2, 0, 2), 1),
            batch("M2", 1, 99_999, 11, 1_999, at(2, 0, 5), "SETTLE-1"),
            order("M2", "B2", 5_000, at(3, 1, 0), 3),
            batch("M2", 3, 5_000, 0, 100, at(3, 2, 0), "OTHER"),
        ])
    return sessions


def test_statement_lines_and_totals(sessions_with_rows: sessionmaker[Session]) -> None:
    with transaction(sessions_with_rows) as s:
        doc = statement(s, "M1", 1).to_json()
    assert json.loads(json.dumps(doc)) == doc  # JSON-ready as it is
    lines = doc.pop("lines")
    assert doc == {
        "merchant_id": "M1", "batch_id": 1, "currency": CURRENCY, "payout_mode": "bank_account", "ref": "SETTLE-1",
        "tx_hash": doc["tx_hash"], "block_number": int(at(2, 0, 5).timestamp()) // 10,
        "settled_at": "2024-03-02T00:05:00Z", "gross_minor": B1_GROSS, "refunds_minor": B1_REFUNDS,
        "fee_minor": B1_FEE, "net_minor": B1_NET, "payments_count": 3, "refunds_count": 1, "fee_bps": 150,
    }
    brief = [(x["type"], x["order_id"], x["ref"], x["time"], x["amount_minor"], x["signed_amount_minor"])
             for x in lines]
    assert brief == [
        ("payment", "A2", None, "2024-03-01T10:00:00Z", 2_500, 2_500),
        ("payment", "A1", None, "2024-03-01T23:59:00Z", 10_000, 10_000),
        ("payment", "A3", None, "2024-03-02T00:01:00Z", 4_000, 4_000),
        ("refund", "A1", "RF-1", "2024-03-02T00:01:30Z", 1_000, -1_000),
        ("fee", None, "SETTLE-1", "2024-03-02T00:05:00Z", B1_FEE, -B1_FEE),
        ("net", None, "SETTLE-1", "2024-03-02T00:05:00Z", B1_NET, B1_NET),
    ]
    assert {x["payer"] for x in lines[:4]} == {PAYER}
    assert all(isinstance(x["amount_minor"], int) for x in lines)
    assert sum(x["signed_amount_minor"] for x in lines[:-1]) == lines[-1]["amount_minor"] == B1_NET


def test_second_batch_has_refunds_of_orders_settled_before(sessions_with_rows: sessionmaker[Session]) -> None:
    with transaction(sessions_with_rows) as s:
        st = statement(s, "M1", 2)
    assert [(x.order_id, x.amount_minor) for x in st.payments] == [("A4", 7_000)]
    assert [(x.order_id, x.ref, x.amount_minor) for x in st.refunds] == [("A3", "RF-2", 500),
                                                                          ("A1", "=HYPERLINK(1)", 2_000)]
    assert (st.batch.gross_minor, st.batch.refunds_minor, st.batch.fee_minor, st.batch.net_minor) == (
        B2_GROSS, B2_REFUNDS, B2_FEE, B2_NET)
    assert st.batch.settled_at == "2024-03-03T23:59:59Z"


@pytest.mark.parametrize("batch_id, net", [(1, B1_NET), (2, B2_NET)])
def test_csv_sums_to_net(sessions_with_rows: sessionmaker[Session], batch_id: int, net: int) -> None:
    with transaction(sessions_with_rows) as s:
        st = statement(s, "M1", batch_id)
    rows = list(csv.DictReader(io.StringIO(st.to_csv(), newline="")))
    assert [r["type"] for r in rows][-2:] == ["fee", "total"]
    assert len(rows) == len(st.lines)
    # a spreadsheet SUM of the whole signed column (the total row's cell is empty) is the net
    assert sum(int(r["signed_amount_minor"]) for r in rows if r["signed_amount_minor"]) == net
    assert rows[-1]["signed_amount_minor"] == ""
    assert int(rows[-1]["amount_minor"]) == net
    assert {r["batch_id"] for r in rows} == {str(batch_id)} and {r["currency"] for r in rows} == {CURRENCY}
    assert sum(int(r["amount_minor"]) for r in rows if r["type"] == "payment") == st.batch.gross_minor
    assert sum(int(r["amount_minor"]) for r in rows if r["type"] == "refund") == st.batch.refunds_minor


def test_csv_quotes_and_defuses_formulas(sessions_with_rows: sessionmaker[Session]) -> None:
    with transaction(sessions_with_rows) as s:
        st = statement(s, "M1", 2)
    body = st.to_csv()
    assert body.startswith("batch_id,currency,type,order_id,ref,payer,time,tx_hash,amount_minor,"
                           "signed_amount_minor\r\n")
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    refunds = [r for r in rows if r["type"] == "refund"]
    assert [r["ref"] for r in refunds] == ["RF-2", "'=HYPERLINK(1)"]
    assert refunds[1]["time"] == "2024-03-02T13:00:00Z"


def test_other_merchant_never_shows(sessions_with_rows: sessionmaker[Session]) -> None:
    with transaction(sessions_with_rows) as s:
        mine = statement(s, "M1", 1)
        theirs = statement(s, "M2", 1)
        with pytest.raises(StatementNotFoundError) as caught:
            statement(s, "M1", 3)
        listed = batches(s, "M1")
    assert {x.payer for x in mine.lines if x.payer} == {PAYER}
    assert [x.amount_minor for x in mine.payments] == [2_500, 10_000, 4_000]
    assert [x.amount_minor for x in theirs.payments] == [99_999]
    assert (theirs.batch.fee_minor, theirs.batch.fee_bps) == (1_999, 200)  # each merchant's own rate
    assert isinstance(caught.value, LookupError) and isinstance(caught.value, FlowNotFoundError)
    assert caught.value.extra == {"merchant_id": "M1", "batch_id": 3}
    assert [b.batch_id for b in listed] == [2, 1]
    assert all(b.merchant_id == "M1" for b in listed)


def test_unknown_batch_and_unknown_merchant(sessions_with_rows: sessionmaker[Session]) -> None:
    with transaction(sessions_with_rows) as s:
        with pytest.raises(StatementNotFoundError):
            statement(s, "M1", 99)
        with pytest.raises(StatementNotFoundError):
            statement(s, "NOBODY", 1)
        assert batches(s, "NOBODY") == []


@pytest.mark.parametrize("tamper, expected", [
    (update(MerchantOrder).where(MerchantOrder.merchant_id == "M1", MerchantOrder.order_id == "A2")
     .values(paid_minor=2_501), {"gross_minor": {"expected": B1_GROSS, "actual": B1_GROSS + 1}}),
    (update(MerchantOrder).where(MerchantOrder.merchant_id == "M1", MerchantOrder.order_id == "A3")
     .values(batch_id=None), {"gross_minor": {"expected": B1_GROSS, "actual": B1_GROSS - 4_000}}),
    (update(MerchantRefund).where(MerchantRefund.merchant_id == "M1", MerchantRefund.ref == "RF-1")
     .values(amount_minor=999), {"refunds_minor": {"expected": B1_REFUNDS, "actual": 999}}),
    (update(SettlementBatchRecord).where(SettlementBatchRecord.merchant_id == "M1", SettlementBatchRecord.batch_id == 1)
     .values(net_minor=B1_NET - 1), {"net_minor": {"expected": B1_NET - 1, "actual": B1_NET}}),
    (update(MerchantOrder).where(MerchantOrder.merchant_id == "M1", MerchantOrder.order_id == "A1")
     .values(currency="OTHER"), {"currency": {"expected": CURRENCY, "actual": "OTHER"}}),
], ids=["order-amount", "order-unbatched", "refund-amount", "batch-net", "currency"])
def test_tampered_rows_raise(sessions_with_rows: sessionmaker[Session], tamper: Any,
                             expected: dict[str, Any]) -> None:
    with transaction(sessions_with_rows) as s:
        s.execute(tamper)
    with transaction(sessions_with_rows) as s:
        with pytest.raises(StatementMismatchError) as caught:
            statement(s, "M1", 1)
        assert statement(s, "M1", 2).batch.net_minor == B2_NET  # the other batch is still served
    assert caught.value.mismatches == expected
    assert (caught.value.merchant_id, caught.value.batch_id, caught.value.problem) == ("M1", 1, "internal")
    assert caught.value.extra["mismatches"] == expected


def test_batches_pages_newest_first(sessions_with_rows: sessionmaker[Session]) -> None:
    with transaction(sessions_with_rows) as s:
        all_ = batches(s, "M1")
        first = batches(s, "M1", limit=1)
        rest = batches(s, "M1", limit=1, before_batch=first[-1].batch_id)
        none_left = batches(s, "M1", before_batch=1)
        with pytest.raises(FlowValidationError):
            batches(s, "M1", limit=0)
    assert [(b.batch_id, b.payments_count, b.refunds_count, b.net_minor, b.fee_bps) for b in all_] == [
        (2, 1, 2, B2_NET, 150), (1, 3, 1, B1_NET, 150)]
    assert [b.batch_id for b in first] == [2]
    assert [b.batch_id for b in rest] == [1]
    assert none_left == []
    assert all_[1].settled_at == "2024-03-02T00:05:00Z"


def test_fee_bps_only_when_it_reproduces_the_fee(sessions_with_rows: sessionmaker[Session]) -> None:
    with transaction(sessions_with_rows) as s:
        s.execute(update(ChainMerchant).where(ChainMerchant.merchant_id == "M1").values(fee_bps=100))
    with transaction(sessions_with_rows) as s:
        assert [b.fee_bps for b in batches(s, "M1")] == [None, None]  # 1% would be 70 and 165, not 105 and 247
        assert statement(s, "M1", 1).to_json()["fee_bps"] is None


def test_daily_report_splits_utc_days(sessions_with_rows: sessionmaker[Session], backend: str) -> None:
    with transaction(sessions_with_rows) as s:
        if backend == "postgresql":  # a session zone far from UTC must not move a row to another day
            s.execute(text("SET TIME ZONE 'Pacific/Kiritimati'"))
        rows = daily_report(s, "M1", start=date(2024, 3, 1), end=date(2024, 3, 10))
        one_day = daily_report(s, "M1", start=date(2024, 3, 2), end=date(2024, 3, 2))
        empty = daily_report(s, "M1", start=date(2024, 2, 1), end=date(2024, 2, 29))
    assert rows == [
        DayRow(date(2024, 3, 1), payments_count=2, payments_minor=12_500),  # A2 10:00 and A1 23:59
        DayRow(date(2024, 3, 2), payments_count=1, payments_minor=4_000,  # A3 at 00:01
               refunds_count=3, refunds_minor=3_500, batches_count=1, fees_minor=B1_FEE, net_settled_minor=B1_NET),
        DayRow(date(2024, 3, 3), payments_count=1, payments_minor=7_000,
               batches_count=1, fees_minor=B2_FEE, net_settled_minor=B2_NET),  # settled at 23:59:59
        DayRow(date(2024, 3, 4), payments_count=1, payments_minor=1_234),  # pending, not settled yet
    ]
    assert one_day == [rows[1]]
    assert empty == []
    assert rows[0].to_json()["day"] == "2024-03-01"


def test_daily_report_range_bounds(sessions_with_rows: sessionmaker[Session]) -> None:
    with transaction(sessions_with_rows) as s:
        assert daily_report(s, "M1", start=date(2023, 3, 5), end=date(2024, 3, 4))[-1].day == date(2024, 3, 4)
        for start, end in [(date(2024, 3, 2), date(2024, 3, 1)), (date(2023, 3, 4), date(2024, 3, 4))]:
            with pytest.raises(ReportRangeError) as caught:
                daily_report(s, "M1", start=start, end=end)
            assert isinstance(caught.value, ValueError)
        with pytest.raises(ReportRangeError):
            daily_report(s, "M1", start=datetime(2024, 3, 1, tzinfo=UTC), end=date(2024, 3, 2))
        assert daily_report(s, "M2", start=date(2024, 3, 1), end=date(2024, 3, 3)) == [
            DayRow(date(2024, 3, 1), payments_count=1, payments_minor=99_999),
            DayRow(date(2024, 3, 2), refunds_count=1, refunds_minor=11, batches_count=1, fees_minor=1_999,
                   net_settled_minor=99_999 - 11 - 1_999),
            DayRow(date(2024, 3, 3), payments_count=1, payments_minor=5_000, batches_count=1, fees_minor=100,
                   net_settled_minor=4_900),
        ]
