"""A wallet's notifications: the paged list, read marks, the live stream (Server-Sent Events, resumed after a drop
with ``Last-Event-ID``), and a customer's notification language.

::

    page = app.list_notifications(wallet, unread=True)       # oldest first; pass page.next_cursor as cursor=
    app.mark_notifications_read(wallet, up_to=page.items[-1].id)
    app.set_notification_settings("CUST-0044", language="zh")
    for note in app.stream_notifications(wallet, last_event_id=last_seen):   # blocks; reconnects by itself
        show(note.text)
        last_seen = note.id                                  # keep it: a new stream resumes after it

The stream yields each notification once, in order: after a dropped connection (or a node restart) it reconnects
with the id of the last notification it yielded and the node sends what came after it, no more, no less.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import httpx

from wallet_sdk.client._core import RETRY_STATUSES, ApiRequest, Endpoint, model
from wallet_sdk.client.common import page_of, wallet_path
from wallet_sdk.client.models import Page
from wallet_sdk.client.problems import problem_error
from wallet_sdk.exceptions import ClientArgumentError

__all__ = [
    "AsyncNotificationsEndpoints",
    "Notification",
    "NotificationSettings",
    "NotificationSubscription",
    "NotificationsEndpoints",
    "SseDecoder",
    "SseEvent",
    "create_notification_subscription",
    "get_notification_settings",
    "get_notification_subscription",
    "list_notification_subscriptions",
    "list_notifications",
    "mark_notifications_read",
    "parse_sse",
    "set_notification_settings",
]

STREAM_ACCEPT = "text/event-stream"


class _Dropped(Exception):
    """The stream's connection is to be made again (an answer of a node that is busy or restarting)."""


_RECONNECT_ERRORS = (httpx.TransportError, httpx.StreamError, _Dropped)


@dataclass(frozen=True)
class Notification:
    """One notification of a wallet's customer: a stable ``type``, the ``params`` it was made from (amounts in
    integer minor units, with ``currency`` and ``decimals``) and its ``text`` in the customer's ``language``."""

    id: int  # monotonic; the stream's event id
    wallet: str
    type: str  # payment_received, payment_sent, top_up, ... (docs/notifications.md)
    params: dict[str, Any]
    text: str
    language: str
    created_at: str
    read_at: str | None = None


@dataclass(frozen=True)
class NotificationSettings:
    customer_ref: str
    language: str  # en, zh


@dataclass(frozen=True)
class NotificationSubscription:
    """A bank's durable subscription of its backend to every customer notification (admin)."""

    name: str
    url: str
    after_id: int  # its cursor: the last notification made into an event for it
    created_at: str
    pending: int
    delivered: int
    failed: int
    secret: str | None = None  # only in the answer that created it

    def __repr__(self) -> str:  # never the secret
        return f"NotificationSubscription({self.name!r}, {self.url!r}, after_id={self.after_id})"


@dataclass(frozen=True)
class SseEvent:
    """One event of a Server-Sent Events stream (comments, such as heartbeats, are not events)."""

    data: str
    id: str | None = None
    event: str = "message"
    retry: int | None = None  # milliseconds the server asks a client to wait before reconnecting


class SseDecoder:
    """Reads an SSE stream line by line (without line ends), as the HTML standard does: :meth:`line` answers the
    event a blank line completes, else None. Comment lines (``: heartbeat``) only count in :attr:`comments`."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._retry: int | None = None
        self.last_id: str | None = None  # the id last set: it stays for the events after it
        self.comments = 0

    def line(self, line: str) -> SseEvent | None:
        if line == "":
            event = SseEvent("\n".join(self._data), self.last_id, self._event or "message", self._retry) \
                if self._data else None
            self._data, self._event = [], ""  # the retry delay stays, as the standard says
            return event
        if line.startswith(":"):
            self.comments += 1
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "event":
            self._event = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None


def parse_sse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """The events of an SSE stream's ``lines`` (without their line ends)."""
    decoder = SseDecoder()
    for line in lines:
        event = decoder.line(line)
        if event is not None:
            yield event


def list_notifications(wallet: str, *, unread: bool | None = None, limit: int | None = None,
                       cursor: str | None = None) -> ApiRequest[Page[Notification]]:
    """One page of the wallet's notifications, oldest first (``unread=True``: unread only)."""
    return ApiRequest("GET", wallet_path(wallet, "/notifications"), page_of(Notification),
                      params={"unread": None if unread is None else str(unread).lower(), "limit": limit,
                              "cursor": cursor})


def mark_notifications_read(wallet: str, *, up_to: int | None = None,
                            ids: Iterable[int] = ()) -> ApiRequest[int]:
    """Mark the wallet's notifications up to id ``up_to`` (inclusive) and those of ``ids`` read; returns how many
    were unread."""
    wanted = list(ids)
    if up_to is None and not wanted:
        raise ClientArgumentError("name the notifications to mark read: up_to=, ids= or both")
    body: dict[str, Any] = {"ids": wanted}
    if up_to is not None:
        body["up_to"] = up_to
    return ApiRequest("POST", wallet_path(wallet, "/notifications/read"), lambda data: int(data["marked"]),
                      json=body)


def _settings_path(customer_ref: str) -> str:
    if not isinstance(customer_ref, str) or not customer_ref or "/" in customer_ref or customer_ref in (".", ".."):
        raise ClientArgumentError(f"not a customer reference: {customer_ref!r}")
    return f"/v1/customers/{customer_ref}/notification-settings"


def get_notification_settings(customer_ref: str) -> ApiRequest[NotificationSettings]:
    """The customer's notification language."""
    return ApiRequest("GET", _settings_path(customer_ref), model(NotificationSettings))


def set_notification_settings(customer_ref: str, *, language: str) -> ApiRequest[NotificationSettings]:
    """Set the customer's notification language (``en`` or ``zh``)."""
    return ApiRequest("PUT", _settings_path(customer_ref), model(NotificationSettings), json={"language": language})


def create_notification_subscription(name: str, url: str, *,
                                     start_after: int | None = None) -> ApiRequest[NotificationSubscription]:
    """Subscribe the bank's backend at ``url`` to every notification made from now on (``start_after=0``: every
    one kept); the answer's ``secret`` (shown once) verifies the deliveries (:func:`wallet_sdk.webhooks.verify`)."""
    body: dict[str, Any] = {"name": name, "url": url}
    if start_after is not None:
        body["start_after"] = start_after
    return ApiRequest("POST", "/v1/notification-subscriptions", model(NotificationSubscription), json=body)


def list_notification_subscriptions(*, limit: int | None = None,
                                    cursor: str | None = None) -> ApiRequest[Page[NotificationSubscription]]:
    return ApiRequest("GET", "/v1/notification-subscriptions", page_of(NotificationSubscription),
                      params={"limit": limit, "cursor": cursor})


def get_notification_subscription(name: str) -> ApiRequest[NotificationSubscription]:
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise ClientArgumentError(f"not a subscription name: {name!r}")
    return ApiRequest("GET", f"/v1/notification-subscriptions/{name}", model(NotificationSubscription))


_parse_notification = model(Notification)


def _stream_request(wallet: str) -> ApiRequest[None]:
    return ApiRequest("GET", wallet_path(wallet, "/notifications/stream"), accept=STREAM_ACCEPT)


def _headers(client: Any, wallet: str, last_event_id: int | None) -> tuple[str, dict[str, str]]:
    request = _stream_request(wallet)
    headers: dict[str, str] = client._headers(request, None, None)
    headers["Accept"] = STREAM_ACCEPT
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    return request.path, headers


def _refused(response: httpx.Response) -> bool:
    """Whether the stream's answer is a problem to raise (after reading its body); a busy or restarting node's
    (RETRY_STATUSES) is a dropped connection, to make again."""
    if response.status_code in RETRY_STATUSES:
        raise _Dropped
    return response.status_code >= 400


def _problem(response: httpx.Response, body: bytes) -> Exception:
    text = body.decode("utf-8", "replace")
    try:
        problem = json.loads(text)
    except ValueError:
        problem = None
    return problem_error(response.status_code, problem, text)


class _Resume:
    """What a stream keeps across its connections: the last notification yielded, the server's retry delay."""

    def __init__(self, last_event_id: int | None) -> None:
        self.last = last_event_id
        self.wait = 1.0
        self.drops = 0

    def take(self, event: SseEvent) -> Notification | None:
        """The notification ``event`` carries (None: another kind of event); remembers where to resume."""
        if event.retry is not None:
            self.wait = event.retry / 1000
        if event.event != "notification":
            return None
        note = _parse_notification(json.loads(event.data))
        self.last, self.drops = note.id, 0
        return note

    def again(self, reconnect: bool, max_reconnects: int | None) -> bool:
        """After a drop: whether to connect again."""
        self.drops += 1
        return reconnect and (max_reconnects is None or self.drops <= max_reconnects)


class _NotificationEndpoints:
    """The endpoints both clients have alike; the stream is each client's own (an iterator, an async one)."""

    list_notifications = Endpoint(list_notifications)
    create_notification_subscription = Endpoint(create_notification_subscription)
    list_notification_subscriptions = Endpoint(list_notification_subscriptions)
    get_notification_subscription = Endpoint(get_notification_subscription)
    mark_notifications_read = Endpoint(mark_notifications_read)
    get_notification_settings = Endpoint(get_notification_settings)
    set_notification_settings = Endpoint(set_notification_settings)


class NotificationsEndpoints(_NotificationEndpoints):
    def stream_notifications(self, wallet: str, *, last_event_id: int | None = None, reconnect: bool = True,
                             read_timeout: float = 60.0, max_reconnects: int | None = None) -> Iterator[Notification]:
        """The wallet's notifications as they are made (after ``last_event_id``, or from now on), forever: a
        dropped connection is made again after the server's ``retry`` delay, resuming after the last notification
        yielded (``reconnect=False``: stop at the first drop). A problem answer (401, 403, 404, ...) raises its
        typed error. ``read_timeout``: seconds without even a heartbeat before the connection counts as dropped."""
        http: httpx.Client = self._http  # type: ignore[attr-defined]
        resume = _Resume(last_event_id)
        while True:
            path, headers = _headers(self, wallet, resume.last)
            with suppress(*_RECONNECT_ERRORS), http.stream(
                    "GET", path, headers=headers, timeout=httpx.Timeout(10.0, read=read_timeout)) as response:
                if _refused(response):
                    raise _problem(response, response.read())
                for event in parse_sse(response.iter_lines()):
                    if (note := resume.take(event)) is not None:
                        yield note
            if not resume.again(reconnect, max_reconnects):
                return
            time.sleep(resume.wait)


class AsyncNotificationsEndpoints(_NotificationEndpoints):
    async def stream_notifications(self, wallet: str, *, last_event_id: int | None = None, reconnect: bool = True,
                                   read_timeout: float = 60.0,
                                   max_reconnects: int | None = None) -> AsyncIterator[Notification]:
        """As :meth:`NotificationsEndpoints.stream_notifications`, for ``async for``."""
        http: httpx.AsyncClient = self._http  # type: ignore[attr-defined]
        resume = _Resume(last_event_id)
        while True:
            path, headers = _headers(self, wallet, resume.last)
            with suppress(*_RECONNECT_ERRORS):
                async with http.stream("GET", path, headers=headers,
                                       timeout=httpx.Timeout(10.0, read=read_timeout)) as response:
                    if _refused(response):
                        raise _problem(response, await response.aread())
                    decoder = SseDecoder()
                    async for line in response.aiter_lines():
                        event = decoder.line(line)
                        if event is not None and (note := resume.take(event)) is not None:
                            yield note
            if not resume.again(reconnect, max_reconnects):
                return
            await asyncio.sleep(resume.wait)
