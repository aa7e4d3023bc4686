"""Merchant webhooks: the events owed to each merchant, made from what the indexer saw on chain, and their
signed delivery with retries.

Two periodic jobs (``job(sessions, settings) -> int``):

- :func:`collect_events` turns each indexer row of a merchant with a webhook endpoint (an order paid, a
  refund, a settlement batch) into one pending :class:`WebhookEvent`. ``source`` (unique) is the chain
  event's ``<tx hash>:<log index>``, so re-indexing or two rounds at once never make a second event. A round
  reads, per merchant and type, only the rows from the block of the newest event already made onwards (the
  indexer commits whole blocks, so no row can appear later in an older block); a merchant's first round
  reads its whole history.
- :func:`deliver_due` POSTs due events (longest-due first, :data:`BATCH` per round) to the merchant's
  ``webhook_url``, signed as :mod:`wallet_sdk.webhooks` describes, and logs each try as a
  :class:`WebhookAttempt`. A 2xx answer delivers the event; anything else (another status, a refused
  connection, a timeout) retries after ``webhook_backoff * 2**(attempts - 1)`` seconds until
  ``webhook_max_attempts`` tries, then the event is failed. Outside ``local`` an endpoint on a private,
  loopback, link-local or otherwise non-public address is refused without sending anything (the try is
  logged with an error starting ``refused:``), and the node connects to the address it checked
  (:mod:`node.merchants.webhook_targets`). Redirects are never followed. An event is claimed in a short transaction
  (its ``next_attempt_at`` is pushed past the call's timeout, so another runner leaves it alone), sent with
  no transaction open, and its result recorded in another; a crash in between retries it after the lease.

:func:`redeliver` makes any event of a merchant pending again at once; its next try is logged as manual.
Secrets and signatures are never logged.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from node.custody import custody_for
from node.db import reads_of, transaction
from node.db.base import one_or_none, utcnow
from node.errors import FlowNotFoundError
from node.indexer.models import MerchantOrder, MerchantRefund, SettlementBatchRecord
from node.merchants.models import (
    Merchant,
    MerchantState,
    WebhookAttempt,
    WebhookEvent,
    WebhookEventType,
    WebhookState,
)
from node.merchants.webhook_targets import WebhookTargetRefusedError, pinned_request
from node.settings import NodeSettings
from wallet_sdk.webhooks import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, sign

__all__ = [
    "BATCH",
    "REFUSED",
    "USER_AGENT",
    "WebhookEventNotFoundError",
    "attempts_of",
    "collect_events",
    "deliver_due",
    "encode_body",
    "get_event",
    "list_events",
    "new_webhook_secret",
    "open_secret",
    "redeliver",
    "seal_secret",
    "webhook_target",
]

log = logging.getLogger(__name__)

BATCH: Final = 50  # deliveries tried per deliver_due call
USER_AGENT: Final = "walletnet-webhooks/1"
REFUSED: Final = "refused: "  # how a delivery log's error starts when the node would not send there
_LEASE_MARGIN_S: Final = 60.0  # a claimed event is left alone for the request timeout plus this
_ERROR_MAX: Final = 500  # characters of an error kept in the delivery log
_IN_CHUNK: Final = 500  # sources looked up per query
_NOT_NOTIFIED: Final = (MerchantState.PENDING, MerchantState.FAILED)


class WebhookEventNotFoundError(FlowNotFoundError, LookupError):
    """No such webhook event for this merchant (an event of another merchant is not found either)."""


# ------------------------------------------------------------------ secrets


def new_webhook_secret() -> str:
    """A fresh webhook secret to show the merchant once (``whsec_`` + 32 random bytes, URL-safe base64)."""
    return "whsec_" + secrets.token_urlsafe(32)


def seal_secret(settings: NodeSettings, secret: str) -> str:
    """``secret`` encrypted with the node's custody key, for ``Merchant.webhook_secret_ciphertext``."""
    return custody_for(settings).encrypt(secret.encode("utf-8"))


def open_secret(settings: NodeSettings, merchant: Merchant) -> str | None:
    """The merchant's webhook secret, or None if it has none.

    Raises:
        CustodyKeyError: the stored secret does not decrypt with this node's custody key.
    """
    if merchant.webhook_secret_ciphertext is None:
        return None
    return custody_for(settings).decrypt(merchant.webhook_secret_ciphertext).decode("utf-8")


def encode_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes POSTed (and signed): compact JSON with sorted keys, so they do not depend on how the
    database stored the payload."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")


# ------------------------------------------------------------------ collecting events


def _order_data(row: MerchantOrder) -> dict[str, Any]:
    return {"order_id": row.order_id, "amount_minor": row.paid_minor, "currency": row.currency, "payer": row.payer,
            "refunded_minor": row.refunded_minor, "tx_hash": row.paid_tx_hash, "block_number": row.paid_block,
            "paid_at": row.paid_time.isoformat()}


def _refund_data(row: MerchantRefund) -> dict[str, Any]:
    return {"order_id": row.order_id, "amount_minor": row.amount_minor,
            "refunded_total_minor": row.refunded_total_minor, "currency": row.currency, "ref": row.ref,
            "tx_hash": row.tx_hash}


def _batch_data(row: SettlementBatchRecord) -> dict[str, Any]:
    return {"batch_id": row.batch_id, "gross_minor": row.gross_minor, "refunds_minor": row.refunds_minor,
            "fee_minor": row.fee_minor, "net_minor": row.net_minor, "payout_mode": row.payout_mode,
            "currency": row.currency, "ref": row.ref, "tx_hash": row.tx_hash}


@dataclass(frozen=True)
class _Feed:
    """Where one event type comes from: an indexer table and its chain position columns."""

    event_type: WebhookEventType
    model: type[Any]
    merchant: InstrumentedAttribute[str]
    block: InstrumentedAttribute[int]
    tx_hash: InstrumentedAttribute[str]
    log_index: InstrumentedAttribute[int]
    data: Callable[[Any], dict[str, Any]]

    def source(self, row: Any) -> str:
        return f"{getattr(row, self.tx_hash.key)}:{getattr(row, self.log_index.key)}"


_FEEDS: Final = (
    _Feed(WebhookEventType.PAYMENT_PAID, MerchantOrder, MerchantOrder.merchant_id, MerchantOrder.paid_block,
          MerchantOrder.paid_tx_hash, MerchantOrder.paid_log_index, _order_data),
    _Feed(WebhookEventType.PAYMENT_REFUNDED, MerchantRefund, MerchantRefund.merchant_id, MerchantRefund.block_number,
          MerchantRefund.tx_hash, MerchantRefund.log_index, _refund_data),
    _Feed(WebhookEventType.SETTLEMENT_COMPLETED, SettlementBatchRecord, SettlementBatchRecord.merchant_id,
          SettlementBatchRecord.block_number, SettlementBatchRecord.tx_hash, SettlementBatchRecord.log_index,
          _batch_data),
)


def _watermark(session: Session, merchant_id: str, feed: _Feed) -> int | None:
    """The block of the newest event of this merchant and type (events are made in block order), or None:
    no event yet, or its row is gone (being re-indexed), so read everything."""
    source = session.scalars(select(WebhookEvent.source)
                             .where(WebhookEvent.merchant_id == merchant_id, WebhookEvent.type == feed.event_type)
                             .order_by(WebhookEvent.id.desc()).limit(1)).first()
    if source is None:
        return None
    tx_hash, _, log_index = source.rpartition(":")
    if not log_index.isdigit():
        return None
    return session.scalars(select(feed.block).where(feed.tx_hash == tx_hash,
                                                    feed.log_index == int(log_index))).first()


def _collect(session: Session, merchant_id: str, feed: _Feed, now: datetime) -> int:
    since = _watermark(session, merchant_id, feed)
    query: Select[tuple[Any]] = select(feed.model).where(feed.merchant == merchant_id)
    if since is not None:
        query = query.where(feed.block >= since)
    found: list[Any] = list(session.scalars(query.order_by(feed.block, feed.log_index)))
    rows = {feed.source(row): row for row in found}
    if not rows:
        return 0
    keys = list(rows)
    existing: set[str] = set()
    for start in range(0, len(keys), _IN_CHUNK):
        existing.update(session.scalars(select(WebhookEvent.source)
                                        .where(WebhookEvent.source.in_(keys[start:start + _IN_CHUNK]))))
    created = 0
    for source, row in rows.items():  # in block order, so the newest event is always the highest block
        if source in existing:
            continue
        public_id = "evt_" + secrets.token_hex(16)
        payload = {"id": public_id, "type": feed.event_type.value, "created": int(now.timestamp()),
                   "merchant_id": merchant_id, "data": feed.data(row)}
        event = WebhookEvent(public_id=public_id, merchant_id=merchant_id, type=feed.event_type, source=source,
                             payload=payload, state=WebhookState.PENDING, attempts=0, next_attempt_at=now,
                             manual=False, created_at=now)
        try:
            with session.begin_nested():
                session.add(event)
        except IntegrityError:  # a concurrent round made this event
            continue
        created += 1
    return created


def collect_events(sessions: sessionmaker[Session], settings: NodeSettings) -> int:
    """Make the pending events owed for new indexer rows of every merchant with a webhook endpoint (any
    state but pending or failed); one transaction per merchant. Returns how many events were made."""
    with transaction(reads_of(sessions)) as session:
        merchant_ids = list(session.scalars(
            select(Merchant.merchant_id)
            .where(Merchant.state.not_in(_NOT_NOTIFIED), Merchant.webhook_url.is_not(None), Merchant.webhook_url != "")
            .order_by(Merchant.id)))
    created = 0
    for merchant_id in merchant_ids:
        with transaction(sessions) as session:
            now = utcnow()
            created += sum(_collect(session, merchant_id, feed, now) for feed in _FEEDS)
    if created:
        log.info("made %d webhook event(s)", created)
    return created


# ------------------------------------------------------------------ delivering them


WebhookTarget = Callable[[Session, NodeSettings, WebhookEvent], tuple[str | None, str | None]]
"""``target(session, settings, event) -> (url, secret)`` of an event owed to no merchant (node/subscriptions)."""

_TARGETS: dict[WebhookEventType, WebhookTarget] = {}


def webhook_target(event_type: WebhookEventType, target: WebhookTarget) -> None:
    """Register where events of ``event_type`` that no merchant is owed go: the delivery below is the same (signed,
    retried, logged), only the endpoint and secret are another's."""
    _TARGETS[event_type] = target


@dataclass(frozen=True)
class _Claim:
    event_id: int
    public_id: str
    merchant_id: str | None
    type: str
    body: bytes
    url: str | None
    secret: str | None
    manual: bool


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _claim(sessions: sessionmaker[Session], settings: NodeSettings, due: datetime) -> _Claim | None:
    """The longest-due pending event, leased to this caller (its next_attempt_at moved past the request)."""
    with transaction(sessions) as session:
        found = session.execute(
            select(WebhookEvent, Merchant)
            .outerjoin(Merchant, Merchant.merchant_id == WebhookEvent.merchant_id)
            .where(WebhookEvent.state == WebhookState.PENDING, WebhookEvent.next_attempt_at <= due)
            .order_by(WebhookEvent.next_attempt_at, WebhookEvent.id).limit(1)
            .with_for_update(of=WebhookEvent, skip_locked=True)).first()
        if found is None:
            return None
        event, merchant = found
        if event.merchant_id is None and event.type in _TARGETS:  # a subscription's event
            url, secret = _TARGETS[event.type](session, settings, event)
        else:
            secret = open_secret(settings, merchant) if merchant is not None else None
            url = merchant.webhook_url if merchant is not None else None
        lease = max(due, utcnow()) + timedelta(seconds=settings.webhook_timeout + _LEASE_MARGIN_S)
        event.next_attempt_at = lease
        return _Claim(event.id, event.public_id, event.merchant_id, event.type.value, encode_body(event.payload),
                      url, secret, event.manual)


def _describe(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:_ERROR_MAX]


def _send(http: httpx.Client, settings: NodeSettings, claim: _Claim, at: datetime) -> _Outcome:
    """POST the event; no database transaction is open here."""
    if not claim.url:
        return _Outcome(None, "the receiver has no webhook endpoint", 0)
    if not claim.secret:
        return _Outcome(None, "the receiver has no webhook secret", 0)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(claim.secret, int(at.timestamp()), claim.body),
        EVENT_ID_HEADER: claim.public_id,
        EVENT_TYPE_HEADER: claim.type,
    }
    started = time.monotonic()
    try:
        request = pinned_request(http, settings, claim.url, content=claim.body, headers=headers,
                                 timeout=settings.webhook_timeout)
        response = http.send(request, stream=True, follow_redirects=False)  # the answer's body is not read
        response.close()
        outcome = _Outcome(response.status_code, None, 0)
    except WebhookTargetRefusedError as exc:  # nothing was sent
        outcome = _Outcome(None, f"{REFUSED}{exc.reason}"[:_ERROR_MAX], 0)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        outcome = _Outcome(None, _describe(exc), 0)
    return _Outcome(outcome.status_code, outcome.error, int((time.monotonic() - started) * 1000))


def _record(sessions: sessionmaker[Session], settings: NodeSettings, claim: _Claim, outcome: _Outcome,
            at: datetime) -> None:
    with transaction(sessions) as session:
        event = session.get(WebhookEvent, claim.event_id, with_for_update=True, populate_existing=True)
        if event is None:  # pragma: no cover - events are never deleted
            return
        session.add(WebhookAttempt(event_id=event.id, attempted_at=at, url=(claim.url or "")[:500],
                                   status_code=outcome.status_code, error=outcome.error,
                                   duration_ms=outcome.duration_ms, manual=claim.manual))
        event.attempts += 1
        if event.manual and not claim.manual:
            return  # a redelivery was asked for while this try was in flight: it stays due now
        event.manual = False
        if outcome.delivered:
            event.state, event.delivered_at, event.next_attempt_at = WebhookState.DELIVERED, at, None
        elif event.attempts >= settings.webhook_max_attempts:
            event.state, event.next_attempt_at = WebhookState.FAILED, None
        else:
            event.next_attempt_at = at + timedelta(seconds=settings.webhook_backoff * 2 ** (event.attempts - 1))


def deliver_due(sessions: sessionmaker[Session], settings: NodeSettings, *, client: httpx.Client | None = None,
                now: datetime | None = None) -> int:
    """Try to deliver up to :data:`BATCH` due events, oldest due first; returns how many were tried.

    ``now`` (tests) fixes the clock: what is due, the signature's timestamp and the retry times; by default
    each try uses the current time. ``client`` defaults to a fresh ``httpx.Client`` (through ``webhook_proxy``
    if set) closed at the end.

    Raises:
        CustodyKeyError: a merchant's secret does not decrypt (the node's key is wrong); nothing is tried.
    """
    due = now or utcnow()
    with transaction(reads_of(sessions)) as look:  # nothing due (most rounds): no write lock taken
        if look.scalar(select(WebhookEvent.id).where(WebhookEvent.state == WebhookState.PENDING,
                                                     WebhookEvent.next_attempt_at <= due).limit(1)) is None:
            return 0
    http = client
    tried = 0
    try:
        for _ in range(BATCH):
            claim = _claim(sessions, settings, due)
            if claim is None:
                break
            if http is None:  # made only when there is something to send: a client costs tens of ms to build
                http = httpx.Client(timeout=settings.webhook_timeout, follow_redirects=False,
                                    proxy=settings.webhook_proxy)
            at = now or utcnow()
            outcome = _send(http, settings, claim, at)
            _record(sessions, settings, claim, outcome, at)
            tried += 1
            log.info("webhook %s (%s) to %s: %s%s", claim.public_id, claim.type,
                     f"merchant {claim.merchant_id}" if claim.merchant_id else "a notification subscription",
                     outcome.status_code if outcome.status_code is not None else outcome.error,
                     " (manual)" if claim.manual else "")
    finally:
        if client is None and http is not None:
            http.close()
    return tried


# ------------------------------------------------------------------ the merchant's view


def get_event(session: Session, merchant_id: str, public_id: str, *, lock: bool = False) -> WebhookEvent:
    """Raises:
        WebhookEventNotFoundError: no such event, or it is another merchant's.
    """
    event = one_or_none(session, select(WebhookEvent).where(WebhookEvent.public_id == public_id), lock=lock)
    if event is None or event.merchant_id != merchant_id:
        raise WebhookEventNotFoundError(f"no webhook event {public_id!r}", event_id=public_id)
    return event


def redeliver(session: Session, merchant_id: str, public_id: str, *, now: datetime | None = None) -> WebhookEvent:
    """Make the event (delivered, failed or pending) due at once; its next try is logged as manual. A failed
    event gets that one try (it fails again if it fails); a delivered one gets the usual retries.

    Raises:
        WebhookEventNotFoundError: no such event, or it is another merchant's.
    """
    event = get_event(session, merchant_id, public_id, lock=True)
    event.state = WebhookState.PENDING
    event.next_attempt_at = now or utcnow()
    event.manual = True
    session.flush()
    return event


def list_events(session: Session, merchant_id: str, *, limit: int, after_id: int | None = None) -> list[WebhookEvent]:
    """The merchant's events in ascending id order, after ``after_id`` (an internal id, as api.common's
    cursors carry); ask for ``limit + 1`` to know whether there is a next page."""
    query = select(WebhookEvent).where(WebhookEvent.merchant_id == merchant_id)
    if after_id is not None:
        query = query.where(WebhookEvent.id > after_id)
    return list(session.scalars(query.order_by(WebhookEvent.id).limit(limit)))


def attempts_of(session: Session, event: WebhookEvent) -> Sequence[WebhookAttempt]:
    """The event's delivery log, oldest try first."""
    return list(session.scalars(select(WebhookAttempt).where(WebhookAttempt.event_id == event.id)
                                .order_by(WebhookAttempt.id)))
