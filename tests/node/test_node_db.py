"""Migrations and the engine set-up, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import BigInteger, Engine, Numeric, inspect, text
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError
from typer.testing import CliRunner

import node.db.engine
from node.db import alembic_config, create_engine, current_revision, head_revision, session_factory, upgrade
from node.db.engine import SQLITE_BUSY_TIMEOUT_S
from node.tables import metadata
from tools.cli import app

LEDGER_TABLES = {"ledger_accounts", "ledger_entries", "ledger_postings", "ledger_holds"}
ALL_TABLES = LEDGER_TABLES | {"outbox", "idempotency_keys"}


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        return list(compare_metadata(context, metadata))


def _triggers(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            rows = connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
        return {row[0] for row in rows}


def test_upgrade_from_nothing_creates_every_table_at_head(empty_db_url: str) -> None:
    assert current_revision(empty_db_url) is None
    upgrade(empty_db_url)
    engine = create_engine(empty_db_url)
    try:
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) >= ALL_TABLES
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    engine = create_engine(empty_db_url)
    try:
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == head_revision()


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    engine = create_engine(empty_db_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection=connection), "base")
        assert not ALL_TABLES & set(inspect(engine).get_table_names())
        assert not _triggers(engine)
        upgrade(engine)
        assert _diff(engine) == []
        assert _triggers(engine)
    finally:
        engine.dispose()


def test_the_ledger_guards_are_installed(engine: Engine) -> None:
    names = _triggers(engine)
    if engine.dialect.name == "sqlite":
        assert {"ledger_entries_post_balanced", "ledger_entries_insert_unposted", "ledger_postings_no_update",
                "ledger_postings_posted_no_delete", "ledger_postings_insert_unposted_only"} <= names
    else:
        assert {"ledger_postings_balanced", "ledger_entries_guard", "ledger_postings_guard"} <= names
        with engine.connect() as connection:
            deferred: bool = connection.execute(text(
                "SELECT tgdeferrable AND tginitdeferred FROM pg_trigger WHERE tgname = 'ledger_postings_balanced'"
            )).scalar_one()
        assert deferred is True


def test_money_columns_are_64_bit_integers_with_a_currency_beside(engine: Engine) -> None:
    inspector = inspect(engine)
    for name in ("ledger_postings", "ledger_holds"):
        columns = {c["name"]: c["type"] for c in inspector.get_columns(name)}
        assert isinstance(columns["amount_minor"], BigInteger), (name, columns["amount_minor"])
        assert "currency" in columns
    for table in metadata.tables.values():  # nowhere a float or a decimal
        for column in table.columns:
            assert not isinstance(column.type, Numeric), (table.name, column.name)


def test_engine_settings(engine: Engine) -> None:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert connection.exec_driver_sql("PRAGMA recursive_triggers").scalar_one() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        else:
            assert engine.dialect.driver == "psycopg"
            assert connection.exec_driver_sql("SHOW transaction_isolation").scalar_one() == "read committed"


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO ledger_holds (reference, account_id, currency, amount_minor, state, memo, created_at) "
            "VALUES ('h', 999, 'DCASH', 5, 'active', '', CURRENT_TIMESTAMP)"
        ))


def test_read_only_sessions_read_while_a_writer_works(engine: Engine) -> None:
    writers = session_factory(engine)
    readers = session_factory(engine, read_only=True)
    with writers() as writer:
        writer.execute(text("INSERT INTO ledger_accounts (code, kind, currency, name, created_at) "
                            "VALUES ('vault', 'vault_cash', 'DCASH', '', CURRENT_TIMESTAMP)"))
        with readers() as reader:  # not blocked by the open write transaction, and sees only committed rows
            assert reader.execute(text("SELECT count(*) FROM ledger_accounts")).scalar_one() == 0
        writer.commit()
    with readers() as reader:
        assert reader.execute(text("SELECT count(*) FROM ledger_accounts")).scalar_one() == 1
        if engine.dialect.name == "postgresql":
            with pytest.raises(InternalError, match="read-only transaction"):
                reader.execute(text("DELETE FROM ledger_accounts"))


def test_walletnet_db_upgrade_and_current(empty_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("WALLETNET_"):
            monkeypatch.delenv(name)
    config = tmp_path / "node.toml"
    config.write_text(f'bank_id = "BANKB"\ndb_url = "{empty_db_url}"\n')
    monkeypatch.setenv("WALLETNET_CONFIG", str(config))
    runner = CliRunner()

    behind = runner.invoke(app, ["db", "current"])
    assert behind.exit_code == 1, behind.output
    assert "revision none" in behind.output

    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"at revision {head_revision()}" in upgraded.output

    current = runner.invoke(app, ["db", "current", "--db-url", empty_db_url])
    assert current.exit_code == 0, current.output
    assert "up to date" in current.output

    refused = runner.invoke(app, ["db", "upgrade", "--db-url", "mysql://x/y"])
    assert refused.exit_code == 2


def test_0007_widens_the_enum_checks_and_its_downgrade_narrows_them(empty_db_url: str) -> None:
    """Operation and account kinds are CHECK-constrained VARCHARs: 0007 lets the merchant kinds in (on SQLite by
    copying the table) and still refuses anything else; going back to 0006 refuses them again."""
    insert_op = text("INSERT INTO operations (public_id, kind, status, channel, details, created_at, updated_at) "
                     "VALUES (:p, :k, 'pending', 'admin', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    insert_account = text("INSERT INTO ledger_accounts (code, kind, currency, name, created_at) "
                          "VALUES (:c, :k, 'DCASH', 'x', CURRENT_TIMESTAMP)")
    upgrade(empty_db_url)
    engine = create_engine(empty_db_url)
    try:
        with engine.begin() as connection:
            connection.execute(insert_op, {"p": "op_1", "k": "settlement"})
            connection.execute(insert_account, {"c": "fees:wallet", "k": "digital_cash"})
        for statement, values in ((insert_op, {"p": "op_2", "k": "bogus"}), (insert_account, {"c": "x", "k": "bogus"})):
            with pytest.raises(IntegrityError), engine.begin() as connection:
                connection.execute(statement, values)
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM operations"))
            connection.execute(text("DELETE FROM ledger_accounts"))
            command.downgrade(alembic_config(connection=connection), "0006")
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(insert_op, {"p": "op_3", "k": "settlement"})
        with engine.begin() as connection:
            connection.execute(insert_op, {"p": "op_4", "k": "p2p"})
            connection.execute(text("DELETE FROM operations"))
        upgrade(engine)
        assert _diff(engine) == []
    finally:
        engine.dispose()


def _held_by_another_process(path: Path, seconds: float) -> threading.Thread:
    """SQLite's write lock on ``path`` held for ``seconds`` by a connection outside this process's engines (the
    way a bank's node holds it while its API waits)."""
    started = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        started.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    started.wait()
    return thread


def test_a_writer_waits_for_the_lock_another_process_holds(tmp_path: Path) -> None:
    path = tmp_path / "node.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    holder = _held_by_another_process(path, 0.3)
    start = time.monotonic()
    with engine.begin() as connection:  # waits for the lock, however long the other holds it (< busy timeout)
        waited = time.monotonic() - start
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == SQLITE_BUSY_TIMEOUT_S * 1000
    holder.join()
    assert waited >= 0.25  # it waited for the release (how soon after it is a bench figure, not a test's)
    engine.dispose()


def test_a_writer_that_cannot_get_the_lock_within_the_busy_timeout_fails_as_locked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "node.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    monkeypatch.setattr(node.db.engine, "SQLITE_BUSY_TIMEOUT_S", 0.1)
    holder = _held_by_another_process(path, 0.5)
    with pytest.raises(OperationalError, match="database is locked"), engine.begin():
        pass
    holder.join()
    with engine.begin() as connection:  # the turn was given back: the next writer proceeds
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 100
    engine.dispose()


def test_0019_copies_each_operations_nonce_into_its_column(empty_db_url: str) -> None:
    """Operations made before 0019 kept their authorization's nonce in ``details`` only: the upgrade copies it
    into ``auth_nonce`` (which the admission's look-ups read), and leaves operations without one NULL."""
    insert_op = text("INSERT INTO operations (public_id, kind, status, channel, wallet, details, created_at, "
                     "updated_at) VALUES (:p, :k, 'completed', 'app', '0xabc', :d, CURRENT_TIMESTAMP, "
                     "CURRENT_TIMESTAMP)")
    upgrade(empty_db_url, "0018")
    engine = create_engine(empty_db_url)
    try:
        with engine.begin() as connection:
            connection.execute(insert_op, {"p": "op_1", "k": "p2p", "d": '{"nonce": "123", "signed_by": "customer"}'})
            connection.execute(insert_op, {"p": "op_2", "k": "redemption", "d": '{"nonce": "0x' + "ab" * 32 + '"}'})
            connection.execute(insert_op, {"p": "op_3", "k": "topup", "d": '{"ledger": "builtin"}'})
        upgrade(engine)
        with engine.connect() as connection:
            found = dict(connection.execute(text("SELECT public_id, auth_nonce FROM operations")).all())
        assert found == {"op_1": "123", "op_2": "0x" + "ab" * 32, "op_3": None}
    finally:
        engine.dispose()
