"""A bank's named, durable notification subscriptions (issue 22): its backend's webhook endpoint, the secret its
deliveries are signed with (sealed with the node's custody key) and how far it has been given events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.db.base import Base, IdType, UTCDateTime, utcnow

__all__ = ["NotificationSubscription"]


class NotificationSubscription(Base):
    __tablename__ = "notification_subscriptions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    after_id: Mapped[int] = mapped_column(BigInteger)  # the last notification made into an event for it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:  # never the secret
        return f"NotificationSubscription({self.name!r}, {self.url!r}, after={self.after_id})"
