"""Reading notifications for a wallet's channels (list, read marks, stream) and a customer's language.

The routes (api/routes/wallets.py, api/routes/customers.py) check who may see a wallet first; nothing here does.
A notification's text is rendered when it is read (:mod:`node.notifications.texts`), in the language of the
customer the wallet belongs to, so changing the language changes the texts of past notifications too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from node.db.base import utcnow
from node.errors import FlowValidationError
from node.notifications.models import CustomerSettings, Language, Notification

__all__ = ["language_of", "mark_read", "newer_than", "notifications_query", "set_language"]


def language_of(session: Session, customer_ref: str | None) -> str:
    """The customer's language (``en`` when not set, or for a wallet of no customer of this bank)."""
    if customer_ref is None:
        return Language.EN.value
    found = session.scalar(select(CustomerSettings.language).where(CustomerSettings.customer_ref == customer_ref))
    return found or Language.EN.value


def set_language(session: Session, customer_ref: str, language: str) -> CustomerSettings:
    """Set the customer's language (``en`` or ``zh``).

    Raises:
        FlowValidationError: another language.
    """
    if language not in {member.value for member in Language}:
        raise FlowValidationError("language", f"the language is one of {', '.join(m.value for m in Language)}")
    row = session.scalars(select(CustomerSettings).where(CustomerSettings.customer_ref == customer_ref)
                          .with_for_update()).one_or_none()
    if row is None:
        row = CustomerSettings(customer_ref=customer_ref, language=language, updated_at=utcnow())
        session.add(row)
    else:
        row.language, row.updated_at = language, utcnow()
    session.flush()
    return row


def notifications_query(wallet: str, *, unread: bool | None = None) -> Select[Any]:
    """The wallet's notifications (oldest first when ordered by id); ``unread`` True: not read yet, False: read."""
    query = select(Notification).where(Notification.wallet == wallet)
    if unread is True:
        query = query.where(Notification.read_at.is_(None))
    elif unread is False:
        query = query.where(Notification.read_at.is_not(None))
    return query


def newer_than(session: Session, wallet: str, last_id: int, *, limit: int = 100) -> Sequence[Notification]:
    """The wallet's notifications after id ``last_id``, oldest first (what a stream sends next)."""
    return list(session.scalars(select(Notification).where(Notification.wallet == wallet, Notification.id > last_id)
                                .order_by(Notification.id).limit(limit)))


def mark_read(session: Session, wallet: str, *, up_to: int | None = None, ids: Sequence[int] = (),
              at: datetime | None = None) -> int:
    """Mark the wallet's unread notifications with an id up to ``up_to`` (inclusive), and those of ``ids``, read;
    returns how many were marked now (read ones keep their first mark; ids of other wallets are ignored)."""
    when = at or utcnow()
    marked = 0
    unread = (Notification.wallet == wallet, Notification.read_at.is_(None))
    if up_to is not None:
        marked += session.execute(update(Notification).where(*unread, Notification.id <= up_to)
                                  .values(read_at=when)).rowcount
    if ids:
        marked += session.execute(update(Notification).where(*unread, Notification.id.in_(sorted(set(ids))))
                                  .values(read_at=when)).rowcount
    return marked
