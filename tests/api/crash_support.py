"""One bank as production runs it (docker-compose.yml), for the crash-under-load and failover tests: the bank
node (``walletnet node run --roles writer,indexer,jobs``, one or more processes: one holds each role, the
others stand by) and the API (``uvicorn --factory api.app:app_from_env``, or ``walletnet node run --roles api``
with several workers) as OS processes on one PostgreSQL database, configured by a settings file and the
environment only, the operator key in an encrypted keystore. Any process can be SIGKILLed and started again."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine

from node.api_keys import Scope, create_key
from node.db import session_factory, transaction
from node.ledger import SqlLedger
from node.ledger.accounts import ensure_system_accounts
from tools.devnet import free_port
from wallet_sdk.keys import WalletKey

__all__ = ["BankProcesses", "ProcessFailedError"]

BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0


class ProcessFailedError(RuntimeError):
    """A process of the bank exited on its own, or did not come up; the message ends with its log."""


@dataclass
class _Proc:
    name: str
    argv: list[str]
    log_dir: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    exits: list[int] = field(default_factory=list)  # return codes of the runs that ended
    cpu: float = 0.0  # CPU seconds of the runs that ended (user + system), for the report
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # start, signal, check_alive

    @property
    def log(self) -> Path:
        return self.log_dir / f"{self.name}-{self.starts}.log"

    def start(self, env: dict[str, str]) -> None:
        with self.lock:
            assert self.popen is None or self.popen.poll() is not None, f"{self.name} is running"
            self.starts += 1
            with self.log.open("wb") as out:  # the child keeps its own descriptor
                self.popen = subprocess.Popen(self.argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                              start_new_session=True)

    def signal(self, sig: int, timeout: float = 30.0) -> int:
        with self.lock:  # a client's check_alive waits for the kill to be done, not taking it for a crash
            assert self.popen is not None
            if self.popen.poll() is None:
                self.cpu += _cpu_seconds(self.popen.pid)
                self.popen.send_signal(sig)
            code = self.popen.wait(timeout)
            self.exits.append(code)
            self.popen = None
            return code

    @property
    def pid(self) -> int | None:
        """The current run's process id (None when it is not running)."""
        return None if self.popen is None or self.popen.poll() is not None else self.popen.pid

    def cpu_seconds(self) -> float:
        """CPU seconds of every run so far, the current one included."""
        return self.cpu + (_cpu_seconds(self.popen.pid) if self.popen is not None else 0.0)

    def is_up(self, banner: str) -> bool:
        """Whether this run printed ``banner`` (it is past its start-up)."""
        try:
            return banner in self.log.read_text(errors="replace")
        except OSError:
            return False

    def check_alive(self) -> None:
        """Raise if the run ended on its own (one this test killed is no longer the current run)."""
        with self.lock:
            if self.popen is not None and self.popen.poll() is not None:
                raise ProcessFailedError(f"{self.name} exited with {self.popen.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


class BankProcesses:
    """Bank ``BANKA`` of the deployment in ``root``: its settings file, keystore and keys, and its two
    processes. ``engine`` is the test's own look at the bank's database."""

    def __init__(self, root: Path, *, rpc_url: str, deployment_file: Path, db_url: str, engine: Engine,
                 operator: LocalAccount, nodes: int = 1, api_workers: int | None = None) -> None:
        self.root = root
        self.engine = engine
        password = secrets.token_urlsafe(24)  # never logged
        keystore = WalletKey.from_private_key("0x" + bytes(operator.key).hex()).save(root / "operator.json", password,
                                                                         scrypt_n=2**10)
        config = {"bank_id": "BANKA", "rpc_url": rpc_url, "data_dir": str(root), "deployment_file":
                  str(deployment_file), "db_url": db_url, "operator_keystore": str(keystore),
                  "operator_password_env": "CRASH_OPERATOR_PASSWORD", "custody_key_env": "CRASH_CUSTODY_KEY",
                  "confirmations": 1, "settlement_cutoff": None, "second_factor_threshold": 10**12}
        (root / "node.json").write_text(json.dumps(config))
        self.env = {**os.environ, "WALLETNET_CONFIG": str(root / "node.json"), "PYTHONUNBUFFERED": "1",
                    "CRASH_OPERATOR_PASSWORD": password, "CRASH_CUSTODY_KEY": Fernet.generate_key().decode()}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        node = [str(BIN / "walletnet"), "node", "run", "--roles", "writer,indexer,jobs", "--poll-interval", "0.2"]
        self.nodes = [_Proc(f"node{i}" if nodes > 1 else "node", node, root) for i in range(1, nodes + 1)]
        if api_workers is None:  # the API's server as the deployment guide runs it
            api = [sys.executable, "-m", "uvicorn", "--factory", "api.app:app_from_env", "--host", "127.0.0.1",
                   "--port", str(self.port), "--log-level", "warning"]
        else:  # the api role of `walletnet node run`, with its workers
            api = [str(BIN / "walletnet"), "node", "run", "--roles", "api", "--api-workers", str(api_workers),
                   "--api-port", str(self.port)]
        self.api = _Proc("api", api, root)
        with transaction(session_factory(engine)) as session:
            ensure_system_accounts(SqlLedger(session), "DCASH")

    def key(self, *scopes: Scope | str) -> str:
        """The secret of a new API key with ``scopes``."""
        with transaction(session_factory(self.engine)) as session:
            return create_key(session, name="crash", scopes=tuple(Scope(s) for s in scopes)).secret

    # ------------------------------------------------------------------ the nodes

    @property
    def node(self) -> _Proc:
        """The first (with one node process, the only) node process."""
        return self.nodes[0]

    def start_nodes(self) -> None:
        for node in self.nodes:
            node.start(self.env)

    def start_node(self, node: _Proc | None = None) -> None:
        (node or self.node).start(self.env)

    def kill_node(self, node: _Proc | None = None) -> int:
        return (node or self.node).signal(signal.SIGKILL)

    def stop_node(self, node: _Proc | None = None) -> int:
        """SIGTERM: the node finishes its round and exits 0."""
        return (node or self.node).signal(signal.SIGTERM)

    # ------------------------------------------------------------------ the API

    def start_api(self) -> None:
        self.api.start(self.env)
        self.wait_api()

    def kill_api(self) -> int:
        return self.api.signal(signal.SIGKILL)

    def stop(self) -> None:
        """Stop whatever still runs (the end of the test, or a failure)."""
        for proc in (*self.nodes, self.api):
            if proc.popen is not None:
                proc.signal(signal.SIGKILL)

    def api_answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/v1/health", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_api(self, timeout: float = START_TIMEOUT) -> None:
        """Until the API answers its health check (a client waits so after a dropped connection)."""
        deadline = time.monotonic() + timeout
        while not self.api_answers():
            if self.api.popen is not None:
                self.api.check_alive()
            if time.monotonic() > deadline:
                raise ProcessFailedError(f"the API did not answer within {timeout:g}s:\n{self.api.tail()}")
            time.sleep(0.05)
