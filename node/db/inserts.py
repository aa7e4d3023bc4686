"""Inserting a row keyed by a unique value in one statement, for the writes every request makes.

``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` (SQLite and PostgreSQL say it alike) replaces a look-up,
a savepoint and an ORM flush: the common case, a new key, costs one statement and no read-back. The new row is
put in the session as the object it is (so the caller may change it through the ORM afterwards); a key that
exists inserts nothing, and the caller looks at what is there.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from sqlalchemy import Executable, Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from node.db.base import Base

__all__ = ["insert_batch", "insert_new"]

M = TypeVar("M", bound=Base)

_INSERT_INTO: Final = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def insert_new(session: Session, model: type[M], values: Mapping[str, Any], *, unique: Sequence[str]) -> M | None:
    """Insert ``values`` as a new ``model`` row in ``session``'s transaction and return it, attached to the
    session; None, inserting nothing, if a row with the same values in the ``unique`` columns exists (or a concurrent
    transaction that inserted one commits first). ``values`` must give every column but the id (the object
    returned is built from them, not read back)."""
    connection = session.connection()
    new_id = connection.scalar(_statement(connection.dialect.name, model.__table__, tuple(unique)), dict(values))
    if new_id is None:
        return None
    row = model(id=new_id, **values)
    make_transient_to_detached(row)
    session.add(row)
    return row


@functools.cache
def _statement(dialect: str, table: Table, unique: tuple[str, ...]) -> Executable:
    """The insert for ``table``, built once: the values come as execution parameters, so neither building the
    statement nor its cache key costs anything per row (the table, not the class: no ORM work either)."""
    return (_INSERT_INTO[dialect](table).on_conflict_do_nothing(index_elements=[table.c[name] for name in unique])
            .returning(table.c.id))


def insert_batch(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]], *, unique: Sequence[str],
                 taken: Callable[[Mapping[str, Any]], Exception]) -> None:
    """Insert a batch's ``rows`` of ``model``, each keyed by its ``unique`` columns. One row (a request alone, or on
    its full path) that a concurrent transaction took already raises ``taken(row)``: that request fails alone.
    Many go in one statement, and such a row fails it, so the whole batch, whose requests are then run again one
    by one (node.lanes.Lane.run)."""
    if len(rows) == 1:
        if insert_new(session, model, rows[0], unique=unique) is None:
            raise taken(rows[0])
    elif rows:
        session.connection().execute(insert(model.__table__), list(rows))
