"""The network under load: ``walletnet up --bank-processes`` (anvil, the contracts, and each bank's node and
API in a process of its own, as a bank deploys them on SQLite) started as a child process, so the load
generator's CPU and GIL stay out of the measured processes.

The bench finds it through the files ``walletnet up`` writes (network.json, credentials.json) and counts the
banks' operations by status in their databases (read-only), which is how it knows what is on chain.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, func, select

from node.db import create_engine, session_factory, transaction
from node.operations.models import Operation, OperationKind
from node.reconcile.service import reconcile
from tools.localnet_nodes import read_network_file
from wallet_sdk.chain.network import Network

__all__ = ["BenchNetwork", "NetworkStartError", "cpu_seconds", "peak_memory_kib"]

_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout)\b.*: ")
START_TIMEOUT = 180.0  # seconds: anvil, the deployment and two nodes from scratch


class NetworkStartError(RuntimeError):
    """``walletnet up`` exited or did not answer in time."""


def peak_memory_kib(pid: int) -> int:
    """The process's peak resident set (VmHWM, KiB) from /proc: what the node needed at its busiest."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise LookupError(f"no VmHWM for process {pid}")


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (user + system, from /proc): what a phase cost it, whoever else shared the
    cores meanwhile."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class BenchNetwork:
    """``walletnet up --data-dir <tmp>`` as a child process; use as a context manager."""

    data_dir: Path | None = None
    db_url_template: str | None = None  # each bank's database (walletnet up --db-url-template); None: SQLite
    api_workers: int | None = None  # each bank's API as that many uvicorn processes; None: in the API's process
    info: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)
    _proc: subprocess.Popen[bytes] | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    _engines: dict[str, Engine] = field(default_factory=dict)

    def __enter__(self) -> BenchNetwork:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self._proc is not None, "not started"
        return self._proc.pid

    def start(self) -> None:
        if self.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="walletnet-bench-")
            self.data_dir = Path(self._tmp.name)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "up.log").open("wb")
        cmd = [sys.executable, "-m", "tools.cli", "up", "--banks", "2", "--data-dir", str(self.data_dir),
               "--bank-processes"]
        if self.db_url_template is not None:
            cmd += ["--db-url-template", self.db_url_template]
        if self.api_workers is not None:
            cmd += ["--api-workers", str(self.api_workers)]
        env = {**os.environ, "COLUMNS": "200"}
        self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while (info := read_network_file(self.data_dir)) is None:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise NetworkStartError(f"walletnet up did not start; see {self.data_dir / 'up.log'}")
            time.sleep(0.2)
        self.info = info
        self.credentials = json.loads(Path(info["credentials_file"]).read_text())["banks"]

    def stop(self) -> None:
        """SIGTERM (walletnet up stops its APIs, nodes and anvil in order), then SIGKILL if it hangs."""
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(60)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # ------------------------------------------------------------------ what the bench reads

    @property
    def banks(self) -> list[str]:
        return sorted(self.info["banks"])

    def url(self, bank: str) -> str:
        return str(self.info["banks"][bank]["api_url"])

    def host_port(self, bank: str) -> tuple[str, int]:
        parts = urlsplit(self.url(bank))
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"bank {bank}'s API address {self.url(bank)} names no host and port")
        return parts.hostname, parts.port

    def key(self, bank: str, scope: str) -> str:
        return self.credentials[bank][scope]

    @property
    def rpc_url(self) -> str:
        return str(self.info["rpc_url"])

    @property
    def deployment_file(self) -> Path:
        return Path(self.info["deployment_file"])

    def process_ids(self, bank: str) -> dict[str, int]:
        """The bank's API and node processes, and the chain's (anvil, found by its port in /proc)."""
        found = {"api": int(self.info["banks"][bank]["pid"]), "node": int(self.info["banks"][bank]["node_pid"])}
        port = str(urlsplit(self.rpc_url).port)
        for entry in Path("/proc").iterdir():
            try:
                words = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(w.endswith(b"anvil") for w in words) and port.encode() in words:
                found["chain"] = int(entry.name)
        return found

    def peak_memory_kib(self, bank: str) -> int:
        """The peak resident set of the bank: its API's process plus its node's (one figure when they share one)."""
        pids = {int(self.info["banks"][bank]["pid"]), int(self.info["banks"][bank].get("node_pid", 0))} - {0}
        return sum(peak_memory_kib(pid) for pid in pids)

    def reconciliation_differences(self, bank: str, *, settle_seconds: float = 30.0) -> int:
        """How many differences reconciling ``bank`` finds (node.reconcile: its ledger, outbox and index against
        the chain), asked again each second for up to ``settle_seconds`` while its indexer catches up."""
        network = Network.connect(self.rpc_url, self.deployment_file, timeout=30.0)
        deadline = time.monotonic() + settle_seconds
        while True:
            report = reconcile(network, self._engine(bank), bank, confirmations=1)
            if report.ok or time.monotonic() >= deadline:
                return len(report.differences)
            time.sleep(1.0)

    def stopped_threads(self) -> list[str]:
        """Node threads that failed and stopped their bank's node during the run (from walletnet up's log),
        each with the exception that stopped it: a bench must say if the network it measured broke."""
        assert self.data_dir is not None
        lines = (self.data_dir / "up.log").read_text(errors="replace").splitlines()
        found = []
        for i, line in enumerate(lines):
            if line.endswith("failed; stopping the node"):
                cause = next((x for x in lines[i + 1:] if _EXCEPTION_LINE.match(x)), "")
                found.append(f"{line.split()[0]}: {cause[:160]}")
        return found

    def _engine(self, bank: str) -> Engine:
        if bank not in self._engines:
            self._engines[bank] = create_engine(self.info["banks"][bank]["db_url"])
        return self._engines[bank]

    def last_operation_id(self, bank: str) -> int:
        """The bank's newest operation row id (operations after it are the phase's)."""
        with transaction(session_factory(self._engine(bank), read_only=True)) as session:
            return int(session.scalar(select(func.max(Operation.id))) or 0)

    def operation_statuses(self, bank: str, kind: OperationKind, after_id: int) -> Counter[str]:
        """How many of the bank's ``kind`` operations after row ``after_id`` are in each status."""
        with transaction(session_factory(self._engine(bank), read_only=True)) as session:
            rows = session.execute(select(Operation.status, func.count()).where(
                Operation.kind == kind, Operation.id > after_id).group_by(Operation.status)).all()
        return Counter({str(status.value if hasattr(status, "value") else status): int(n) for status, n in rows})
