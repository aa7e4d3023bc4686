"""The Idempotency-Key dependency, on a test-only router (no endpoint moves money yet): replay, 409s, 422."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, select

from api.auth import CurrentKey
from api.deps import SessionDep
from api.idempotency import IdempotencyDep
from node import idempotency as records
from node.api_keys import ApiKey, Scope
from node.db import session_factory, transaction


class Order(BaseModel):
    amount: int
    fail: bool = False


class Placed(BaseModel):
    order: int
    amount: int


@pytest.fixture
def calls(app: FastAPI) -> list[int]:
    """Mount POST /test/orders: runs (appending to ``calls``) only when not replayed."""
    ran: list[int] = []
    router = APIRouter(prefix="/test", tags=["test"])

    @router.post("/orders", operation_id="test_create_order", status_code=201)
    def create_order(order: Order, _key: CurrentKey, idem: IdempotencyDep, session: SessionDep) -> Any:
        ran.append(order.amount)
        if order.fail:
            raise RuntimeError("boom before anything was recorded")
        return idem.complete(session, Placed(order=len(ran), amount=order.amount), status=201)

    app.include_router(router)
    return ran


def post(client: TestClient, secret: str, body: dict[str, Any], key: str | None = "k-1") -> Any:
    headers = {"Authorization": f"Bearer {secret}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/test/orders", json=body, headers=headers)


def test_retry_with_same_key_and_body_replays_the_first_response(client: TestClient, calls: list[int],
                                                                 make_key: Callable[..., str]) -> None:
    secret = make_key(Scope.TELLER)
    first = post(client, secret, {"amount": 500})
    assert first.status_code == 201, first.text
    assert first.json() == {"order": 1, "amount": 500}
    again = post(client, secret, {"amount": 500})
    assert again.status_code == 201
    assert again.json() == {"order": 1, "amount": 500}
    assert again.headers["idempotent-replayed"] == "true"
    assert calls == [500]  # the endpoint ran once


def test_same_key_other_body_is_409(client: TestClient, calls: list[int], make_key: Callable[..., str],
                                    problem: Callable[..., dict[str, Any]]) -> None:
    secret = make_key(Scope.TELLER)
    assert post(client, secret, {"amount": 500}).status_code == 201
    problem(post(client, secret, {"amount": 501}), 409, "idempotency-key-reused")
    assert calls == [500]


def test_keys_are_per_api_key(client: TestClient, calls: list[int], make_key: Callable[..., str]) -> None:
    one, two = make_key(Scope.TELLER, name="one"), make_key(Scope.TELLER, name="two")
    assert post(client, one, {"amount": 1}).json() == {"order": 1, "amount": 1}
    assert post(client, two, {"amount": 2}).json() == {"order": 2, "amount": 2}  # same key text, other client
    assert calls == [1, 2]


def test_in_flight_key_is_409(client: TestClient, calls: list[int], api_engine: Engine, make_key: Callable[..., str],
                              problem: Callable[..., dict[str, Any]]) -> None:
    secret = make_key(Scope.TELLER)
    with transaction(session_factory(api_engine)) as session:
        key_id = session.scalars(select(ApiKey.id)).one()
        digest = records.request_hash("POST", "/test/orders", {"json": {"amount": 7}})
        records.begin(session, scope=f"apikey:{key_id}", key="k-1", request_hash=digest)  # a first call, running
    response = post(client, secret, {"amount": 7})
    problem(response, 409, "idempotency-key-in-flight")
    assert response.headers["retry-after"] == "1"
    assert calls == []


def test_missing_or_oversized_key_is_422(client: TestClient, calls: list[int], make_key: Callable[..., str],
                                         problem: Callable[..., dict[str, Any]]) -> None:
    secret = make_key(Scope.TELLER)
    body = problem(post(client, secret, {"amount": 1}, key=None), 422, "validation")
    assert body["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    problem(post(client, secret, {"amount": 1}, key="k" * 256), 422, "validation")
    assert calls == []


def test_no_key_is_401_before_anything_is_claimed(client: TestClient, calls: list[int],
                                                  problem: Callable[..., dict[str, Any]]) -> None:
    problem(client.post("/test/orders", json={"amount": 1}, headers={"Idempotency-Key": "k"}), 401, "unauthorized")
    assert calls == []


def test_a_failed_call_releases_the_key(client: TestClient, calls: list[int], api_engine: Engine,
                                        make_key: Callable[..., str], problem: Callable[..., dict[str, Any]]) -> None:
    secret = make_key(Scope.TELLER)
    body = problem(post(client, secret, {"amount": 3, "fail": True}), 500, "internal")
    assert "boom" not in str(body)  # no details leak
    with transaction(session_factory(api_engine)) as session:
        assert session.scalars(select(records.IdempotencyRecord)).all() == []
    problem(post(client, secret, {"amount": 3, "fail": True}), 500, "internal")  # retried, ran again
    assert calls == [3, 3]


def test_body_key_order_does_not_matter(client: TestClient, calls: list[int], make_key: Callable[..., str]) -> None:
    secret = make_key(Scope.TELLER)
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "k-9", "Content-Type": "application/json"}
    first = client.post("/test/orders", content=b'{"amount": 4, "fail": false}', headers=headers)
    second = client.post("/test/orders", content=b'{"fail": false, "amount": 4}', headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert calls == [4]
