"""The ATM tables: the registry of the bank's ATMs, the signed messages seen (to refuse replays) and the ATM
events answered (so an ATM's retry of an event gets the first answer); and the outbox key of a cash-out's
hold steps."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.db.base import Base, IdType, JsonType, UTCDateTime, str_enum, utcnow

__all__ = ["Atm", "AtmEvent", "AtmMessage", "AtmState", "hold_key"]


class AtmState(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # every message of the ATM is refused


class Atm(Base):
    __tablename__ = "atms"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    atm_id: Mapped[str] = mapped_column(String(32), unique=True)  # the bank's name for the device
    name: Mapped[str] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[AtmState] = mapped_column(str_enum(AtmState, "atm_state"))
    secret_ciphertext: Mapped[str] = mapped_column(Text)  # the device secret, encrypted (node.custody)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:  # never the secret
        return f"Atm({self.atm_id!r}, {self.state.value})"


class AtmMessage(Base):
    """A signed message that passed authentication; the same signature again is a replay. Rows older than
    the clock-skew window are pruned: such a message would be refused for its timestamp anyway."""

    __tablename__ = "atm_messages"
    __table_args__ = (UniqueConstraint("atm_id", "signature"), Index("ix_atm_messages_timestamp", "timestamp"))

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    atm_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(64))  # hex HMAC-SHA256
    timestamp: Mapped[int] = mapped_column(BigInteger)  # the message's, Unix seconds
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AtmEvent(Base):
    """An ATM event (its ``event_id``) and the answer it got: the same event again gets the same answer."""

    __tablename__ = "atm_events"
    __table_args__ = (UniqueConstraint("atm_id", "event_id"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    atm_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))  # sha256 of method, path and JSON body
    operation: Mapped[str | None] = mapped_column(String(40))  # the operation's public id, if any
    status: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def hold_key(hold_id: str, step: str, attempt: int = 1) -> str:
    """The outbox key of a cash-out's hold ``step`` (place, capture, release): by the hold's id, so a withdrawal
    code is placed once at this bank whatever the ATM event; retries of a step count their attempt."""
    return f"atm-hold:{hold_id}:{step}" if attempt == 1 else f"atm-hold:{hold_id}:{step}:{attempt}"
