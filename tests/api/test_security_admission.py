"""Issue 18, finding 5: a request takes one of the API's turns only once it is authenticated and its whole body
has arrived (api/admission.py). Slow connections without a valid key, or with slow bodies, cannot hold every
turn; an oversize body is refused before it is read; a body that does not arrive in time is refused.

Each test serves the bank's API with uvicorn on a loopback port (as a node does, tools.localnet_nodes.serve_api)
and talks to it through raw sockets where a well-behaved HTTP client would not do what an attacker does.
"""

from __future__ import annotations

import json
import select
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlalchemy import select as sql_select

from node.api_keys import Scope, create_key, revoke_key
from node.db import session_factory, transaction
from node.idempotency import IdempotencyRecord
from node.operations.models import Operation
from node.settings import NodeSettings
from tools.localnet_nodes import serve_api
from wallet_sdk.chain.network import Network

PAYER = "0x" + "a1" * 20
PAYEE = "0x" + "b2" * 20
ANSWER_WAIT = 30.0  # seconds a test waits for an answer it expects (generous: this is no timing test)


@pytest.fixture
def serve(settings: NodeSettings, api_engine: Engine, network: Network) -> Iterator[Callable[..., str]]:
    """``serve(**settings)`` -> the URL of the bank's API on uvicorn, with those settings changed."""
    with ExitStack() as stack:
        yield lambda **changes: serve_api(stack, settings.model_copy(update=changes), api_engine, network)


@pytest.fixture
def keys(api_engine: Engine) -> dict[str, str]:
    """An admin key, an app key and a revoked app key (their secrets)."""
    with transaction(session_factory(api_engine)) as session:
        admin = create_key(session, name="admin", scopes=(Scope.ADMIN,))
        app = create_key(session, name="app", scopes=(Scope.APP,))
        revoked = create_key(session, name="revoked", scopes=(Scope.APP,))
        revoke_key(session, revoked.key.id)
        return {"admin": admin.secret, "app": app.secret, "revoked": revoked.secret}


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def _head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _connect(url: str, head: bytes, body_start: bytes = b"") -> socket.socket:
    sock = socket.create_connection(_address(url), timeout=ANSWER_WAIT)
    sock.sendall(head + body_start)
    return sock


def _answer(sock: socket.socket, timeout: float = ANSWER_WAIT) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of the answer on ``sock`` (read until the server closes or the body is complete)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body[:_length(data)]) if body else {}


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 1 << 30


class Trickle:
    """Open connections that send their headers and then a byte of body now and then, never finishing it;
    whatever the server answers on one of them is kept in :attr:`answers`."""

    def __init__(self) -> None:
        self.socks: list[socket.socket] = []
        self.answers: dict[int, bytes] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trickle", daemon=True)

    def open(self, url: str, path: str, headers: dict[str, str], declared: int = 4096) -> None:
        self.socks.append(_connect(url, _head(path, {**headers, "Content-Length": str(declared)}), b"{"))

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            quiet = [s for i, s in enumerate(self.socks) if i not in self.answers]
            readable, _, _ = select.select(quiet, [], [], 0) if quiet else ([], [], [])
            for sock in readable:  # the server answered (and closed): keep the answer, send it nothing more
                index = self.socks.index(sock)
                try:
                    self.answers[index] = sock.recv(65536)
                except OSError:
                    self.answers[index] = b""
            for index, sock in enumerate(self.socks):
                if index not in self.answers:
                    try:
                        sock.send(b" ")  # JSON white space: the body never ends
                    except OSError:
                        self.answers[index] = b""

    def __enter__(self) -> Trickle:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        for sock in self.socks:
            sock.close()


def _transfer_headers(key: str | None, idempotency_key: str) -> dict[str, str]:
    headers = {"Idempotency-Key": idempotency_key}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return headers


def _served_promptly(url: str, keys: dict[str, str]) -> list[int]:
    """Statuses of a handful of real requests sent at once by well-behaved clients with live keys."""
    admin = {"Authorization": f"Bearer {keys['admin']}"}

    def list_keys(_: int) -> int:
        return httpx.get(f"{url}/v1/api-keys", headers=admin, timeout=ANSWER_WAIT).status_code

    def open_account(n: int) -> int:
        body = {"code": f"DEP-ADM-{n}", "customer_ref": f"C-ADM-{n}"}
        return httpx.post(f"{url}/v1/accounts", json=body, headers={**admin, "Idempotency-Key": f"acct-{n}"},
                          timeout=ANSWER_WAIT).status_code

    with ThreadPoolExecutor(6) as pool:
        return [*pool.map(list_keys, range(3)), *pool.map(open_account, range(3))]


def test_100_slow_connections_without_a_valid_key_do_not_keep_real_requests_out(
        serve: Callable[..., str], keys: dict[str, str]) -> None:
    url = serve()  # the defaults: 32 turns, 10 s of waiting for one
    with Trickle() as slow:
        for n in range(100):  # half with no key at all, half with a revoked key
            key = None if n % 2 else keys["revoked"]
            slow.open(url, "/v1/transfers", _transfer_headers(key, f"slow-{n}"))
        assert _served_promptly(url, keys) == [200, 200, 200, 201, 201, 201]  # not 503 after waiting 10 s
        for n, sock in enumerate(slow.socks):  # each got its 401 at once, without its body
            raw = slow.answers.get(n)
            if raw is None:
                status, body = _answer(sock)
            else:
                status, body = int(raw.split(b" ", 2)[1]), {}
            assert status == 401, (n, status, body)


def test_slow_bodies_with_a_live_key_wait_outside_and_do_not_hold_the_turns(
        serve: Callable[..., str], keys: dict[str, str]) -> None:
    url = serve(api_max_in_flight=2, api_queue_timeout=3.0)  # two turns only, and a short wait for one
    with Trickle() as slow:
        for n in range(10):
            slow.open(url, "/v1/transfers", _transfer_headers(keys["app"], f"slow-live-{n}"))
        assert _served_promptly(url, keys) == [200, 200, 200, 201, 201, 201]


def _traces(engine: Engine) -> tuple[int, int]:
    """How many idempotency keys and operations the bank has recorded."""
    with transaction(session_factory(engine)) as session:
        return (session.scalar(sql_select(func.count()).select_from(IdempotencyRecord)) or 0,
                session.scalar(sql_select(func.count()).select_from(Operation)) or 0)


def test_an_oversize_body_is_413_and_leaves_no_trace(serve: Callable[..., str], keys: dict[str, str],
                                                     api_engine: Engine) -> None:
    url = serve()
    padding = " " * (64 * 1024)  # JSON white space: a valid transfer, only too large
    oversize = json.dumps({"payer": PAYER, "payee": PAYEE, "amount": 100}).replace(",", "," + padding, 1).encode()
    assert len(oversize) > 64 * 1024
    headers = _transfer_headers(keys["app"], "too-big")
    before = _traces(api_engine)
    answered = httpx.post(f"{url}/v1/transfers", content=oversize,
                          headers={**headers, "Content-Type": "application/json"}, timeout=ANSWER_WAIT)
    assert answered.status_code == 413, answered.text
    problem = answered.json()
    assert problem["type"] == "https://walletnet.dev/problems/request-too-large"
    assert answered.headers["content-type"].startswith("application/problem+json")
    assert problem["max_bytes"] == 64 * 1024
    # a Content-Length above the limit is refused before a byte of the body is sent ...
    with _connect(url, _head("/v1/transfers", {**headers, "Content-Length": str(10**9)})) as sock:
        assert _answer(sock)[0] == 413
    # ... and a chunked body (no Content-Length) as soon as it has gone past the limit
    chunked = _head("/v1/transfers", {**headers, "Transfer-Encoding": "chunked"})
    with _connect(url, chunked) as sock:
        chunk = b"{" + b" " * 16383
        for _ in range(5):  # 80 KiB in 16 KiB chunks
            sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        assert _answer(sock)[0] == 413
    assert _traces(api_engine) == before  # no idempotency key claimed, no operation recorded


def test_a_body_that_does_not_arrive_in_time_is_refused(serve: Callable[..., str], keys: dict[str, str],
                                                        api_engine: Engine) -> None:
    url = serve(api_body_timeout=1.0)
    head = _head("/v1/transfers", {**_transfer_headers(keys["app"], "late"), "Content-Length": "200"})
    before = _traces(api_engine)
    with _connect(url, head, b'{"payer": ') as sock:
        status, problem = _answer(sock)  # the rest of the body never comes
    assert status == 408, problem
    assert problem["type"] == "https://walletnet.dev/problems/request-timeout"
    assert _traces(api_engine) == before


def test_the_health_check_and_the_401_of_a_missing_key_stay_as_they_were(serve: Callable[..., str]) -> None:
    url = serve()
    assert httpx.get(f"{url}/v1/health", timeout=ANSWER_WAIT).status_code == 200  # no key, never held back
    refused = httpx.post(f"{url}/v1/transfers", json={}, headers={"Idempotency-Key": "x"}, timeout=ANSWER_WAIT)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"] == "https://walletnet.dev/problems/unauthorized"
