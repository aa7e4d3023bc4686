"""The app's shared state and its dependencies as ``Annotated`` aliases (``SessionDep``, ``NetworkDep`` ...)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.errors import ChainUnavailableError
from node.db import session_factory
from node.settings import NodeSettings
from wallet_sdk.chain.network import Network
from wallet_sdk.exceptions import WalletnetError

__all__ = ["AppState", "AppStateDep", "NetworkDep", "ReadSessionDep", "SessionDep", "SettingsDep", "app_state"]


class AppState:
    """What one app instance shares between requests: settings, the DB engine, the chain connection."""

    def __init__(self, settings: NodeSettings, engine: Engine,
                 network_factory: Callable[[], Network] | None = None) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self.read_sessions: sessionmaker[Session] = session_factory(engine, read_only=True)
        self._network_factory = network_factory or self._connect
        self._network: Network | None = None
        self._lock = threading.Lock()

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


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.walletnet
    return state


AppStateDep = Annotated[AppState, Depends(app_state)]


def get_settings(state: AppStateDep) -> NodeSettings:
    return state.settings


def get_session(state: AppStateDep) -> Iterator[Session]:
    """A session per request, committed when the endpoint returns normally, rolled back otherwise."""
    with state.sessions.begin() as session:
        yield session


def get_read_session(state: AppStateDep) -> Iterator[Session]:
    """A read-only session per request (never takes SQLite's write lock)."""
    with state.read_sessions.begin() as session:
        yield session


def get_network(state: AppStateDep) -> Network:
    return state.network()


SettingsDep = Annotated[NodeSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
NetworkDep = Annotated[Network, Depends(get_network)]
