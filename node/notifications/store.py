"""Writing notification rows: one statement for many, each made once (its (wallet, type, source) is unique), and
committed in the order of their ids.

Readers page through notifications by id (a stream's ``Last-Event-ID``, a subscription's cursor), so an id must
never become visible after a higher one did: on PostgreSQL two transactions that took ids 10 and 11 may commit 11
first, and a reader that saw 11 would then skip 10. Every writer therefore takes one transaction-level advisory
lock before it inserts (:data:`ORDER_LOCK`), held until its commit: the indexer's round and a request's notice
take turns, ids are handed out in the order they commit. SQLite has one writer at a time anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from node.db.base import utcnow
from node.notifications.models import Notification

__all__ = ["ORDER_LOCK", "insert_notifications"]

_INSERT_INTO: Final = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
ORDER_LOCK: Final = int.from_bytes(hashlib.sha256(b"walletnet:notifications").digest()[:8], "big") & (2**63 - 1)
"""The advisory lock (the one-bigint key space: the roles' leases use the two-integer one) notification writers
take in turn (see the module docstring)."""


def insert_notifications(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``rows`` (``wallet``, ``type``, ``params``, ``source``) in one ``INSERT ... ON CONFLICT DO NOTHING``,
    in ``session``'s transaction: a row whose (wallet, type, source) exists already is left out."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ORDER_LOCK})
    table: Table = Notification.__table__  # type: ignore[assignment]
    now = utcnow()
    statement = _INSERT_INTO[connection.dialect.name](table).on_conflict_do_nothing(
        index_elements=[table.c.wallet, table.c.type, table.c.source])
    connection.execute(statement, [{"created_at": now, "read_at": None, **row} for row in rows])
