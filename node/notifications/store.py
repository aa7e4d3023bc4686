"""Writing notification rows: one statement for many, each made once (its (wallet, type, source) is unique)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from node.db.base import utcnow
from node.notifications.models import Notification

__all__ = ["insert_notifications"]

_INSERT_INTO: Final = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def insert_notifications(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``rows`` (``wallet``, ``type``, ``params``, ``source``) in one ``INSERT ... ON CONFLICT DO NOTHING``,
    in ``session``'s transaction: a row whose (wallet, type, source) exists already is left out."""
    if not rows:
        return
    connection = session.connection()
    table: Table = Notification.__table__  # type: ignore[assignment]
    now = utcnow()
    statement = _INSERT_INTO[connection.dialect.name](table).on_conflict_do_nothing(
        index_elements=[table.c.wallet, table.c.type, table.c.source])
    connection.execute(statement, [{"created_at": now, "read_at": None, **row} for row in rows])
