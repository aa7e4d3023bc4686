"""Node tests run on both databases: every test that takes ``db_url``/``engine``/``session`` runs once on a
SQLite file and once on PostgreSQL.

PostgreSQL is a throwaway cluster started once per session: its binaries come from /usr/lib/postgresql/*/bin
(installed with ``apt-get install -y postgresql`` when missing), ``initdb`` runs as the ``postgres`` user
in a temporary folder, the server listens on a free loopback port with its socket in that folder, and it
is stopped (``pg_ctl stop -m fast``) at the end even when tests fail. The PostgreSQL leg is never skipped:
if the cluster cannot start, its tests fail saying why.

Each test gets a fresh, migrated database: a copy of a template migrated once per session (a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from node_support import ACCOUNTS, CURRENCY
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from node.db import create_engine, session_factory, upgrade
from node.devnet import free_port
from node.ledger import SqlLedger

BACKENDS = ("sqlite", "postgresql")
PG_USER = "postgres"


# ------------------------------------------------------------------ PostgreSQL cluster


@dataclass
class PgServer:
    bin_dir: Path
    root: Path
    port: int

    def url(self, database: str) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{database}"  # the node maps this to psycopg 3

    def admin(self, sql: str) -> None:
        """Run ``sql`` outside a transaction (CREATE/DROP DATABASE) in the maintenance database."""
        engine = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(sql))
        finally:
            engine.dispose()


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _find_pg_bin() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        if (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    return None


def _install_postgresql() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]
    if subprocess.run(install, env=env, capture_output=True, text=True).returncode == 0:
        return
    subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True, check=False)
    done = subprocess.run(install, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"apt-get install postgresql failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb refuses to run as root: run the server's tools as the postgres user when we are root.
    return ["runuser", "-u", PG_USER, "--", *argv] if os.geteuid() == 0 else argv


def _start_postgres() -> tuple[PgServer, str]:
    bin_dir = _find_pg_bin()
    if bin_dir is None:
        if os.geteuid() != 0:
            raise RuntimeError("PostgreSQL is not installed and we are not root: `apt-get install postgresql`")
        _install_postgresql()
        bin_dir = _find_pg_bin()
        if bin_dir is None:
            raise RuntimeError("postgresql installed, but no initdb/pg_ctl under /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="walletnet-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam(PG_USER)
        os.chown(root, account.pw_uid, account.pw_gid)
    root.chmod(0o700)
    data = root / "data"
    log = root / "server.log"
    initdb = subprocess.run(
        _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust", "--encoding=UTF8",
                      "--no-locale", "--no-sync"]),
        capture_output=True, text=True,
    )
    if initdb.returncode != 0:
        raise RuntimeError(f"initdb failed:\n{initdb.stdout[-2000:]}\n{initdb.stderr[-2000:]}")
    port = free_port()
    options = (f"-p {port} -h 127.0.0.1 -k {root} -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=50")
    start = subprocess.run(
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options,
                      "start"]),
        capture_output=True, text=True,
    )
    server = PgServer(bin_dir=bin_dir, root=root, port=port)
    if start.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        _stop_postgres(server)
        raise RuntimeError(f"pg_ctl start failed:\n{start.stdout}\n{start.stderr}\n{tail}")
    return server, str(data)


def _stop_postgres(server: PgServer) -> None:
    data = server.root / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(_as_postgres([str(server.bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True, text=True, check=False)
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        server, _ = _start_postgres()
    except Exception as exc:  # never skip the PostgreSQL leg: fail and say why
        pytest.fail(f"the PostgreSQL test leg could not start a throwaway cluster: {exc}", pytrace=False)
    try:
        server.admin("CREATE DATABASE walletnet_template")
        upgrade(server.url("walletnet_template"))
        yield server
    finally:
        _stop_postgres(server)


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

