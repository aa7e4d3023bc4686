"""Concurrent sessions never overdraw an account nor double-post a reference.

Each worker thread has its own session and transaction. PostgreSQL serialises them on ``SELECT ... FOR
UPDATE`` of the account rows; SQLite on the write lock every transaction takes at ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from node_support import deposit_cash
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from node.ledger import Entry, InsufficientFundsError, SqlLedger
from node.ledger.models import JournalEntry

T = TypeVar("T")
WORKERS = 8


def _race(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``work(i)`` for i in range(count) on as many threads, released together by a barrier."""
    barrier = threading.Barrier(count)

    def run(i: int) -> T | BaseException:
        barrier.wait()
        try:
            return work(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_concurrent_debits_never_overdraw(sessions: sessionmaker[Session], ledger: SqlLedger) -> None:
    deposit_cash(ledger, "deposit:alice", 10_000, "in-1")
    ledger.session.commit()

    def debit(i: int) -> Entry:
        with sessions.begin() as session:
            return SqlLedger(session).debit("deposit:alice", 3_000, contra="vault", reference=f"atm-{i}")

    results = _race(WORKERS, debit)
    posted = [r for r in results if isinstance(r, Entry)]
    refused = [r for r in results if isinstance(r, InsufficientFundsError)]
    assert len(posted) == 3, results  # 3 x 3,000 fit in 10,000; the other five find 1,000 left
    assert len(refused) == WORKERS - 3, results
    assert all(r.available_minor == 1_000 for r in refused)
    ledger.session.expire_all()
    assert ledger.balance("deposit:alice").amount_minor == 1_000


def test_concurrent_holds_and_debits_never_overdraw(sessions: sessionmaker[Session], ledger: SqlLedger) -> None:
    deposit_cash(ledger, "deposit:alice", 10_000, "in-1")
    ledger.session.commit()

    def hold_or_debit(i: int) -> object:
        with sessions.begin() as session:
            book = SqlLedger(session)
            if i % 2:
                return book.hold("deposit:alice", 2_500, reference=f"hold-{i}")
            return book.debit("deposit:alice", 2_500, contra="vault", reference=f"debit-{i}")

    results = _race(WORKERS, hold_or_debit)
    succeeded = [r for r in results if not isinstance(r, BaseException)]
    assert len(succeeded) == 4, results
    assert all(isinstance(r, InsufficientFundsError) for r in results if isinstance(r, BaseException))
    ledger.session.expire_all()
    assert ledger.available("deposit:alice").amount_minor == 0
    assert ledger.balance("deposit:alice").amount_minor >= 0


def test_the_same_reference_posted_concurrently_books_once(sessions: sessionmaker[Session], ledger: SqlLedger) -> None:
    """Credits take no account lock: the unique reference decides, and the loser gets the winner's entry."""
    first_posted = threading.Event()

    def credit(i: int) -> int:
        with sessions.begin() as session:
            if i:
                first_posted.wait(10)
            entry = SqlLedger(session).credit("deposit:alice", 4_200, contra="vault", reference="atm-evt-7")
            if not i:
                first_posted.set()
                time.sleep(0.3)  # keep the first transaction open while the twin tries the same reference
            return entry.id

    results = _race(2, credit)
    assert results[0] == results[1] and isinstance(results[0], int), results
    ledger.session.expire_all()
    assert ledger.balance("deposit:alice").amount_minor == 4_200
    count = ledger.session.scalar(select(func.count()).select_from(JournalEntry)
                                  .where(JournalEntry.reference == "atm-evt-7"))
    assert count == 1
