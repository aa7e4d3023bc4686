"""Writes that outlive a failed unit of work: a wrong TOTP code is counted although the request it came with
fails and rolls back, and it is counted before any other request can try a code for the same wallet.

:func:`keep` commits such a write (a function of a session) in a transaction of its own, while the caller's
transaction still holds the locks that serialise it, so that nobody acts on the state before the write:

- **PostgreSQL**: the write runs at once on a connection of its own (from a small engine without a pool, so a
  crowd of requests waiting for the caller's locks cannot starve it of a connection) and commits before
  :func:`keep` returns. The caller's locks must be on other rows than the write changes, or it would wait for
  itself.
- **SQLite**: one connection writes at a time and the caller's session is it (``BEGIN IMMEDIATE``), so nothing
  can commit beside it. The write is queued on the session, and the session's owner, :func:`unit_of_work`,
  applies it when the work ends: a failed work is undone back to the savepoint its transaction began with
  (:data:`node.db.engine.WORK_SAVEPOINT`), the write runs in the same transaction, and that commits. The write
  lock is never given up in between. The session must come from :func:`work_sessions` and be ended by
  :func:`unit_of_work`; :func:`keep` refuses any other (a queued write would be lost).

A write must read what it needs itself: after a failed work the objects the work loaded are gone.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from node.db.engine import WORK_SAVEPOINT, WORK_SAVEPOINT_OPTION, create_engine, is_sqlite, session_factory

__all__ = ["DurableWrite", "keep", "unit_of_work", "work_sessions"]

DurableWrite = Callable[[Session], None]

_KEPT: Final = "walletnet_kept_writes"  # session.info: the writes queued on a SQLite session
_OWNED: Final = "walletnet_unit_of_work"  # session.info: ended by unit_of_work
_SIDE_ENGINES: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def work_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose SQLite transactions begin with the work savepoint (see the module docstring)."""
    return session_factory(engine.execution_options(**{WORK_SAVEPOINT_OPTION: True}))


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work in one transaction: committed when the block ends normally, rolled back when it raises
    (and the error re-raised), except for the writes given to :func:`keep`, which are committed either way."""
    with factory() as session:
        session.info[_OWNED] = True
        session.begin()
        try:
            yield session
        except BaseException:
            _end_failed(session)
            raise
        for write in session.info.pop(_KEPT, []):
            write(session)
        session.commit()


def keep(session: Session, write: DurableWrite) -> None:
    """Commit ``write`` whatever becomes of ``session``'s transaction, before another writer can see the state
    it changes (see the module docstring for how, per database).

    Raises:
        RuntimeError: a SQLite session that :func:`unit_of_work` does not own, or that did not begin with the
            work savepoint (:func:`work_sessions`).
    """
    bind = session.get_bind()
    if not isinstance(bind, Engine):  # pragma: no cover - the node binds sessions to engines only
        raise RuntimeError(f"cannot keep a write of a session bound to {type(bind).__name__}")
    if not is_sqlite(bind):
        with Session(_side_engine(bind)) as own, own.begin():
            write(own)
        return
    if not session.info.get(_OWNED) or not session.connection().info.get(WORK_SAVEPOINT):
        raise RuntimeError("a durable write on SQLite needs a session of node.db.durable.work_sessions ended by "
                           "unit_of_work")
    session.info.setdefault(_KEPT, []).append(write)


def _end_failed(session: Session) -> None:
    kept: list[DurableWrite] = session.info.pop(_KEPT, [])
    if not kept:
        session.rollback()
        return
    if session.is_active and not session.in_nested_transaction():
        session.connection().exec_driver_sql(f"ROLLBACK TO SAVEPOINT {WORK_SAVEPOINT}")
        session.expunge_all()  # what the work loaded or wrote is undone
    else:  # the session cannot go on (a failed flush): the lock is given up, the writes still made durable
        session.rollback()
        session.begin()
    for write in kept:
        write(session)
    session.commit()


def _side_engine(engine: Engine) -> Engine:
    side = _SIDE_ENGINES.get(engine)
    if side is None:
        side = create_engine(engine.url, poolclass=NullPool)
        _SIDE_ENGINES[engine] = side
    return side
