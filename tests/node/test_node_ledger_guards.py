"""The database itself keeps the books balanced: raw SQL behind the ORM's back is refused.

SQLite: triggers on the entry's ``posted`` flip and on postings. PostgreSQL: the same guards plus a
deferred constraint trigger that re-checks every touched entry at commit.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from node.ledger import SqlLedger

UNBALANCED = "ledger_unbalanced_entry"
IMMUTABLE = "ledger_posted_entry_immutable"


def _account_id(connection: Connection, code: str) -> int:
    return int(connection.execute(text("SELECT id FROM ledger_accounts WHERE code = :c"), {"c": code}).scalar_one())


def _insert_entry(connection: Connection, reference: str, *, posted: bool = False) -> int:
    connection.execute(
        text("INSERT INTO ledger_entries (reference, memo, fingerprint, posted, created_at) "
             "VALUES (:r, '', 'raw', :p, CURRENT_TIMESTAMP)"),
        {"r": reference, "p": posted},
    )
    return int(connection.execute(text("SELECT id FROM ledger_entries WHERE reference = :r"),
                                  {"r": reference}).scalar_one())


def _insert_posting(connection: Connection, entry_id: int, code: str, amount_minor: int) -> None:
    connection.execute(
        text("INSERT INTO ledger_postings (entry_id, account_id, currency, amount_minor) "
             "VALUES (:e, :a, 'DCASH', :m)"),
        {"e": entry_id, "a": _account_id(connection, code), "m": amount_minor},
    )


def _post(connection: Connection, entry_id: int) -> None:
    connection.execute(text("UPDATE ledger_entries SET posted = :t, posted_at = CURRENT_TIMESTAMP WHERE id = :e"),
                       {"t": True, "e": entry_id})


def _refused(engine: Engine, token: str, statement: Callable[[Connection], object]) -> None:
    with pytest.raises(IntegrityError, match=token), engine.begin() as connection:
        statement(connection)


@pytest.mark.parametrize("amounts", [(100, -99), (100,), (100, -100, 1)], ids=["off-by-one", "one-leg", "three-legs"])
def test_posting_an_unbalanced_entry_written_with_raw_sql_is_refused(
    engine: Engine, ledger: SqlLedger, amounts: tuple[int, ...]
) -> None:
    codes = ["vault", "deposit:alice", "deposit:bob"]

    def unbalanced(connection: Connection) -> None:
        entry = _insert_entry(connection, "raw-1")
        for code, amount in zip(codes, amounts, strict=False):
            _insert_posting(connection, entry, code, amount)
        _post(connection, entry)

    _refused(engine, UNBALANCED, unbalanced)
    assert ledger.balance("vault").amount_minor == 0
    assert ledger.entry("raw-1") is None


def test_an_entry_cannot_be_inserted_already_posted(engine: Engine, ledger: SqlLedger) -> None:
    _refused(engine, "ledger_entry_inserted_posted", lambda c: _insert_entry(c, "raw-posted", posted=True))


def test_a_balanced_entry_written_with_raw_sql_posts_and_counts(engine: Engine, ledger: SqlLedger) -> None:
    with engine.begin() as connection:
        entry = _insert_entry(connection, "raw-ok")
        _insert_posting(connection, entry, "vault", 700)
        _insert_posting(connection, entry, "deposit:alice", -700)
        _post(connection, entry)
    ledger.session.expire_all()
    assert ledger.balance("deposit:alice").amount_minor == 700


def test_a_posted_entry_and_its_postings_never_change(engine: Engine, ledger: SqlLedger) -> None:
    posted = ledger.credit("deposit:alice", 1_000, contra="vault", reference="in-1")
    ledger.session.commit()
    entry_id = posted.id

    def posting_ids(connection: Connection) -> list[int]:
        rows = connection.execute(text("SELECT id FROM ledger_postings WHERE entry_id = :e ORDER BY id"),
                                  {"e": entry_id})
        return [int(r[0]) for r in rows]

    with engine.connect() as connection:
        first_posting = posting_ids(connection)[0]
        connection.rollback()

    _refused(engine, IMMUTABLE, lambda c: c.execute(
        text("UPDATE ledger_postings SET amount_minor = amount_minor * 2 WHERE entry_id = :e"), {"e": entry_id}))
    _refused(engine, IMMUTABLE, lambda c: c.execute(
        text("DELETE FROM ledger_postings WHERE id = :p"), {"p": first_posting}))
    _refused(engine, IMMUTABLE, lambda c: _insert_posting(c, entry_id, "deposit:bob", 5))
    _refused(engine, IMMUTABLE, lambda c: c.execute(
        text("UPDATE ledger_entries SET memo = 'edited' WHERE id = :e"), {"e": entry_id}))
    _refused(engine, IMMUTABLE, lambda c: c.execute(
        text("UPDATE ledger_entries SET posted = :f WHERE id = :e"), {"f": False, "e": entry_id}))
    _refused(engine, IMMUTABLE, lambda c: c.execute(text("DELETE FROM ledger_entries WHERE id = :e"),
                                                    {"e": entry_id}))
    _refused(engine, IMMUTABLE, lambda c: c.execute(text("DELETE FROM ledger_postings")))

    # an upsert that would silently replace a posting row
    def replace(connection: Connection) -> None:
        draft = _insert_entry(connection, "raw-draft")
        account = _account_id(connection, "deposit:alice")
        if connection.dialect.name == "sqlite":
            sql = ("INSERT OR REPLACE INTO ledger_postings (id, entry_id, account_id, currency, amount_minor) "
                   "VALUES (:p, :d, :a, 'DCASH', -999999)")
        else:
            sql = ("INSERT INTO ledger_postings (id, entry_id, account_id, currency, amount_minor) "
                   "VALUES (:p, :d, :a, 'DCASH', -999999) ON CONFLICT (id) DO UPDATE SET amount_minor = -999999")
        connection.execute(text(sql), {"p": first_posting, "d": draft, "a": account})

    _refused(engine, IMMUTABLE, replace)
    if engine.dialect.name == "postgresql":
        _refused(engine, IMMUTABLE, lambda c: c.execute(text("TRUNCATE ledger_postings, ledger_entries CASCADE")))

    ledger.session.expire_all()
    assert ledger.balance("deposit:alice").amount_minor == 1_000
    assert ledger.balance("vault").amount_minor == 1_000


def test_an_unposted_unbalanced_draft_never_reaches_the_books(engine: Engine, ledger: SqlLedger) -> None:
    def draft(connection: Connection) -> None:
        entry = _insert_entry(connection, "raw-draft")
        _insert_posting(connection, entry, "deposit:alice", -5_000)

    if engine.dialect.name == "postgresql":
        # hordak-style: the deferred constraint trigger checks the sum when the transaction commits
        _refused(engine, UNBALANCED, draft)
    else:
        # SQLite has no deferred triggers: the draft may be stored, but unposted it counts for nothing, and it
        # can never be posted
        with engine.begin() as connection:
            draft(connection)
        with engine.begin() as connection:
            entry = int(connection.execute(text("SELECT id FROM ledger_entries WHERE reference = 'raw-draft'"))
                        .scalar_one())
        _refused(engine, UNBALANCED, lambda c: _post(c, entry))
    ledger.session.expire_all()
    assert ledger.balance("deposit:alice").amount_minor == 0
    assert ledger.entry("raw-draft") is None
