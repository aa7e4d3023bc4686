"""The API role of ``walletnet node run``: the bank's HTTP API as ``workers`` uvicorn worker processes (uvloop,
httptools) on one listening socket, started as a child of the node process and stopped with it.

The workers share nothing but the database: each builds its app from the same settings (``api.app:
app_from_env``, which reads ``$WALLETNET_CONFIG`` and ``WALLETNET_*``), so they can run on any number of
machines as well. The child is told to end when its parent dies (Linux's parent-death signal), so a node
process that is SIGKILLed leaves no API behind on its port.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["ApiServer"]

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent goes (uvicorn then stops its workers in order)."""
    libc_name = ctypes.util.find_library("c")
    if libc_name and sys.platform.startswith("linux"):
        ctypes.CDLL(libc_name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ApiServer:
    """``uvicorn --factory api.app:app_from_env`` with ``workers`` processes on ``host:port``."""

    def __init__(self, host: str, port: int, workers: int, *, config: Path | None = None,
                 db_url: str | None = None, log_level: str = "warning") -> None:
        self.host, self.port, self.workers = host, port, workers
        self.argv = [sys.executable, "-m", "uvicorn", "--factory", "api.app:app_from_env", "--host", host,
                     "--port", str(port), "--workers", str(workers), "--loop", "uvloop", "--http", "httptools",
                     "--log-level", log_level, "--no-access-log"]
        self.env: Mapping[str, str] = {**os.environ, **({"WALLETNET_CONFIG": str(config)} if config else {}),
                                       **({"WALLETNET_DB_URL": db_url} if db_url else {})}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, env=dict(self.env), preexec_fn=_die_with_parent)

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
