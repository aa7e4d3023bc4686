"""The notification streams' hub (api/stream_hub.py) on a real, migrated database: one look at the table for all
open streams, a wake-up only for the streams of wallets that got a notification, and a cap on open streams."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api.problems import ServiceUnavailableError
from api.stream_hub import StreamHub, Subscription
from node.db import create_engine, session_factory, transaction, upgrade
from node.notifications.models import Notification

POLL = 0.05


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'node.sqlite3'}"
    upgrade(url)
    made = create_engine(url)
    yield made
    made.dispose()


def _notify(engine: Engine, wallet: str, source: str) -> None:
    with transaction(session_factory(engine)) as session:
        session.add(Notification(wallet=wallet, type="top_up", params={"amount": 1}, source=source))


async def _woken(subscriptions: list[Subscription], within: float) -> list[bool]:
    async def one(subscription: Subscription) -> bool:
        try:
            await asyncio.wait_for(subscription._news.wait(), within)
        except TimeoutError:
            return False
        return True

    return list(await asyncio.gather(*(one(s) for s in subscriptions)))


def test_one_look_serves_every_stream_and_wakes_only_the_wallets_with_news(engine: Engine) -> None:
    hub = StreamHub(session_factory(engine, read_only=True), max_streams=1_000, poll=POLL)

    async def scenario() -> None:
        quiet = [hub.join(f"0x{i:040x}") for i in range(1, 200)]
        busy = [hub.join("0x" + "ab" * 20) for _ in range(3)]
        await asyncio.sleep(POLL * 3)  # the first look wakes everyone once (news from before it)
        for s in quiet + busy:
            s.arm()
        looks = hub.looks
        await asyncio.to_thread(_notify, engine, "0x" + "ab" * 20, "tx:1")
        assert await _woken(busy, within=2.0) == [True] * 3
        assert not any(s._news.is_set() for s in quiet)
        assert hub.looks - looks < 2.0 / POLL + 2  # looks follow the clock, not the 202 streams
        for s in quiet + busy:
            s.close()
        assert hub.open_streams == 0
        await asyncio.sleep(POLL * 3)  # with no stream left the hub stops looking
        stopped = hub.looks
        await asyncio.sleep(POLL * 4)
        assert hub.looks == stopped

    asyncio.run(scenario())


def test_a_stream_beyond_the_cap_is_refused_until_one_closes(engine: Engine) -> None:
    hub = StreamHub(session_factory(engine, read_only=True), max_streams=2, poll=POLL)

    async def scenario() -> None:
        first = hub.join("0x" + "01" * 20)
        hub.check_room()
        hub.join("0x" + "02" * 20)
        with pytest.raises(ServiceUnavailableError, match="notification_streams_max"):
            hub.check_room()
        first.close()
        first.close()  # closing twice frees one place only
        hub.check_room()
        assert hub.open_streams == 1

    asyncio.run(scenario())
