"""The ``api_keys`` table (migration 0004) and the ``customer_sessions`` table (0010): only the sha256 of each
secret or token is stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from node.db.base import Base, IdType, JsonType, UTCDateTime, utcnow

__all__ = ["ApiKey", "CustomerSession", "Scope", "revoke"]


class Scope(StrEnum):
    """The channel an API key serves; an endpoint names the scopes it accepts."""

    TELLER = "teller"
    ATM = "atm"
    APP = "app"
    MERCHANT = "merchant"
    ADMIN = "admin"
    REGULATOR = "regulator"
    AUTH = "auth"  # the bank's login backend: mints and revokes customer sessions, nothing else
    RISK = "risk"  # the bank's risk officers: the review queue, decisions, rules, suspicious-activity exports


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # the secret's first characters, to recognise a key in lists
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the whole secret
    scopes: Mapped[list[str]] = mapped_column(JsonType)
    merchant_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def summary(self) -> dict[str, Any]:
        """What a listing shows (never the secret or its hash)."""
        return {"id": self.id, "name": self.name, "prefix": self.prefix, "scopes": sorted(self.scopes),
                "merchant_id": self.merchant_id, "created_at": self.created_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}

    def __repr__(self) -> str:
        return f"ApiKey(id={self.id!r}, name={self.name!r}, scopes={self.scopes!r})"


class CustomerSession(Base):
    """A customer's short-lived session token, minted by the bank's login backend (an ``auth`` or ``admin`` key,
    ``api_key_id``) once it has logged the customer in; it acts in the ``app`` scope for ``customer_ref`` only.
    Dead once ``expires_at`` passes, once revoked, or once the key that minted it is revoked."""

    __tablename__ = "customer_sessions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    customer_ref: Mapped[str] = mapped_column(String(64), index=True)  # the bank's customer number
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the whole token
    api_key_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:  # never the token or its hash
        return f"CustomerSession(id={self.id!r}, customer={self.customer_ref!r}, expires_at={self.expires_at!r})"


_Revocable = TypeVar("_Revocable", ApiKey, CustomerSession)


def revoke(session: Session, model: type[_Revocable], ident: int, missing: Callable[[int], Exception]
           ) -> _Revocable:
    """Revoke the key or session ``ident`` (revoking twice keeps the first timestamp); ``missing(ident)`` is
    raised when there is none."""
    found = session.get(model, ident)
    if found is None:
        raise missing(ident)
    if found.revoked_at is None:
        found.revoked_at = utcnow()
        session.flush()
    return found
