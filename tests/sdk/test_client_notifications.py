"""The SDK's reading of a Server-Sent Events stream (wallet_sdk.client.notifications), as the HTML standard says,
and how its stream reconnects."""

from __future__ import annotations

import json

import httpx
import pytest

from wallet_sdk.client import Client
from wallet_sdk.client.notifications import SseDecoder, SseEvent, mark_notifications_read, parse_sse
from wallet_sdk.exceptions import ClientArgumentError, NotFoundError


def test_events_comments_ids_and_retry() -> None:
    lines = ["retry: 1500", ": connected", "", "id: 7", "event: notification", "data: {\"a\":", "data: 1}", "",
             ": heartbeat", "", "data: no id of its own", "", "id", "data: id reset", ""]
    assert list(parse_sse(lines)) == [
        SseEvent('{"a":\n1}', "7", "notification", 1500),
        SseEvent("no id of its own", "7", "message", 1500),  # the last id and the retry delay stay
        SseEvent("id reset", "", "message", 1500),
    ]


def test_comments_are_counted_not_yielded() -> None:
    decoder = SseDecoder()
    assert [decoder.line(x) for x in (": heartbeat", "", ":x", "")] == [None, None, None, None]
    assert decoder.comments == 2
    assert decoder.line("data:no space") is None and decoder.line("") == SseEvent("no space")


def test_marking_read_names_what() -> None:
    with pytest.raises(ClientArgumentError):
        mark_notifications_read("0x" + "ab" * 20)
    request = mark_notifications_read("0x" + "ab" * 20, up_to=9, ids=[3])
    assert (request.method, request.path, request.json) == (
        "POST", "/v1/wallets/0x" + "ab" * 20 + "/notifications/read", {"ids": [3], "up_to": 9})


def test_the_stream_reconnects_after_a_busy_node_and_resumes_after_what_it_yielded() -> None:
    wallet = "0x" + "ab" * 20
    note = {"id": 5, "wallet": wallet, "type": "top_up", "params": {"amount": 100}, "text": "t", "language": "en",
            "created_at": "2026-12-07T00:00:00Z"}
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Last-Event-ID"))
        if len(seen) == 1:
            return httpx.Response(503, json={"type": "https://walletnet.dev/problems/service-unavailable",
                                             "title": "busy", "status": 503},
                                  headers={"Content-Type": "application/problem+json"})
        if len(seen) == 2:
            body = f"retry: 10\n: connected\n\nid: 5\nevent: notification\ndata: {json.dumps(note)}\n\n"
            return httpx.Response(200, text=body, headers={"Content-Type": "text/event-stream"})
        return httpx.Response(404, json={"type": "https://walletnet.dev/problems/not-found", "title": "gone",
                                         "status": 404}, headers={"Content-Type": "application/problem+json"})

    with Client("http://bank.test", "wnc_token", transport=httpx.MockTransport(answer)) as app:
        stream = app.stream_notifications(wallet)
        first = next(stream)
        assert (first.id, first.type, first.params) == (5, "top_up", {"amount": 100})
        with pytest.raises(NotFoundError):  # a problem answer other than busy ends the stream with its error
            next(stream)
    assert seen == [None, None, "5"]
