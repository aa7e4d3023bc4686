"""Cursor pagination, through GET /v1/api-keys: a round trip over every page, bounds and bad cursors."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.common import decode_cursor, encode_cursor
from node.api_keys import Scope


def test_cursor_round_trip_visits_every_item_once(client: TestClient, make_key: Callable[..., str],
                                                  auth: Callable[[str], dict[str, str]]) -> None:
    admin = make_key(Scope.ADMIN, name="admin")
    for i in range(6):
        make_key(Scope.TELLER, name=f"teller {i}")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = client.get("/v1/api-keys", params=params, headers=auth(admin))
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= 3
        seen += [item["name"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["admin"] + [f"teller {i}" for i in range(6)]
    assert pages == 3
    assert all("secret" not in item and "secret_hash" not in item for item in body["items"])


def test_default_limit_and_an_exact_last_page(client: TestClient, make_key: Callable[..., str],
                                              auth: Callable[[str], dict[str, str]]) -> None:
    admin = make_key(Scope.ADMIN)
    make_key(Scope.APP)
    body = client.get("/v1/api-keys", headers=auth(admin)).json()
    assert [i["scopes"] for i in body["items"]] == [["admin"], ["app"]]
    assert body["next_cursor"] is None
    body = client.get("/v1/api-keys", params={"limit": 2}, headers=auth(admin)).json()
    assert body["next_cursor"] is None  # exactly full: no empty page after it


@pytest.mark.parametrize("cursor", [
    "!!!", "bm90LWEtY3Vyc29y", base64.urlsafe_b64encode(b"v1:-5").decode(), base64.urlsafe_b64encode(b"v1:").decode(),
    base64.urlsafe_b64encode(b"v1:" + str(2**64).encode()).decode(), "\u00e9", "x" * 65,
], ids=["garbage", "not-ours", "negative", "empty-id", "huge", "non-ascii", "too-long"])
def test_bad_cursor_is_422(client: TestClient, cursor: str, make_key: Callable[..., str],
                           auth: Callable[[str], dict[str, str]], problem: Callable[..., dict[str, Any]]) -> None:
    body = problem(client.get("/v1/api-keys", params={"cursor": cursor}, headers=auth(make_key(Scope.ADMIN))), 422,
                   "validation")
    assert body["errors"][0]["loc"] == ["query", "cursor"]


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten"])
def test_limit_is_bounded(client: TestClient, limit: str, make_key: Callable[..., str],
                          auth: Callable[[str], dict[str, str]], problem: Callable[..., dict[str, Any]]) -> None:
    body = problem(client.get("/v1/api-keys", params={"limit": limit}, headers=auth(make_key(Scope.ADMIN))), 422,
                   "validation")
    assert body["errors"][0]["loc"] == ["query", "limit"]


def test_cursor_codec() -> None:
    for value in (0, 1, 42, 2**63 - 1):
        assert decode_cursor(encode_cursor(value)) == value
    assert "=" not in encode_cursor(1)
    with pytest.raises(ValueError):
        decode_cursor(base64.urlsafe_b64encode(b"v1:" + str(2**63).encode()).decode())
