"""The notification stream (Server-Sent Events, issue 22) on the two-bank network: live events with the
notification's id as the event id, heartbeats while idle, and a client that resumes with Last-Event-ID after the
node's API and its writer/indexer restart, with no gap and no duplicate."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from urllib.parse import urlsplit

import httpx
import pytest
from flow_network import BankNetwork
from money_flows_support import completed, fund_wallet, open_customer, wait_for

from tools.localnet_nodes import serve_api
from wallet_sdk.client import AsyncClient, Client, Notification
from wallet_sdk.client.notifications import SseDecoder, SseEvent
from wallet_sdk.exceptions import ValidationError

TIMEOUT = 30.0


class RawStream:
    """An SSE connection read line by line in a thread: its events and comments, in order, on a queue."""

    def __init__(self, url: str, token: str, wallet: str, *, last_event_id: int | None = None) -> None:
        self.items: queue.Queue[SseEvent | str] = queue.Queue()
        self.headers: httpx.Headers | None = None
        self.status: int | None = None
        self._http = httpx.Client(base_url=url, timeout=httpx.Timeout(10.0, read=TIMEOUT))
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self._thread = threading.Thread(target=self._read, args=(f"/v1/wallets/{wallet}/notifications/stream",
                                                                 headers), daemon=True)
        self._thread.start()

    def _read(self, path: str, headers: dict[str, str]) -> None:
        decoder = SseDecoder()
        try:
            with self._http.stream("GET", path, headers=headers) as response:
                self.status, self.headers = response.status_code, response.headers
                for line in response.iter_lines():
                    if line.startswith(":"):
                        self.items.put(line)
                    event = decoder.line(line)
                    if event is not None:
                        self.items.put(event)
        except httpx.HTTPError:
            pass

    def next_event(self) -> SseEvent:
        deadline = time.monotonic() + TIMEOUT
        while True:
            item = self.items.get(timeout=max(0.0, deadline - time.monotonic()))
            if isinstance(item, SseEvent):
                return item

    def comments(self, within: float) -> list[str]:
        found, deadline = [], time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                item = self.items.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            assert isinstance(item, str), f"an event came while idle: {item}"
            found.append(item)
        return found

    def close(self) -> None:
        self._http.close()


@pytest.fixture
def streams() -> Iterator[list[RawStream]]:
    opened: list[RawStream] = []
    yield opened
    for stream in opened:
        stream.close()


def test_the_stream_sends_new_notifications_live_with_heartbeats(bank_network: BankNetwork,
                                                                  streams: list[RawStream]) -> None:
    a = bank_network.a
    customer = open_customer(a, deposit=5_000)
    fund_wallet(customer, 1_000)  # before the stream: not sent to a stream without Last-Event-ID
    a.wait_idle()
    token = a.mint_session(customer.ref).token
    stream = RawStream(a.url, token, customer.wallet)
    streams.append(stream)
    beats = stream.comments(within=1.6)  # the test network's notification_heartbeat is 0.5 s
    assert beats[0] == ": connected" and beats.count(": heartbeat") >= 2, beats
    assert stream.status == 200 and stream.headers is not None
    assert stream.headers["content-type"].startswith("text/event-stream")

    teller = a.client("teller")
    completed(teller, teller.top_up(customer.wallet, 2_000))
    event = stream.next_event()
    note = json.loads(event.data)
    assert (event.event, note["type"], note["params"]["amount"], note["wallet"]) == (
        "notification", "top_up", 2_000, customer.wallet)
    assert event.id == str(note["id"])
    listed = teller.list_notifications(customer.wallet).items
    assert [n.params["amount"] for n in listed] == [1_000, 2_000] and listed[-1].id == note["id"]
    assert note["text"] == listed[-1].text and note["language"] == "en"

    # resuming after the first notification sends the second only
    again = RawStream(a.url, token, customer.wallet, last_event_id=listed[0].id)
    streams.append(again)
    resumed = again.next_event()
    assert resumed.id == str(listed[1].id)
    assert again.comments(within=0.8) and all(c == ": heartbeat" for c in again.comments(within=0.6))


def test_the_stream_ends_when_the_customer_session_is_revoked(bank_network: BankNetwork,
                                                             streams: list[RawStream]) -> None:
    a = bank_network.a
    customer = open_customer(a, deposit=None)
    session = a.mint_session(customer.ref)
    stream = RawStream(a.url, str(session.token), customer.wallet)
    streams.append(stream)
    assert stream.comments(within=0.7)[0] == ": connected"
    a.client("auth").revoke_customer_session(session.id)
    stream._thread.join(5.0)  # checked again at the next heartbeat (0.5 s here): the server ends the stream
    assert not stream._thread.is_alive()


def test_a_bad_last_event_id_is_a_validation_problem(bank_network: BankNetwork) -> None:
    a = bank_network.a
    customer = open_customer(a, deposit=None)
    with httpx.Client(base_url=a.url, timeout=10.0) as http:
        answer = http.get(f"/v1/wallets/{customer.wallet}/notifications/stream",
                          headers={"Authorization": f"Bearer {a.mint_session(customer.ref).token}",
                                   "Last-Event-ID": "not-an-id"})
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == "https://walletnet.dev/problems/validation"
    with pytest.raises(ValidationError):
        list(customer.app().stream_notifications(customer.wallet, last_event_id=-1, reconnect=False))


def test_streams_take_no_admission_turn(bank_network: BankNetwork, streams: list[RawStream]) -> None:
    """More streams than the API's in-flight limit (32) are open, and a request still gets its turn at once."""
    a = bank_network.a
    customer = open_customer(a, deposit=None)
    token = a.mint_session(customer.ref).token
    for _ in range(a.settings.api_max_in_flight + 4):
        streams.append(RawStream(a.url, token, customer.wallet))
    wait_for(lambda: all(s.status == 200 for s in streams), "every stream answered")
    started = time.monotonic()
    assert customer.app().list_notifications(customer.wallet).items == []
    assert time.monotonic() - started < 5.0


def test_the_sdk_resumes_after_the_node_restarts_without_gap_or_duplicate(bank_network: BankNetwork) -> None:
    a = bank_network.a
    customer = open_customer(a, deposit=10_000)
    fund_wallet(customer, 1_000)
    teller = a.client("teller")
    token = a.mint_session(customer.ref).token

    received: list[Notification] = []
    with ExitStack() as first_process:
        url = serve_api(first_process, a.settings, a.engine, a.connect())  # a node process of the bank
        port = urlsplit(url).port
        client = Client(url, token, timeout=30.0)

        def listen() -> None:
            try:
                for note in client.stream_notifications(customer.wallet, last_event_id=0, read_timeout=5.0):
                    received.append(note)
            except Exception:
                pass

        threading.Thread(target=listen, daemon=True).start()
        wait_for(lambda: len(received) == 1, "the first notification")
    # that process is gone (its stream cut), and the writer and indexer stop too: the node is down
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1/health/live", timeout=2.0)
    a.stop_runner()
    while_down = teller.top_up(customer.wallet, 2_000)  # accepted by another API process, made after the restart
    a.start_runner()
    with ExitStack() as restarted:
        serve_api(restarted, a.settings, a.engine, a.connect(), port=port)  # the restarted process, same address
        completed(teller, while_down)
        completed(teller, teller.top_up(customer.wallet, 3_000))
        a.wait_idle()
        wait_for(lambda: len(received) >= 3, "the notifications made while and after the node was down")
        time.sleep(1.0)  # anything sent twice would come now
        client.close()
    listed = teller.list_notifications(customer.wallet).items
    assert [n.id for n in received] == [n.id for n in listed]  # every one, once, in order
    assert [n.params["amount"] for n in received] == [1_000, 2_000, 3_000]
    assert [n.type for n in received] == ["top_up"] * 3


def test_the_async_client_streams_too(bank_network: BankNetwork) -> None:
    import asyncio

    a = bank_network.a
    customer = open_customer(a, deposit=3_000)
    fund_wallet(customer, 3_000)
    a.wait_idle()

    async def first() -> Notification:
        async with AsyncClient(a.url, a.mint_session(customer.ref).token, timeout=30.0) as app:
            async for note in app.stream_notifications(customer.wallet, last_event_id=0, reconnect=False):
                return note
        raise AssertionError("the stream ended without a notification")

    note = asyncio.run(asyncio.wait_for(first(), TIMEOUT))
    assert (note.type, note.params["amount"], note.wallet) == ("top_up", 3_000, customer.wallet)
