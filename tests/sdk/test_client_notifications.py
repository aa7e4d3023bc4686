"""The SDK's reading of a Server-Sent Events stream (wallet_sdk.client.notifications), as the HTML standard says."""

from __future__ import annotations

import pytest

from wallet_sdk.client.notifications import SseDecoder, SseEvent, mark_notifications_read, parse_sse
from wallet_sdk.exceptions import ClientArgumentError


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
