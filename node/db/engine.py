"""Engines and sessions, the same code for SQLite and PostgreSQL.

SQLite: Python's sqlite3 module starts transactions lazily and on its own terms; we switch that off and
begin every transaction with ``BEGIN IMMEDIATE``, which takes SQLite's single write lock up front. Two
sessions therefore never interleave read-then-write (the SQLite counterpart of PostgreSQL's
``SELECT ... FOR UPDATE``, which the SQLite dialect leaves out), and a waiting session blocks for up to
``busy_timeout`` rather than failing. Read-only sessions (``session_factory(engine, read_only=True)``) begin
``DEFERRED`` instead and, thanks to WAL journaling, read a consistent snapshot while a writer works. Sessions of
:mod:`node.db.durable` (``WORK_SAVEPOINT_OPTION``) also set a savepoint right after ``BEGIN IMMEDIATE``, so that
their work can be undone without giving up the write lock.
Foreign keys are switched on for every connection.

Within one process, writers to one SQLite file take turns on a Python lock before ``BEGIN IMMEDIATE`` and give
it back when their transaction ends: SQLite's own busy handler makes a waiting writer sleep (up to 100 ms a
time) and lets whoever polls first in, so under load (a bank's API, writer and indexer in one process) writers
starved and requests failed as "database is locked" after ``busy_timeout``. The Python lock hands over at once.
Between processes on the same file (a bank's API and its node), a writer asks for SQLite's lock every 0.3 ms
(the node's background work every 2 ms) instead of sleeping in the busy handler (:func:`_begin_immediate_polled`).

PostgreSQL (psycopg 3): the default READ COMMITTED isolation; code that must not race takes row locks
with ``with_for_update()``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, event, make_url
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["SQLITE_BUSY_TIMEOUT_S", "WORK_SAVEPOINT", "WORK_SAVEPOINT_OPTION", "create_engine", "is_sqlite",
           "reads_of", "session_factory", "transaction"]

SQLITE_BUSY_TIMEOUT_S = 30.0
LOCK_POLL_S = 0.0003  # how often a request's writer asks for a SQLite file's write lock another process holds
BACKGROUND_LOCK_POLL_S = 0.002  # how often the node's background work (writer, indexer, jobs) asks
BACKGROUND_OPTION = "walletnet_background"
"""Sessions of the node's background work (``session_factory(..., background=True)``): on SQLite they ask for the
lock less often than requests, so that a request waiting with them gets the lock first."""
SQLITE_POOL_SIZE = 20
SQLITE_POOL_OVERFLOW = 100
READ_ONLY_OPTION = "walletnet_read_only"
WORK_SAVEPOINT_OPTION = "walletnet_work_savepoint"
WORK_SAVEPOINT = "walletnet_work"
"""The savepoint a SQLite transaction of a ``WORK_SAVEPOINT_OPTION`` session starts with; ``connection.info``
says whether the current transaction has it (the key is this name)."""


_WRITE_LOCKS: dict[str, threading.Lock] = {}  # SQLite file -> this process's writers' turn
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(database: str) -> threading.Lock:
    key = str(Path(database).expanduser().resolve()) if database and database != ":memory:" else database
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.Lock())


class _TurnTakingConnection(sqlite3.Connection):
    """A SQLite connection that holds its file's process-wide write lock (``write_lock``) from ``BEGIN
    IMMEDIATE`` until its transaction commits or rolls back (any thread may end it: a web framework may begin a
    request's transaction in one worker thread and commit it in another)."""

    write_lock: threading.Lock | None = None
    holds_turn = False
    polls_for_lock = False  # a file other processes may write too: BEGIN IMMEDIATE by _begin_immediate_polled

    def take_turn(self) -> None:
        if self.write_lock is None or self.holds_turn:
            return
        if not self.write_lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_S):
            raise sqlite3.OperationalError("database is locked")  # what SQLite says after busy_timeout
        self.holds_turn = True

    def end_turn(self) -> None:
        if self.holds_turn:
            self.holds_turn = False
            assert self.write_lock is not None
            self.write_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_turn()


def _begin_immediate_polled(dbapi: sqlite3.Connection, poll: float) -> None:
    """``BEGIN IMMEDIATE``, asking for the write lock every ``poll`` seconds rather than in SQLite's busy handler.

    Between processes on one file (a bank's API and its node) the handler is the only queue there is, and it
    is unfair and slow: a waiter sleeps 1, 2, 5, 10, 15, 20, 25 ... up to 100 ms between tries, so after a
    20 ms transaction of the other process it slept until 33 ms, and a writer that came back at once often took
    the lock again first (the node's writer waited seconds for a turn while the API admitted payments).
    Asking every fraction of a millisecond takes the lock soon after its release; a failed try costs a few
    microseconds. Requests ask more often than the node's background work (``LOCK_POLL_S``,
    ``BACKGROUND_LOCK_POLL_S``): when both wait, the request goes first, and the background work gets the
    lock whenever no request wants it. The busy timeout is off only while asking.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    dbapi.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                dbapi.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    raise
            time.sleep(poll)
    finally:
        dbapi.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")


def is_sqlite(url_or_engine: str | URL | Engine) -> bool:
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(url_or_engine)
    return url.get_backend_name() == "sqlite"


def _normalise(url: str | URL) -> URL:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy's default would be psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine(url: str | URL, *, echo: bool = False, **kwargs: Any) -> Engine:
    """An engine for ``url`` set up as described in the module docstring.

    For a SQLite file the parent folder is created if missing.
    """
    parsed = _normalise(url)
    if parsed.get_backend_name() != "sqlite":
        return sa_create_engine(parsed, echo=echo, pool_pre_ping=True, **kwargs)

    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S, "factory": _TurnTakingConnection,
                    **kwargs.pop("connect_args", {})}
    if database and database != ":memory:":
        # One connection per thread that may use it at once (the API's worker threads, the node's): a waiting
        # writer holds its connection while it waits for its turn, and a request also reads through a second
        # one (its key, its idempotency record), so a pool the size of the default (5 + 10) ran dry under load
        # and requests queued for a connection behind writers queued for the lock. A SQLite connection is cheap.
        kwargs.setdefault("pool_size", SQLITE_POOL_SIZE)
        kwargs.setdefault("max_overflow", SQLITE_POOL_OVERFLOW)
    engine = sa_create_engine(parsed, echo=echo, connect_args=connect_args, **kwargs)
    write_lock = _write_lock(database)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see "begin" below)
        if isinstance(dbapi_connection, _TurnTakingConnection):
            dbapi_connection.write_lock = write_lock
            dbapi_connection.polls_for_lock = bool(database) and database != ":memory:"
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA recursive_triggers = ON")  # REPLACE's implicit deletes fire delete guards
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            if database and database != ":memory:":
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = FULL")  # a committed posting survives a power cut
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        read_only = options.get(READ_ONLY_OPTION, False)
        if not read_only:
            dbapi = connection.connection.dbapi_connection
            if isinstance(dbapi, _TurnTakingConnection):
                dbapi.take_turn()
        try:
            if read_only:
                connection.exec_driver_sql("BEGIN DEFERRED")
            elif isinstance(dbapi, _TurnTakingConnection) and dbapi.polls_for_lock:
                _begin_immediate_polled(dbapi, BACKGROUND_LOCK_POLL_S if options.get(BACKGROUND_OPTION, False)
                                        else LOCK_POLL_S)
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if not read_only and isinstance(dbapi, _TurnTakingConnection):
                dbapi.end_turn()
            raise
        work = bool(options.get(WORK_SAVEPOINT_OPTION, False)) and not read_only
        if work:
            connection.exec_driver_sql(f"SAVEPOINT {WORK_SAVEPOINT}")
        connection.info[WORK_SAVEPOINT] = work

    return engine


def session_factory(engine: Engine, *, read_only: bool = False, background: bool = False) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (``expire_on_commit=False``).

    ``read_only=True`` sessions are for reports and API reads: on SQLite they begin ``DEFERRED`` and so neither
    wait for nor hold up writers; on PostgreSQL their transactions are ``READ ONLY`` (a write fails). Do not
    write through one on SQLite either: its snapshot may be stale, and the write would fail as locked.
    ``background=True``: the node's background work (see ``BACKGROUND_OPTION``).
    """
    if not read_only:
        bind = engine.execution_options(**{BACKGROUND_OPTION: True}) if background else engine
        return sessionmaker(bind, expire_on_commit=False)
    options: dict[str, Any] = {READ_ONLY_OPTION: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return sessionmaker(engine.execution_options(**options), expire_on_commit=False)


def reads_of(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Read-only sessions on ``factory``'s engine: for a background job's look for work, so a job with nothing
    to do does not take SQLite's write lock from the requests (each job's round would otherwise begin
    ``BEGIN IMMEDIATE``, and the jobs run after every round of the writer)."""
    bind = factory.kw["bind"]
    return session_factory(bind if isinstance(bind, Engine) else bind.engine, read_only=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits when the block ends normally, rolls back (and re-raises) otherwise."""
    with factory.begin() as session:
        yield session
