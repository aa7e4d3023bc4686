"""The API role of ``walletnet node run``: the bank's HTTP API as ``workers`` uvicorn worker processes (uvloop,
httptools) on one listening socket, started as a child of the node process and stopped with it.

The workers share nothing but the database: each builds its app from the same settings (``api.app:
app_from_env``, which reads ``$WALLETNET_CONFIG`` and ``WALLETNET_*``), so they can run on any number of
machines as well. With several workers, each keeps its metrics in files of a directory they share
(``PROMETHEUS_MULTIPROC_DIR``, made here unless the environment names one), so any worker's ``/metrics`` adds up
all of them. The child is told to end when its parent dies (Linux's parent-death signal), so a node
process that is SIGKILLed leaves no API behind on its port.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["ApiServer"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's multiprocess mode (node/metrics.py)

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent goes (uvicorn then stops its workers in order)."""
    libc_name = ctypes.util.find_library("c")
    if libc_name and sys.platform.startswith("linux"):
        ctypes.CDLL(libc_name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


GRACEFUL_SHUTDOWN = 5  # seconds a stopping worker waits for requests in progress before it cuts them


class ApiServer:
    """``uvicorn --factory api.app:app_from_env`` with ``workers`` processes on ``host:port``."""

    def __init__(self, host: str, port: int, workers: int, *, config: Path | None = None,
                 db_url: str | None = None, log_level: str = "warning", log_format: str | None = None) -> None:
        self.host, self.port, self.workers = host, port, workers
        self.argv = [sys.executable, "-m", "uvicorn", "--factory", "api.app:app_from_env", "--host", host,
                     "--port", str(port), "--workers", str(workers), "--loop", "uvloop", "--http", "httptools",
                     "--log-level", log_level, "--no-access-log",
                     # open notification streams (SSE) never end by themselves: cut them so a stop does not hang
                     "--timeout-graceful-shutdown", str(GRACEFUL_SHUTDOWN)]
        self.env: Mapping[str, str] = {**os.environ, **({"WALLETNET_CONFIG": str(config)} if config else {}),
                                       **({"WALLETNET_DB_URL": db_url} if db_url else {}),
                                       **({"WALLETNET_LOG_FORMAT": log_format} if log_format else {})}
        self.process: subprocess.Popen[bytes] | None = None
        self._metrics_dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        env = dict(self.env)
        if self.workers > 1 and not env.get(MULTIPROC_ENV):  # /metrics adds up every worker's (api/metrics.py)
            self._metrics_dir = tempfile.TemporaryDirectory(prefix="walletnet-metrics-")
            env[MULTIPROC_ENV] = self._metrics_dir.name
        self.process = subprocess.Popen(self.argv, env=env, preexec_fn=_die_with_parent)

    def exited(self) -> int | None:
        """The exit code if the server ended on its own, else None."""
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (uvicorn finishes the requests in flight), SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self._metrics_dir is not None:
            self._metrics_dir.cleanup()
