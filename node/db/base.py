"""Declarative base and the column types every node table uses.

- Primary keys are 64-bit integers (``BIGINT`` on PostgreSQL); on SQLite they are ``INTEGER`` so they alias
  the rowid and autoincrement.
- Money is a ``BIGINT`` of minor units with a currency column beside it; never a float.
- Timestamps are timezone-aware UTC in Python on both databases (SQLite stores them naive; we re-attach UTC).
- JSON is ``JSONB`` on PostgreSQL, JSON text on SQLite.
- Constraint names follow one naming convention, so migrations can name and drop them on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Enum, Integer, MetaData, Select, String, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session

__all__ = [
    "ADDRESS",
    "CURRENCY",
    "Base",
    "IdType",
    "JsonType",
    "MinorUnits",
    "UTCDateTime",
    "one_or_none",
    "str_enum",
    "utcnow",
]

_T = TypeVar("_T")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every node table; ``Base.metadata`` is what Alembic compares against."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


IdType = BigInteger().with_variant(Integer(), "sqlite")
"""Surrogate key type: BIGINT, but INTEGER on SQLite so the column aliases the autoincrementing rowid."""

MinorUnits = BigInteger
"""Amounts in minor units (cents for a 2-decimal currency): 64-bit integers, never floats."""

CURRENCY = String(16)
"""A currency code as the SDK accepts it (up to 16 characters, e.g. ``DCASH``)."""

ADDRESS = String(42)
"""An EIP-55 address: 0x and 40 hex digits."""

JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python; naive values are refused on the way in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_cls: type[StrEnum], name: str) -> Enum:
    """A ``StrEnum`` column stored as its values in a VARCHAR with a named CHECK constraint (no native enum
    type, so adding a member is a plain migration on both databases)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(16, *(len(m.value) for m in enum_cls)),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def one_or_none(session: Session, query: Select[_T], *, lock: bool = False) -> _T | None:
    """The one row ``query`` selects, or None; ``lock`` selects it ``FOR UPDATE`` (held to the transaction's end)."""
    return session.scalars(query.with_for_update() if lock else query).one_or_none()
