"""The app's shared state and its dependencies as ``Annotated`` aliases (``SessionDep``, ``NetworkDep`` ...)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Annotated, Protocol, TypeVar, cast

import anyio
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.problems import ChainUnavailableError
from api.stream_hub import StreamHub
from node.api_keys.cache import PrincipalCache
from node.db import session_factory
from node.db.durable import unit_of_work, work_sessions
from node.settings import NodeSettings
from wallet_sdk.chain.network import Network
from wallet_sdk.exceptions import WalletnetError

__all__ = ["AppState", "AppStateDep", "NetworkDep", "ReadSessionDep", "SessionDep", "SettingsDep", "after_session",
           "app_state"]


class Lane(Protocol):
    """A request queue with a thread of its own that the app stops when it shuts down."""

    def close(self) -> None: ...


L = TypeVar("L", bound=Lane)


class AppState:
    """What one app instance shares between requests: settings, the DB engine, the chain connection."""

    def __init__(self, settings: NodeSettings, engine: Engine,
                 network_factory: Callable[[], Network] | None = None) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self.work_sessions: sessionmaker[Session] = work_sessions(engine)  # the requests' (node.db.durable)
        self.read_sessions: sessionmaker[Session] = session_factory(engine, read_only=True)
        self._network_factory = network_factory or self._connect
        self._network: Network | None = None
        self._lock = threading.Lock()
        self.principals = PrincipalCache(settings.api_key_cache_seconds)  # who keys are (api.auth)
        self._lanes: dict[str, Lane] = {}
        self._lanes_lock = threading.Lock()
        self.stream_hub = StreamHub(self.read_sessions, settings.notification_streams_max)  # api.stream_hub

    def lane(self, name: str, make: Callable[[], L]) -> L:
        """The lane ``name`` (e.g. node.transfers.lane.TransferLane), made by ``make`` on first use and closed
        with the app (:meth:`close`)."""
        with self._lanes_lock:
            if name not in self._lanes:
                self._lanes[name] = make()
            return cast("L", self._lanes[name])

    def close(self) -> None:
        """Stop the lanes (each answers what it has queued first)."""
        with self._lanes_lock:
            lanes, self._lanes = list(self._lanes.values()), {}
        for lane in lanes:
            lane.close()

    @property
    def connected(self) -> Network | None:
        """The chain connection if one was made already (reading it needs no lock)."""
        return self._network

    def _connect(self) -> Network:
        return Network.connect(self.settings.rpc_url, self.settings.deployment_path, timeout=10.0)

    def network(self) -> Network:
        """The chain connection, made on first use (so the API starts while the chain is down)."""
        with self._lock:
            if self._network is None:
                try:
                    self._network = self._network_factory()
                except (WalletnetError, OSError) as exc:
                    raise ChainUnavailableError(f"cannot connect to the chain: {type(exc).__name__}") from exc
            return self._network


async def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.walletnet
    return state


AppStateDep = Annotated[AppState, Depends(app_state)]


async def get_settings(state: AppStateDep) -> NodeSettings:
    return state.settings


async def get_session(request: Request, state: AppStateDep) -> AsyncIterator[Session]:
    """A session per request, committed when the endpoint returns normally, rolled back otherwise; writes the
    work made durable (node.db.durable, e.g. a wrong TOTP code counted) are committed either way.

    Work that must wait until this session is closed (it would need SQLite's write lock, which the session
    may hold) is queued with :func:`after_session` and runs right after the session ends.

    Opening the session does no I/O (its transaction begins at its first statement, in the endpoint's worker
    thread), so only the end (commit or rollback, then the queued work) goes to the thread pool: one hop per
    request rather than two.
    """
    request.state.sessions_open = getattr(request.state, "sessions_open", 0) + 1
    work = unit_of_work(state.work_sessions)
    session = work.__enter__()
    try:
        yield session
    except BaseException as exc:
        with anyio.CancelScope(shield=True):  # a cancelled request still ends its transaction (and lock)
            await run_in_threadpool(_close, request, work, exc)
        raise
    with anyio.CancelScope(shield=True):
        await run_in_threadpool(_close, request, work, None)


def _close(request: Request, work: AbstractContextManager[Session], error: BaseException | None) -> None:
    """End the request's unit of work (commit, or roll back on ``error``), then run the work queued for after
    it (:func:`after_session`) once no session of the request is open."""
    try:
        if error is None:
            work.__exit__(None, None, None)
        else:
            work.__exit__(type(error), error, error.__traceback__)  # rolls back; the caller re-raises the error
    finally:
        request.state.sessions_open -= 1
        if request.state.sessions_open == 0:
            for callback in getattr(request.state, "after_session", []):
                callback()
            request.state.after_session = []


def after_session(request: Request, callback: Callable[[], None]) -> bool:
    """Queue ``callback`` to run once the request's session is closed; False (nothing queued) if no session
    is open, so the caller runs it itself. Dependencies are torn down in the reverse order of the endpoint's
    parameters, so a teardown cannot know otherwise whether the request's session still holds locks."""
    if getattr(request.state, "sessions_open", 0) <= 0:
        return False
    queued: list[Callable[[], None]] = getattr(request.state, "after_session", [])
    queued.append(callback)
    request.state.after_session = queued
    return True


def get_read_session(state: AppStateDep) -> Iterator[Session]:
    """A read-only session per request (never takes SQLite's write lock)."""
    with state.read_sessions.begin() as session:
        yield session


async def get_network(state: AppStateDep) -> Network:
    if state.connected is not None:  # the usual case: no thread-pool hop to hand it out
        return state.connected
    return await run_in_threadpool(state.network)  # connecting blocks


SettingsDep = Annotated[NodeSettings, Depends(get_settings)]
# scope="function": the session commits (or rolls back) when the endpoint returns, BEFORE the response is
# sent; with the default scope FastAPI would commit after sending it, so a client could see 202 and then
# not find what it was told about, and a rolled-back request would hold SQLite's write lock meanwhile.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
NetworkDep = Annotated[Network, Depends(get_network)]
