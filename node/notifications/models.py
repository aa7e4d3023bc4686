"""The tables of customer notifications (issue 22).

- ``notifications``: one row per event a wallet's customer is told about. ``id`` is monotonic and is what the
  SSE stream sends as the event id (a client resumes after it with ``Last-Event-ID``). ``type`` is a stable
  string (:class:`NotificationType`), ``params`` the facts the text is made from (amounts in integer minor
  units). ``source`` says what produced it: ``tx:<tx hash>:<log index>`` for a chain event the indexer applied,
  ``notice:<wallet history id>`` for a notice the node wrote itself; (wallet, type, source) is unique, so an
  event is notified once even when a round is applied again or two producers race.
- ``customer_settings``: per customer of the bank (its ``customer_ref``), the language notifications are
  rendered in (``en`` unless set).

Not derived only from the chain: indexing again from the deployment block into emptied indexer tables produces
the chain's notifications again with the same sources, so none is duplicated; their read marks stay.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.db.base import ADDRESS, Base, IdType, JsonType, UTCDateTime, utcnow

__all__ = ["CustomerSettings", "Language", "Notification", "NotificationType"]


class NotificationType(StrEnum):
    PAYMENT_RECEIVED = "payment_received"
    PAYMENT_SENT = "payment_sent"
    TOP_UP = "top_up"
    REDEMPTION = "redemption"
    ATM_CASH_IN = "atm_cash_in"
    CASH_OUT_HELD = "cash_out_held"
    CASH_OUT_DISPENSED = "cash_out_dispensed"
    CASH_OUT_RELEASED = "cash_out_released"
    REFUND_RECEIVED = "refund_received"
    WALLET_FROZEN = "wallet_frozen"
    WALLET_UNFROZEN = "wallet_unfrozen"
    TIER_CHANGED = "tier_changed"
    LARGE_PAYMENT = "large_payment"
    DAILY_LIMIT_80 = "daily_limit_80"
    DAILY_LIMIT_100 = "daily_limit_100"
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled"
    SECOND_FACTOR_CHANGED = "second_factor_changed"
    SECOND_FACTOR_RESET = "second_factor_reset"
    SECOND_FACTOR_LOCKED = "second_factor_locked"


class Language(StrEnum):
    EN = "en"
    ZH = "zh"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("wallet", "type", "source"),
        Index("ix_notifications_wallet_id", "wallet", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    wallet: Mapped[str] = mapped_column(ADDRESS)
    type: Mapped[str] = mapped_column(String(32))  # a NotificationType value
    params: Mapped[dict[str, Any]] = mapped_column(JsonType)
    source: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CustomerSettings(Base):
    __tablename__ = "customer_settings"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    customer_ref: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8), default=Language.EN.value)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
