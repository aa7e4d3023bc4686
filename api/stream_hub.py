"""One look at the notifications table for every open notification stream of an API process.

Each Server-Sent Events stream (``GET /v1/wallets/{address}/notifications/stream``) used to read the database
every 0.25 s through a worker thread of its own, whether anything had happened or not: a thousand idle app
connections were four thousand queries and thread hops a second. :class:`StreamHub` instead runs one poller per
process while any stream is open: every ``poll`` seconds it reads the ids and wallets of the notifications made
since its last look (the node's indexer makes them, in another process: only the database tells) and wakes the
streams of those wallets, which then read their own notifications as before. An idle stream reads nothing
until its heartbeat, when its credential is checked again.

A process serves at most ``notification_streams_max`` streams at once; one more is refused with 503 (the
client retries later or on another process): an open stream holds a connection and memory for as long as the
client listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Final

import anyio.to_thread
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.problems import ServiceUnavailableError
from node.notifications.models import Notification

__all__ = ["POLL_SECONDS", "StreamHub", "Subscription"]

log = logging.getLogger(__name__)

POLL_SECONDS: Final = 0.25  # how often the hub looks for new notifications while a stream is open
ROWS_PER_LOOK: Final = 5_000  # notifications read per look at most (the rest at the next, at once)

_NEWEST = select(func.max(Notification.id))
_SINCE = select(Notification.id, Notification.wallet)


class Subscription:
    """A stream's place in the hub: :meth:`wait` returns when its wallet may have news (or at ``timeout``)."""

    def __init__(self, hub: StreamHub, wallet: str) -> None:
        self.hub = hub
        self.wallet = wallet
        self._news = asyncio.Event()

    def arm(self) -> None:
        """Forget earlier news: call before reading, so that news made after the read still wakes :meth:`wait`."""
        self._news.clear()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._news.wait(), timeout)

    def wake(self) -> None:
        self._news.set()

    def close(self) -> None:
        self.hub._leave(self)


class StreamHub:
    """The notification streams of one API process (module docstring). Used from its event loop only."""

    def __init__(self, read_sessions: sessionmaker[Session], max_streams: int, *,
                 poll: float = POLL_SECONDS) -> None:
        self.read_sessions = read_sessions
        self.max_streams = max_streams
        self.poll = poll
        self._by_wallet: dict[str, set[Subscription]] = defaultdict(set)
        self._count = 0
        self._task: asyncio.Task[None] | None = None
        self._after: int | None = None  # the newest notification id the hub has looked at
        self.looks = 0  # how many times it read the table (tests check it does not grow with the streams)

    @property
    def open_streams(self) -> int:
        return self._count

    def check_room(self) -> None:
        """Refuse a new stream when the process serves ``max_streams`` already (called before the response starts,
        so that the refusal is a problem; a stream joins only once its response is being sent).

        Raises:
            ServiceUnavailableError: too many streams are open in this process.
        """
        if self._count >= self.max_streams:
            raise ServiceUnavailableError(f"this API process serves {self.max_streams} notification streams, "
                                          "its most (setting notification_streams_max): try again later")

    def join(self, wallet: str) -> Subscription:
        """A subscription for a stream of ``wallet`` that is being sent; :meth:`Subscription.close` it when the
        stream ends."""
        subscription = Subscription(self, wallet)
        self._by_wallet[wallet].add(subscription)
        self._count += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="notification-stream-hub")
        return subscription

    def _leave(self, subscription: Subscription) -> None:
        streams = self._by_wallet.get(subscription.wallet)
        if streams is None or subscription not in streams:
            return
        streams.discard(subscription)
        if not streams:
            del self._by_wallet[subscription.wallet]
        self._count -= 1

    async def _run(self) -> None:
        """Look every ``poll`` seconds while any stream is open; a failed look is logged and tried again."""
        while self._count:
            try:
                woken = await anyio.to_thread.run_sync(self._look, list(self._by_wallet))
            except Exception:  # the database is away for a moment: the streams wait, the next look tries again
                log.warning("the notification streams' look at the database failed", exc_info=True)
                woken = set()
            for wallet in woken:
                for subscription in self._by_wallet.get(wallet, ()):
                    subscription.wake()
            await asyncio.sleep(self.poll)
        self._after = None  # the next stream starts the hub afresh

    def _look(self, wallets: list[str]) -> set[str]:
        """The streamed ``wallets`` with notifications made since the last look (at the first, every one of them:
        news made before that look, after a stream's own first read, must wake it too)."""
        self.looks += 1
        with self.read_sessions.begin() as session:
            if self._after is None:
                self._after = int(session.scalar(_NEWEST) or 0)
                return set(wallets)
            rows = session.execute(_SINCE.where(Notification.id > self._after).order_by(Notification.id)
                                   .limit(ROWS_PER_LOOK)).all()
        if rows:
            self._after = int(rows[-1].id)
        streamed = set(wallets)
        return {row.wallet for row in rows if row.wallet in streamed}

