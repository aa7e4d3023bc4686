"""The machinery of the HTTP client: requests described as data, sent by a sync or an async transport.

Each endpoint is a *builder*: a plain function that checks its arguments and returns an :class:`ApiRequest`
(method, path, body, how to parse the answer). :class:`Endpoint` turns a builder into a method of both
:class:`~wallet_sdk.client.Client` and :class:`~wallet_sdk.client.AsyncClient` (:func:`endpoint` and
:func:`async_endpoint` into a method of one of them), so both clients share one definition per endpoint and
differ only in how they wait for the answer.

Money-moving POSTs are ``idempotent``: the request carries an ``Idempotency-Key`` (the caller's, or a fresh
UUID per call) and a retry after a dropped connection or a 503 re-sends it with the SAME key, so the node
does the work once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import types
import typing
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, NamedTuple, ParamSpec, TypeVar, Union, overload
from urllib.parse import urlencode

import httpx

from wallet_sdk.client.models import Teller
from wallet_sdk.client.problems import problem_error
from wallet_sdk.exceptions import ApiConnectionError, ApiResponseError, SecretAlreadyShownError

__all__ = [
    "DEFAULT_TIMEOUT",
    "ApiRequest",
    "BaseAsyncClient",
    "BaseClient",
    "Endpoint",
    "PreparedRequest",
    "async_endpoint",
    "endpoint",
    "model",
]

T = TypeVar("T")
D = TypeVar("D")
P = ParamSpec("P")

DEFAULT_TIMEOUT = 10.0
RETRY_STATUSES = frozenset({502, 503, 504})
TOTP_HEADER = "X-TOTP-Code"
REDACTED_HEADER = "Idempotent-Redacted"  # a replay's fields that held a secret shown once


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class ApiRequest(Generic[T]):
    """One call of the API: what to send and how to read the answer (``parse`` gets the decoded JSON, or
    the raw bytes when ``accept`` is not JSON)."""

    method: str
    path: str
    parse: Callable[[Any], T] = _identity
    json: Any = None
    params: Mapping[str, Any] | None = None
    idempotent: bool = False
    idempotency_key: str | None = None
    totp: str | None = None
    accept: str = "application/json"
    headers: Mapping[str, str] | None = None

    def body(self) -> bytes | None:
        """The exact bytes sent (compact JSON), so a signature over them (ATM messages) matches."""
        if self.json is None:
            return None
        return json.dumps(self.json, separators=(",", ":"), ensure_ascii=False).encode()

    def query(self) -> dict[str, Any] | None:
        if not self.params:
            return None
        return {k: v for k, v in self.params.items() if v is not None}


class PreparedRequest(NamedTuple):
    """One request as it goes on the wire (see :meth:`BaseClient.prepare`)."""

    method: str
    path: str  # with its query string
    headers: dict[str, str]
    body: bytes | None


def endpoint(builder: Callable[P, ApiRequest[T]]) -> Callable[Concatenate[Any, P], T]:
    """A :class:`BaseClient` method sending what ``builder`` describes."""

    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        result: T = self.send(builder(*args, **kwargs))
        return result

    return _named_after(builder, method)


def async_endpoint(builder: Callable[P, ApiRequest[T]]) -> Callable[Concatenate[Any, P], Awaitable[T]]:
    """A :class:`BaseAsyncClient` coroutine method sending what ``builder`` describes."""

    async def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        result: T = await self.send(builder(*args, **kwargs))
        return result

    return _named_after(builder, method)


M = TypeVar("M", bound=Callable[..., Any])


def _named_after(builder: Callable[..., Any], method: M) -> M:
    """``method`` with the name, qualified name and docstring of its builder."""
    method.__name__ = builder.__name__
    method.__qualname__ = builder.__qualname__
    method.__doc__ = builder.__doc__
    return method


class Endpoint(Generic[P, T]):
    """An endpoint as a method of both clients: on a :class:`BaseClient` it sends what ``builder`` describes and
    returns the answer (:func:`endpoint`), on a :class:`BaseAsyncClient` it returns a coroutine of it
    (:func:`async_endpoint`). A class of ``Endpoint`` attributes serves as a base of either client."""

    def __init__(self, builder: Callable[P, ApiRequest[T]]) -> None:
        self.builder = builder
        self.__doc__ = builder.__doc__
        self._sync = endpoint(builder)
        self._async = async_endpoint(builder)

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Any: ...

    @overload
    def __get__(self, client: BaseAsyncClient, owner: type[Any]) -> Callable[P, Awaitable[T]]: ...

    @overload
    def __get__(self, client: BaseClient, owner: type[Any]) -> Callable[P, T]: ...

    def __get__(self, client: object, owner: type[Any]) -> Any:
        if client is None:  # read on a class: a client's is its plain function, as a method's would be
            if issubclass(owner, BaseAsyncClient):
                return self._async
            return self._sync if issubclass(owner, BaseClient) else self
        method = self._async if isinstance(client, BaseAsyncClient) else self._sync
        return types.MethodType(method, client)


# ------------------------------------------------------------------ JSON -> dataclasses


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(options[0], value) if len(options) == 1 else value
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return [_convert(item, v) for v in value]
    if origin is dict or hint is dict:
        return dict(value)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _build(hint, value)
    return value


def _build(cls: type[D], data: Any) -> D:
    if not isinstance(data, Mapping):
        raise ApiResponseError(f"expected a JSON object for {cls.__name__}, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name])
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ApiResponseError(f"the answer does not fit {cls.__name__}: {exc}") from None


def model(cls: type[D]) -> Callable[[Any], D]:
    """A parser of a JSON object into the dataclass ``cls`` (unknown keys are ignored, so a newer server's
    extra fields do not break an older client)."""

    def parse(data: Any) -> D:
        return _build(cls, data)

    parse.__name__ = f"parse_{cls.__name__}"
    return parse


# ------------------------------------------------------------------ sending


def _is_json(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    return "json" in content_type


def _result(request: ApiRequest[T], response: httpx.Response) -> T:
    if response.status_code >= 400:
        problem: Any = None
        if _is_json(response):
            try:
                problem = response.json()
            except ValueError:
                problem = None
        raise problem_error(response.status_code, problem, response.text)
    if request.accept != "application/json":
        return request.parse(response.content)
    if response.status_code == 204 or not response.content:
        return request.parse(None)
    try:
        data = response.json()
    except ValueError:
        raise ApiResponseError(f"{request.method} {request.path}: the answer is not JSON") from None
    redacted = response.headers.get(REDACTED_HEADER)
    if redacted:  # a replay whose secrets were shown once: never hand back the placeholder as if it were one
        fields = tuple(name.strip() for name in redacted.split(",") if name.strip())
        raise SecretAlreadyShownError(request.method, request.path, fields, request.parse(data))
    return request.parse(data)


H = TypeVar("H", httpx.Client, httpx.AsyncClient)  # the connection pool
B = TypeVar("B", httpx.BaseTransport, httpx.AsyncBaseTransport)  # its transport


class _Common(Generic[H, B]):
    """What both clients share: base URL, key (an API key or a customer session token), the teller's desk, the
    connection pool (``http``, or one made for this client with ``transport``), headers of a request, when to
    retry."""

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout: float = DEFAULT_TIMEOUT,
                 retries: int = 2, backoff: float = 0.2, transport: B | None = None, http: H | None = None,
                 teller: Teller | None = None) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.retries = retries
        self.backoff = backoff
        self.teller = teller
        self._owned = http is None
        self._http: H = self._connect(timeout, transport) if http is None else http

    def _connect(self, timeout: float, transport: B | None) -> H:
        """A connection pool of this client's own (closed with the client)."""
        raise NotImplementedError

    def __repr__(self) -> str:  # never the key
        return f"{type(self).__name__}({self.base_url!r})"

    def _headers(self, request: ApiRequest[Any], key: str | None, body: bytes | None) -> dict[str, str]:
        headers = {"Accept": f"{request.accept}, application/problem+json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers["Idempotency-Key"] = key
        if request.totp is not None:
            headers[TOTP_HEADER] = request.totp
        if self.teller is not None:
            headers.update(self.teller.headers())
        headers.update(request.headers or {})
        headers.update(self.sign(request, body))
        return headers

    def prepare(self, request: ApiRequest[Any]) -> PreparedRequest:
        """What :meth:`send` would put on the wire for ``request`` (with a fresh idempotency key if it takes
        one), for a caller that sends many requests itself, e.g. a load generator that serialises them all
        before its clock starts."""
        key, body = self._key(request), request.body()
        query = request.query()
        path = request.path + ("?" + urlencode(query) if query else "")
        return PreparedRequest(request.method, path, self._headers(request, key, body), body)

    def sign(self, request: ApiRequest[Any], body: bytes | None) -> dict[str, str]:
        """Extra headers computed from the exact body (override: an ATM signs its messages)."""
        return {}

    @staticmethod
    def _key(request: ApiRequest[Any]) -> str | None:
        if not request.idempotent:
            return None
        return request.idempotency_key or str(uuid.uuid4())

    def _may_retry(self, request: ApiRequest[Any], attempt: int) -> bool:
        # Only requests that are safe to repeat: reads, and POSTs carrying an idempotency key.
        return attempt < self.retries and (request.method in ("GET", "HEAD") or request.idempotent)

    def _final(self, request: ApiRequest[Any], attempt: int,
               outcome: httpx.Response | httpx.TransportError) -> httpx.Response | None:
        """The answer to parse, or ``None`` to retry after :meth:`_pause`; a transport error that may not be
        retried raises :class:`ApiConnectionError`."""
        if isinstance(outcome, httpx.TransportError):
            if self._may_retry(request, attempt):
                return None
            raise ApiConnectionError(f"{request.method} {request.path}: {type(outcome).__name__}: {outcome}"
                                     ) from outcome
        if outcome.status_code in RETRY_STATUSES and self._may_retry(request, attempt):
            return None
        return outcome

    def _pause(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt + 1`` (exponential backoff)."""
        return self.backoff * 2.0**attempt


class BaseClient(_Common[httpx.Client, httpx.BaseTransport]):
    """The synchronous client's transport (see :class:`wallet_sdk.client.Client`)."""

    def _connect(self, timeout: float, transport: httpx.BaseTransport | None) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def __enter__(self) -> typing.Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def send(self, request: ApiRequest[T]) -> T:
        """Send ``request`` and parse its answer; a problem answer raises its typed :class:`ApiProblemError`."""
        key, body = self._key(request), request.body()
        attempt = 0
        while True:
            outcome: httpx.Response | httpx.TransportError
            try:
                outcome = self._http.request(request.method, request.path, content=body, params=request.query(),
                                             headers=self._headers(request, key, body))
            except httpx.TransportError as exc:
                outcome = exc
            response = self._final(request, attempt, outcome)
            if response is not None:
                return _result(request, response)
            time.sleep(self._pause(attempt))
            attempt += 1


class BaseAsyncClient(_Common[httpx.AsyncClient, httpx.AsyncBaseTransport]):
    """The asynchronous client's transport (see :class:`wallet_sdk.client.AsyncClient`)."""

    def _connect(self, timeout: float, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)

    async def __aenter__(self) -> typing.Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owned:
            await self._http.aclose()

    async def send(self, request: ApiRequest[T]) -> T:
        """Send ``request`` and parse its answer; a problem answer raises its typed :class:`ApiProblemError`."""
        key, body = self._key(request), request.body()
        attempt = 0
        while True:
            outcome: httpx.Response | httpx.TransportError
            try:
                outcome = await self._http.request(request.method, request.path, content=body,
                                                   params=request.query(), headers=self._headers(request, key, body))
            except httpx.TransportError as exc:
                outcome = exc
            response = self._final(request, attempt, outcome)
            if response is not None:
                return _result(request, response)
            await asyncio.sleep(self._pause(attempt))
            attempt += 1
