"""A local chain for development and tests: ``anvil`` from npm, run as a child process.

``Devnet`` picks a free loopback port (or takes one), waits until the node answers, exposes its
RPC URL, chain id and funded dev keys, and stops it on exit, on Ctrl-C, and, through
``PR_SET_PDEATHSIG``, even when the parent is killed, so no anvil outlives its owner.
With ``state_file`` the chain's state is dumped on stop and loaded on the next start.

``Devnet(implementation="ganache")`` runs ganache (npm, a devDependency) instead, with the same
accounts, chain id, gas limit, hardfork and instamine: a second, independent node implementation
for the tests, so that nothing relies on anvil-only behaviour. anvil stays the default everywhere.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from wallet_sdk.devkeys import DEV_MNEMONIC, DevAccount, dev_accounts

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_CHAIN_ID = 31337
# The node implementations Devnet can run; the first is the default.
IMPLEMENTATIONS = ("anvil", "ganache")


class DevnetError(RuntimeError):
    """The local chain could not be started or did not answer."""


def _npm_binary(name: str, env: str, missing: str) -> str:
    """Path of an npm-installed binary: $``env``, the npm package's, or one on PATH."""
    candidates = [os.environ.get(env), str(PROJECT_ROOT / "node_modules" / ".bin" / name), shutil.which(name)]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise DevnetError(f"{name} not found: run `npm ci` ({missing})")


def find_anvil() -> str:
    """Path of the anvil binary: $WALLETNET_ANVIL, the npm package's, or one on PATH."""
    return _npm_binary("anvil", "WALLETNET_ANVIL", "it comes from @foundry-rs/anvil")


def find_ganache() -> str:
    """Path of the ganache CLI: $WALLETNET_GANACHE, the npm package's, or one on PATH."""
    return _npm_binary("ganache", "WALLETNET_GANACHE", "it is a devDependency in package.json")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM us when our parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def rpc_call(url: str, method: str, params: list[object] | None = None, timeout: float = 5.0) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        reply = json.loads(resp.read())
    if "error" in reply:
        raise DevnetError(f"{method}: {reply['error']}")
    return reply["result"]


class Devnet:
    """One anvil (or ganache) process. Use as a context manager, or call ``start()`` / ``stop()``."""

    def __init__(
        self,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        chain_id: int = DEFAULT_CHAIN_ID,
        accounts: int = 10,
        balance_eth: int = 10_000,
        mnemonic: str = DEV_MNEMONIC,
        state_file: Path | None = None,
        block_time: float | None = None,
        gas_limit: int = 100_000_000,
        log_file: Path | None = None,
        own_session: bool = False,
        implementation: str = "anvil",
        keep_states: int | None = None,
    ) -> None:
        if implementation not in IMPLEMENTATIONS:
            raise DevnetError(f"unknown chain implementation {implementation!r}: expected one of {IMPLEMENTATIONS}")
        if implementation != "anvil" and state_file is not None:
            raise DevnetError("state_file needs anvil (its --state dump); ganache has no such file format")
        self.implementation = implementation
        self.host = host
        self.requested_port = port
        self.port = port or 0
        self.chain_id = chain_id
        self.account_count = accounts
        self.balance_eth = balance_eth
        self.mnemonic = mnemonic
        self.state_file = state_file
        self.block_time = block_time
        self.gas_limit = gas_limit
        self.log_file = log_file
        self.own_session = own_session  # True: a terminal's Ctrl-C reaches only the owner, which stops anvil last
        # anvil only: keep the state of just the last N blocks (--prune-history N). Keeping every block's state
        # made each block of a chain with 100,000 wallets cost seconds and gigabytes (the bench's scale phase).
        self.keep_states = keep_states
        self.process: subprocess.Popen[bytes] | None = None
        self._accounts: list[DevAccount] | None = None

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def accounts(self) -> list[DevAccount]:
        if self._accounts is None:
            self._accounts = dev_accounts(self.account_count, self.mnemonic)
        return self._accounts

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _command(self) -> list[str]:
        if self.implementation == "ganache":
            return self._ganache_command()
        cmd = [
            find_anvil(),
            "--host", self.host,
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--accounts", str(self.account_count),
            "--balance", str(self.balance_eth),
            "--mnemonic", self.mnemonic,
            "--gas-limit", str(self.gas_limit),
            "--hardfork", "paris",
            "--silent",
        ]  # fmt: skip
        if self.block_time is not None:
            cmd += ["--block-time", str(self.block_time)]
        if self.keep_states is not None:
            cmd += ["--prune-history", str(self.keep_states)]
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            cmd += ["--state", str(self.state_file)]  # load if present, dump on exit
        return cmd

    def _ganache_command(self) -> list[str]:
        """ganache with anvil's setup: same keys (same mnemonic and HD path), balance, chain id and gas limit;
        "merge" is ganache's name for paris (no PUSH0, as our contracts are compiled); blockTime 0 is its
        instamine, "eager" so a transaction is mined before its hash is returned, as anvil does."""
        cmd = [
            find_ganache(),
            "--server.host", self.host,
            "--server.port", str(self.port),
            "--server.ws", "false",
            "--chain.chainId", str(self.chain_id),
            "--chain.hardfork", "merge",
            "--wallet.totalAccounts", str(self.account_count),
            "--wallet.defaultBalance", str(self.balance_eth),
            "--wallet.mnemonic", self.mnemonic,
            "--miner.blockGasLimit", str(self.gas_limit),
            "--miner.callGasLimit", str(self.gas_limit),  # anvil caps eth_call at the block gas limit too
            "--miner.blockTime", str(self.block_time or 0),
            "--miner.instamine", "eager",
            "--logging.quiet",
        ]  # fmt: skip
        return cmd

    def start(self, timeout: float = 30.0) -> Devnet:
        if self.running:
            return self
        attempts = 1 if self.requested_port else 3  # a picked free port can be taken meanwhile
        last_error = f"{self.implementation} did not start"
        for _ in range(attempts):
            if not self.requested_port:
                self.port = free_port(self.host)
            elif not port_is_free(self.host, self.port):
                # otherwise whatever listens there would answer our readiness probe
                raise DevnetError(f"port {self.port} on {self.host} is already in use")
            if self.log_file:
                self.log_file.parent.mkdir(parents=True, exist_ok=True)
            log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
            try:
                self.process = subprocess.Popen(
                    self._command(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log if self.log_file else subprocess.PIPE,
                    preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                    start_new_session=self.own_session,
                )
            finally:
                if self.log_file:
                    log.close()  # type: ignore[union-attr]
            atexit.register(self.stop)
            try:
                self._wait_ready(timeout)
                return self
            except DevnetError as exc:
                last_error = str(exc)
                self.stop()
        raise DevnetError(last_error)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise DevnetError(f"{self.implementation} exited with {self.process.returncode}: {err.strip()[-500:]}")
            try:
                chain_id = int(str(rpc_call(self.rpc_url, "eth_chainId", timeout=1.0)), 16)
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.05)
                continue
            if chain_id != self.chain_id:
                raise DevnetError(f"node on {self.rpc_url} has chain id {chain_id}, expected {self.chain_id}")
            return
        raise DevnetError(f"{self.implementation} did not answer on {self.rpc_url} within {timeout:.0f}s")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the node; SIGTERM first so anvil can dump its state file, SIGKILL if it hangs."""
        proc, self.process = self.process, None
        if proc is None:
            return
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr:
            proc.stderr.close()

    def __enter__(self) -> Devnet:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
