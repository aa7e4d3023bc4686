"""Node tests run on both databases: every test that takes ``db_url``/``engine``/``session`` runs once on a
SQLite file and once on PostgreSQL (the session's throwaway cluster, ``pg_server`` in tests/conftest.py).

Each test gets a fresh, migrated database: a copy of a template migrated once per session (a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from node_support import ACCOUNTS, CURRENCY
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from node.db import create_engine, session_factory, upgrade
from node.ledger import SqlLedger
from tools.postgres import PgServer
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator

BACKENDS = ("sqlite", "postgresql")


# ------------------------------------------------------------------ SQLite template


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()  # closing the last connection checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


# ------------------------------------------------------------------ per-test databases


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with no tables at all (for migration tests)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = f"e_{uuid.uuid4().hex[:16]}"
    server.admin(f"CREATE DATABASE {name}")
    yield server.url(name)
    server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database migrated to head."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "node.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = f"t_{uuid.uuid4().hex[:16]}"
    server.admin(f"CREATE DATABASE {name} TEMPLATE walletnet_template")
    yield server.url(name)
    server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = create_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


# ------------------------------------------------------------------ a ledger with the usual accounts

@pytest.fixture
def ledger(session: Session) -> SqlLedger:
    """The built-in ledger on ``session`` with node_support.ACCOUNTS opened and committed (all empty)."""
    book = SqlLedger(session)
    for code, kind in ACCOUNTS.items():
        book.open_account(code, kind, CURRENCY)
    session.commit()
    return book


# ------------------------------------------------------------------ the chain writer's tests (a module may override)


@pytest.fixture
def network(system: Any) -> Network:
    return Network.from_web3(system.w3, system.deployment, verify=False)


@pytest.fixture
def operator(system: Any) -> LocalAccount:
    """The writer's key: bank A's first operator."""
    account: LocalAccount = system.banks["A"].operators[0]
    return account


@pytest.fixture
def bank(network: Network, system: Any) -> BankOperator:
    """Bank A's second operator, for the tests' own set-up (the writer's nonces stay the writer's)."""
    return network.bank_operator(system.banks["A"].operators[1])
