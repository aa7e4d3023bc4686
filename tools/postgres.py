"""A throwaway PostgreSQL cluster for the tests (the ``pg_server`` fixture in tests/conftest.py) and the
benchmark (``make bench``'s runs on PostgreSQL).

Its binaries come from /usr/lib/postgresql/*/bin (installed with ``apt-get install -y postgresql`` when
missing); ``initdb`` runs as the ``postgres`` user in a temporary folder; the server listens on a free
loopback port with its socket in that folder and is stopped (``pg_ctl stop -m fast``) at the end.
"""

from __future__ import annotations

import fcntl
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from node.db import create_engine
from tools.devnet import free_port

__all__ = ["PG_USER", "PgServer", "start_postgres", "stop_postgres"]

PG_USER = "postgres"


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


def start_postgres(*, durable: bool = False) -> tuple[PgServer, str]:
    """Install (when missing), initialise and start a cluster; the server and its data folder. The tests' is
    not ``durable`` (no fsync at all: a crash of the machine may lose it, which a test does not mind); the
    benchmark's is, as a bank would run it, but without waiting for each commit's flush
    (``synchronous_commit=off``: a crash loses the last fraction of a second, never consistency), the
    counterpart of SQLite's WAL with ``synchronous=NORMAL`` that the node uses."""
    bin_dir = _find_pg_bin()
    if bin_dir is None:
        if os.geteuid() != 0:
            raise RuntimeError("PostgreSQL is not installed and we are not root: `apt-get install postgresql`")
        # Test legs run side by side (scripts/test_legs.py): one installs, the others wait for it (apt-get
        # would refuse a second run while the first holds dpkg's lock).
        with open(Path(tempfile.gettempdir()) / "walletnet-pg-install.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _find_pg_bin() is None:
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
    safety = "" if durable else "-c fsync=off -c full_page_writes=off "
    options = f"-p {port} -h 127.0.0.1 -k {root} {safety}-c synchronous_commit=off -c max_connections=100"
    start = subprocess.run(
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options,
                      "start"]),
        capture_output=True, text=True,
    )
    server = PgServer(bin_dir=bin_dir, root=root, port=port)
    if start.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        stop_postgres(server)
        raise RuntimeError(f"pg_ctl start failed:\n{start.stdout}\n{start.stderr}\n{tail}")
    return server, str(data)


def stop_postgres(server: PgServer) -> None:
    data = server.root / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(_as_postgres([str(server.bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True, text=True, check=False)
    shutil.rmtree(server.root, ignore_errors=True)
