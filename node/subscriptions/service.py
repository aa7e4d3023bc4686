"""A bank's named, durable notification subscriptions (issue 22): its backend gets every customer notification
the node makes, as a signed webhook, delivered by the merchants' webhook delivery (:mod:`node.merchants.webhooks`:
the same signature, retries with backoff, delivery log and lease), once per notification per subscription.

- :func:`create` names a subscription, its endpoint (checked as a merchant's webhook URL is) and where it starts:
  after the newest notification (the default), or after a given id (0: every notification kept).
- :func:`collect` (a periodic job) turns the notifications after each subscription's cursor into pending
  :class:`~node.merchants.models.WebhookEvent` rows, ``source`` ``sub:<subscription id>:<notification id>``
  (unique: never two for one notification), and moves the cursor, in one transaction per subscription with the
  subscription's row locked: the cursor and the events it covers commit together, so a crash or a second node
  process resumes exactly where the last commit left off. Delivery is :func:`node.merchants.webhooks.deliver_due`,
  whose claim leases an event to one process at a time.

The event's body: ``{"id": "evt_...", "type": "notification.created", "created": <unix s>, "subscription": name,
"data": {notification id, wallet, customer_ref, type, params, text, language, created_at}}``.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from node.custody import custody_for
from node.db import reads_of, transaction
from node.db.base import utcnow
from node.errors import ConflictProblem, FlowValidationError, NotFoundError
from node.merchants.models import WebhookEvent, WebhookEventType, WebhookState
from node.merchants.webhook_targets import url_refusal
from node.merchants.webhooks import new_webhook_secret, seal_secret, webhook_target
from node.notifications.models import CustomerSettings, Language, Notification
from node.notifications.texts import render
from node.settings import NodeSettings
from node.subscriptions.models import NotificationSubscription
from node.wallets.models import WalletRecord

__all__ = ["BATCH", "SubscriptionExistsError", "SubscriptionNotFoundError", "collect", "create", "delivery_counts",
           "get", "list_query"]

log = logging.getLogger(__name__)

BATCH: Final = 500  # notifications made into events per subscription and round
NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class SubscriptionExistsError(ConflictProblem):
    """A subscription of this name exists."""


class SubscriptionNotFoundError(NotFoundError):
    """No subscription of this name."""


def _open(settings: NodeSettings, ciphertext: str) -> str:
    return custody_for(settings).decrypt(ciphertext).decode("utf-8")


def create(session: Session, settings: NodeSettings, name: str, url: str, *,
           start_after: int | None = None) -> tuple[NotificationSubscription, str]:
    """A new subscription and its signing secret (shown once): it gets the notifications after ``start_after``
    (default: the newest one now, so what is made from now on).

    Raises:
        FlowValidationError: a bad name, a URL that is not http(s) or is refused (as a merchant's webhook URL).
        SubscriptionExistsError: the name is taken.
    """
    if not NAME.match(name):
        raise FlowValidationError("name", "a subscription name is 1-64 of A-Z a-z 0-9 . _ -")
    if not re.match(r"^https?://[^\s/]+", url) or len(url) > 500:
        raise FlowValidationError("url", "a webhook URL is http(s)://..., at most 500 characters")
    if (why := url_refusal(settings, url)) is not None:
        raise FlowValidationError("url", f"this webhook URL is refused: {why}")
    if session.scalar(select(NotificationSubscription.id).where(NotificationSubscription.name == name)) is not None:
        raise SubscriptionExistsError(f"a notification subscription named {name!r} exists", name=name)
    if start_after is None:
        start_after = int(session.scalar(select(func.max(Notification.id))) or 0)
    secret = new_webhook_secret()
    row = NotificationSubscription(name=name, url=url, secret_ciphertext=seal_secret(settings, secret),
                                   after_id=start_after, created_at=utcnow())
    session.add(row)
    session.flush()
    return row, secret


def get(session: Session, name: str) -> NotificationSubscription:
    row = session.scalars(select(NotificationSubscription).where(NotificationSubscription.name == name)).one_or_none()
    if row is None:
        raise SubscriptionNotFoundError(f"no notification subscription named {name!r}", name=name)
    return row


def list_query() -> Select[Any]:
    """Every subscription (oldest first when ordered by id)."""
    return select(NotificationSubscription)


def delivery_counts(session: Session, subscription: NotificationSubscription) -> dict[str, int]:
    """How many of the subscription's events are pending, delivered and failed."""
    counts = dict.fromkeys((s.value for s in WebhookState), 0)
    for state, count in session.execute(select(WebhookEvent.state, func.count()).where(
            WebhookEvent.subscription_id == subscription.id).group_by(WebhookEvent.state)):
        counts[WebhookState(state).value] = int(count)
    return counts


def _data(note: Notification, customer: str | None, language: str) -> dict[str, Any]:
    return {"id": note.id, "wallet": note.wallet, "customer_ref": customer, "type": note.type,
            "params": note.params, "text": render(note.type, note.params, language), "language": language,
            "created_at": note.created_at.isoformat()}


def _collect_one(session: Session, subscription_id: int, now: datetime) -> int:
    sub = session.get(NotificationSubscription, subscription_id, with_for_update=True, populate_existing=True)
    if sub is None:  # pragma: no cover - subscriptions are never deleted
        return 0
    notes = list(session.scalars(select(Notification).where(Notification.id > sub.after_id)
                                 .order_by(Notification.id).limit(BATCH)))
    if not notes:
        return 0
    owners = dict(session.execute(select(WalletRecord.address, WalletRecord.customer_ref).where(
        WalletRecord.address.in_({n.wallet for n in notes}))).all())
    languages = dict(session.execute(select(CustomerSettings.customer_ref, CustomerSettings.language).where(
        CustomerSettings.customer_ref.in_({c for c in owners.values() if c}))).all())
    for note in notes:
        customer = owners.get(note.wallet)
        public_id = "evt_" + secrets.token_hex(16)
        payload = {"id": public_id, "type": WebhookEventType.NOTIFICATION_CREATED.value,
                   "created": int(now.timestamp()), "subscription": sub.name,
                   "data": _data(note, customer, languages.get(customer or "", Language.EN.value))}
        session.add(WebhookEvent(public_id=public_id, merchant_id=None, subscription_id=sub.id,
                                 type=WebhookEventType.NOTIFICATION_CREATED, source=f"sub:{sub.id}:{note.id}",
                                 payload=payload, state=WebhookState.PENDING, attempts=0, next_attempt_at=now,
                                 manual=False, created_at=now))
    sub.after_id = notes[-1].id
    return len(notes)


def collect(sessions: sessionmaker[Session], settings: NodeSettings) -> int:
    """Make the webhook events of every subscription's new notifications (a periodic job); returns how many."""
    with transaction(reads_of(sessions)) as session:
        due = [row.id for row in session.execute(
            select(NotificationSubscription.id).where(NotificationSubscription.after_id < select(
                func.coalesce(func.max(Notification.id), 0)).scalar_subquery()))]
    made = 0
    for subscription_id in due:
        with transaction(sessions) as session:
            made += _collect_one(session, subscription_id, utcnow())
    if made:
        log.info("made %d notification subscription event(s)", made)
    return made


def _target(session: Session, settings: NodeSettings, event: WebhookEvent) -> tuple[str | None, str | None]:
    sub = session.get(NotificationSubscription, event.subscription_id) if event.subscription_id else None
    if sub is None:
        return None, None
    return sub.url, _open(settings, sub.secret_ciphertext)


webhook_target(WebhookEventType.NOTIFICATION_CREATED, _target)
