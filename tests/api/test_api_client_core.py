"""The SDK client's transport against the real app: typed problems, retries, idempotency keys, headers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from node.api_keys import Scope
from node.settings import NodeSettings, load_settings
from wallet_sdk.client import Client
from wallet_sdk.client.common import ClientArgumentError
from wallet_sdk.client.problems import PROBLEM_ERRORS, problem_error
from wallet_sdk.exceptions import (
    ApiProblemError,
    ChainUnavailableError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    SecondFactorRequiredError,
)

DEAD = "http://127.0.0.1:9"


@pytest.fixture
def dead_chain_app(api_db_url: str, api_engine: object) -> FastAPI:
    settings: NodeSettings = load_settings(bank_id="BANKA", rpc_url=DEAD, db_url=api_db_url)
    return create_app(settings, engine=api_engine)  # type: ignore[arg-type]


class _Counting(httpx.BaseTransport):
    """The app's in-process transport, noting each request the client sends."""

    def __init__(self, app: FastAPI, seen: list[httpx.Request]) -> None:
        self._inner = TestClient(app, raise_server_exceptions=False)._transport
        self._seen = seen

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._seen.append(request)
        return self._inner.handle_request(request)


def _client(app: FastAPI, key: str, seen: list[httpx.Request], **kw: object) -> Client:
    return Client("http://node", key, transport=_Counting(app, seen), backoff=0.0, **kw)  # type: ignore[arg-type]


def test_reads_are_retried_on_503_then_raise_the_typed_problem(
        dead_chain_app: FastAPI, make_key: Callable[..., str]) -> None:
    seen: list[httpx.Request] = []
    client = _client(dead_chain_app, make_key(Scope.TELLER), seen, retries=2)
    with pytest.raises(ChainUnavailableError) as raised:
        client.send(client_request_wallet())
    assert len(seen) == 3  # the first try and two retries
    assert raised.value.status == 503 and raised.value.detail
    assert all(r.headers["Authorization"].startswith("Bearer wn_") for r in seen)


def client_request_wallet() -> object:
    from wallet_sdk.client._core import ApiRequest

    return ApiRequest("GET", "/v1/wallets/0x" + "11" * 20)


def test_problems_are_typed_and_keep_the_document(app: FastAPI, make_key: Callable[..., str]) -> None:
    seen: list[httpx.Request] = []
    client = _client(app, make_key(Scope.TELLER), seen)
    with pytest.raises(NotFoundError) as missing:
        client.get_operation("op_" + "ab" * 16)
    assert missing.value.problem["instance"] == "/v1/operations/op_" + "ab" * 16
    with pytest.raises(ForbiddenError) as forbidden:
        client.list_api_keys()
    assert forbidden.value.problem["required_scopes"] == ["admin"]
    assert len(seen) == 2  # 404 and 403 are not retried


def test_idempotent_posts_carry_one_key_across_retries(
        dead_chain_app: FastAPI, make_key: Callable[..., str]) -> None:
    from wallet_sdk.client._core import ApiRequest

    seen: list[httpx.Request] = []
    client = _client(dead_chain_app, make_key(Scope.TELLER), seen, retries=1)
    request = ApiRequest("POST", "/v1/operations/op_" + "00" * 16, json={}, idempotent=True, totp="123456")
    with pytest.raises(ApiProblemError):
        client.send(request)
    keys = {r.headers.get("Idempotency-Key") for r in seen}
    assert len(keys) == 1 and None not in keys
    assert seen[0].headers["X-TOTP-Code"] == "123456"
    mine = ApiRequest("POST", "/v1/operations/op_" + "00" * 16, json={}, idempotent=True, idempotency_key="k-1")
    with pytest.raises(ApiProblemError):
        client.send(mine)
    assert seen[-1].headers["Idempotency-Key"] == "k-1"


def test_every_problem_kind_of_the_api_has_a_client_error() -> None:
    from api.problems import ProblemKind

    assert {k.value for k in ProblemKind} <= set(PROBLEM_ERRORS)
    error = problem_error(403, {"type": "https://walletnet.dev/problems/second-factor-required", "title": "t",
                                "status": 403, "detail": "send the code"})
    assert isinstance(error, SecondFactorRequiredError) and isinstance(error, ForbiddenError)
    assert "second-factor-required" in str(error) and "send the code" in str(error)
    unknown = problem_error(409, {"type": "https://example.com/other", "title": "x", "status": 409})
    assert type(unknown) is ConflictError


def test_arguments_are_checked_before_sending() -> None:
    with Client("http://127.0.0.1:9", "k") as client:
        with pytest.raises(ClientArgumentError):
            client.get_operation("../api-keys")
        assert "k" not in repr(client).replace("Client", "")
