"""The lock that makes one process of a bank the active holder of a role; the others wait as standbys.

- **PostgreSQL**: a session-level advisory lock (``pg_try_advisory_lock``) on a connection of its own, held for
  as long as the role is. When the holder dies (SIGKILL, a lost machine), its connection closes and PostgreSQL
  lets the lock go: at once for a killed process, within a few seconds for a cut network (TCP keepalives on both
  ends of that connection). A standby tries the lock every ``poll`` seconds, so it takes the role over within
  about a second of the lock's release. The holder checks its connection every second and gives the role up the
  moment the check fails, so two processes never both believe they hold it for longer than that second (and the
  writer's conditional moves of outbox rows make even that second harmless: a row is signed by one writer only).
- **SQLite file**: an exclusive ``flock`` on a file beside the database (``<db>.<role>.lock``), which the kernel
  drops with the process. Two nodes on one SQLite file is a development set-up, but it stays safe.
- **SQLite in memory** (tests): a lock in this process, since no other process can open that database.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Final, Protocol

from sqlalchemy import Connection, Engine, NullPool, text
from sqlalchemy.exc import DBAPIError

from node.db import create_engine
from node.roles.models import Role

__all__ = ["AdvisoryLease", "FileLease", "Lease", "LocalLease", "advisory_key", "lease_for"]

log = logging.getLogger("walletnet.roles")

# the holder's connection notices a dead server, and the server a dead holder, within about 2 + 1 x 2 seconds
_KEEPALIVE: Final = {"keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1, "keepalives_count": 2,
                     "connect_timeout": 3}
_SERVER_KEEPALIVE: Final = ("SET tcp_keepalives_idle = 2", "SET tcp_keepalives_interval = 1",
                            "SET tcp_keepalives_count = 2", "SET statement_timeout = '3s'")
_ROLE_NUMBER: Final = {Role.WRITER: 1, Role.INDEXER: 2, Role.JOBS: 3}


class Lease(Protocol):
    """One role's lock, as one process sees it."""

    role: Role

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True if this process holds it now."""

    def still_held(self) -> bool:
        """Whether the lock is still this process's (False once it is lost; :meth:`release` is then due)."""

    def release(self) -> None:
        """Let the lock go (nothing if not held)."""


def advisory_key(bank_id: str, role: Role) -> tuple[int, int]:
    """The two 32-bit keys of the role's advisory lock: the bank (so banks may share a server) and the role."""
    bank = int.from_bytes(hashlib.sha256(f"walletnet:{bank_id}".encode()).digest()[:4], "big") & 0x7FFF_FFFF
    return bank, _ROLE_NUMBER[role]


class AdvisoryLease:
    """A PostgreSQL advisory lock held on a connection of its own (see the module docstring)."""

    def __init__(self, engine: Engine, bank_id: str, role: Role) -> None:
        self.role = role
        self._keys = advisory_key(bank_id, role)
        self._engine = create_engine(engine.url, poolclass=NullPool, connect_args=dict(_KEEPALIVE))
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        if self._connection is not None:
            return True
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            for statement in _SERVER_KEEPALIVE:
                connection.execute(text(statement))
            got = connection.scalar(text("SELECT pg_try_advisory_lock(:bank, :role)"),
                                    {"bank": self._keys[0], "role": self._keys[1]})
        except BaseException:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def still_held(self) -> bool:
        if self._connection is None:
            return False
        try:
            held = self._connection.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND granted AND classid = :bank AND objid = :role AND objsubid = 2"),
                {"bank": self._keys[0], "role": self._keys[1]})
        except DBAPIError as exc:
            log.error("the %s role's lock connection failed (%s): giving the role up", self.role, exc)
            return False
        return bool(held)

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(DBAPIError):
                connection.close()  # the session ends, and its lock with it

    def close(self) -> None:
        self.release()
        self._engine.dispose()


class FileLease:
    """An exclusive ``flock`` on ``<database file>.<role>.lock``."""

    def __init__(self, database: Path, role: Role) -> None:
        self.role = role
        self.path = database.with_name(f"{database.name}.{role}.lock")
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the lock

    def close(self) -> None:
        self.release()


_LOCAL_LOCKS: dict[tuple[str, Role], threading.Lock] = {}
_LOCAL_LOCKS_GUARD = threading.Lock()


class LocalLease:
    """A lock of this process, for a database no other process can open (SQLite in memory)."""

    def __init__(self, name: str, role: Role) -> None:
        self.role = role
        with _LOCAL_LOCKS_GUARD:
            self._lock = _LOCAL_LOCKS.setdefault((name, role), threading.Lock())
        self._held = False

    def try_acquire(self) -> bool:
        if not self._held:
            self._held = self._lock.acquire(blocking=False)
        return self._held

    def still_held(self) -> bool:
        return self._held

    def release(self) -> None:
        if self._held:
            self._held = False
            self._lock.release()

    def close(self) -> None:
        self.release()


def lease_for(engine: Engine, bank_id: str, role: Role) -> AdvisoryLease | FileLease | LocalLease:
    """The lease of ``role`` for the bank whose database is ``engine``'s."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLease(engine, bank_id, role)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        return FileLease(Path(database).resolve(), role)
    return LocalLease(f"{engine.url}#{id(engine)}", role)
