"""Admission control (api/admission.py): at most ``max_in_flight`` requests run at once; one that waits longer
than ``queue_timeout`` for its turn gets a 503 problem and is not run; the health check is never held back; the
server has more worker threads than requests it lets in (else a burst could stall it, see the module)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.admission import THREAD_HEADROOM
from api.app import create_app
from node.api_keys import Scope
from node.settings import NodeSettings
from wallet_sdk.chain.network import Network


def _app(settings: NodeSettings, engine: Engine, network: Network, **limits: Any) -> tuple[FastAPI, dict[str, Any]]:
    """The bank's app with test routes: /test/slow runs until released; /test/threads says the worker threads."""
    app = create_app(settings, engine=engine, network_factory=lambda: network, **limits)
    state: dict[str, Any] = {"entered": threading.Event(), "release": threading.Event(), "runs": 0}
    router = APIRouter(prefix="/test", tags=["test"])

    @router.get("/slow", operation_id="test_slow")
    def slow() -> dict[str, int]:
        state["runs"] += 1
        state["entered"].set()
        assert state["release"].wait(30)
        return {"runs": state["runs"]}

    @router.get("/threads", operation_id="test_threads")
    async def threads() -> dict[str, int]:  # on the event loop: the worker-thread pool is the loop's
        state["runs"] += 1
        return {"tokens": int(anyio.to_thread.current_default_thread_limiter().total_tokens)}

    app.include_router(router)
    return app, state


def test_a_request_beyond_the_limit_waits_then_gets_503_and_is_not_run(
        settings: NodeSettings, api_engine: Engine, network: Network,
        problem: Callable[..., dict[str, object]]) -> None:
    limited = settings.model_copy(update={"api_max_in_flight": 1, "api_queue_timeout": 0.3})  # the settings' keys
    app, state = _app(limited, api_engine, network)
    with TestClient(app, raise_server_exceptions=False) as client, ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.get, "/test/slow")
        assert state["entered"].wait(30)  # the one request allowed in is running
        refused = client.get("/test/threads")
        body = problem(refused, 503, "service-unavailable")
        assert refused.headers["Retry-After"] == "1"
        assert body["instance"] == "/test/threads" and "nothing of it was done" in str(body["detail"])
        assert state["runs"] == 1  # the refused request did not run
        assert client.get("/v1/health").status_code == 200  # never held back
        state["release"].set()
        assert first.result(30).json() == {"runs": 1}
        assert client.get("/test/threads").status_code == 200  # the turn is free again
        assert state["runs"] == 2


def test_a_request_that_gets_its_turn_in_time_is_served(settings: NodeSettings, api_engine: Engine,
                                                        network: Network) -> None:
    app, state = _app(settings, api_engine, network, max_in_flight=1, queue_timeout=30)
    with TestClient(app, raise_server_exceptions=False) as client, ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.get, "/test/slow")
        assert state["entered"].wait(30)
        waiting = pool.submit(client.get, "/test/threads")
        state["release"].set()
        assert first.result(30).status_code == 200
        assert waiting.result(30).status_code == 200


def test_the_server_has_more_worker_threads_than_requests_it_lets_in(settings: NodeSettings, api_engine: Engine,
                                                                     network: Network) -> None:
    app, _ = _app(settings, api_engine, network, max_in_flight=100)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/test/threads").json()["tokens"] >= 100 + THREAD_HEADROOM


def test_a_payment_waits_for_a_lane_turn_not_for_a_thread(
        settings: NodeSettings, api_engine: Engine, network: Network, make_key: Callable[..., str],
        auth: Callable[[str], dict[str, str]], problem: Callable[..., dict[str, object]]) -> None:
    """``POST /v1/transfers`` holds no worker thread (its lane answers it): with the one thread turn taken, a
    payment is still let in and answered (here refused for the teller's missing desk: it ran), while a thread
    route waits and gets its 503."""
    app, state = _app(settings, api_engine, network, max_in_flight=1, queue_timeout=0.3)
    teller = auth(make_key(Scope.TELLER))
    body = {"payer": "0x" + "ab" * 20, "payee": "0x" + "cd" * 20, "amount": 5}
    with TestClient(app, raise_server_exceptions=False) as client, ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.get, "/test/slow")
        assert state["entered"].wait(30)  # the one thread turn is taken
        problem(client.get("/test/threads"), 503, "service-unavailable")
        paid = client.post("/v1/transfers", json=body, headers={**teller, "Idempotency-Key": "lane-turn-1"})
        refused = problem(paid, 422, "validation")
        assert "X-Teller-Branch" in str(refused["detail"])
        state["release"].set()
        assert first.result(30).status_code == 200
