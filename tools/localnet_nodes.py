"""The bank nodes of the local network (``walletnet up`` / ``walletnet demo``), all in this process and stopped
together with the chain: per bank a migrated SQLite database ``<data_dir>/<bank>/node.sqlite3`` (the bank code
in lower case; the node keeps its custody key there too), the chain writer, indexer and periodic jobs in
threads, and the HTTP API served by uvicorn on its own loopback port.

Demo API keys (admin, teller, app, atm, auth per bank) are made on a bank's first start and written to
``<data_dir>/credentials.json`` (mode 0600); later starts reuse them. ``<data_dir>/network.json`` says where the
running network answers, so ``walletnet demo`` in another shell can find it."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import uvicorn
from eth_account import Account
from sqlalchemy import Engine, make_url

from node.api_keys import Scope, create_key
from node.db import create_engine, current_revision, session_factory, transaction, upgrade
from node.ledger import SqlLedger
from node.ledger.accounts import ensure_system_accounts
from node.runner import NodeRunner
from node.settings import NodeSettings, load_settings
from node.writer import WriterConfig
from tools.api_server import ApiServer
from tools.devnet import free_port
from tools.localnet import DEFAULT_DATA_DIR, LocalNetwork, start_local_network
from wallet_sdk.chain.network import Network

__all__ = [
    "DEMO_SCOPES",
    "BankService",
    "DataDirBusyError",
    "RunningNetwork",
    "api_answers",
    "data_dir_busy",
    "network_description",
    "read_network_file",
    "serve_api",
    "spawn_bank",
    "start_bank",
    "start_network",
]

SPLIT_WRITER_POLL_S = 0.05
"""How often a node whose API runs in another process looks for new outbox rows (no commit rings it)."""
DEMO_SCOPES = ("admin", "teller", "app", "atm", "auth")  # one key of each per bank (auth: the login backend)


class DataDirBusyError(RuntimeError):
    """Another process runs (or is starting) the network of this data folder."""


def _lock(data_dir: Path) -> int:
    """An exclusive lock on ``<data_dir>/.lock`` for this process's lifetime (released by closing the fd): two
    anvils on one state file would overwrite each other's state."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirBusyError(f"another walletnet process runs the network of {data_dir}") from None
    return fd


def data_dir_busy(data_dir: Path) -> bool:
    """True while another process holds the data folder (e.g. `walletnet up` still starting)."""
    try:
        os.close(_lock(data_dir))
    except DataDirBusyError:
        return True
    return False


STREAM_SHUTDOWN_GRACE: Final = 2  # seconds a stopping API waits for open responses (SSE streams never end) to end


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread handles Ctrl-C and stops everything in order
        pass


@dataclass
class BankService:
    """One bank's running node: its settings, database, background work and API URL."""

    code: str
    settings: NodeSettings
    engine: Engine  # this process's own engine on the bank's database
    runner: NodeRunner | None  # None: the bank runs in a process of its own (``pid``)
    url: str
    db_url: str  # the bank's database (SQLite ``<data_dir>/<bank>/node.sqlite3`` unless a template was given)
    pid: int  # the process serving the API
    node_pid: int | None = None  # the node's process when it is not ``pid``'s

    @property
    def docs_url(self) -> str:
        return self.url + "/docs"


@dataclass
class RunningNetwork:
    """The chain, the contracts and every bank's node; ``stop()`` ends them in order (APIs, nodes, chain)."""

    data_dir: Path
    chain: LocalNetwork
    banks: list[BankService]
    credentials: dict[str, dict[str, str]]  # bank -> scope -> API key secret
    credentials_created: list[str]  # banks whose keys were made by this start (shown once)
    _lock_fd: int = -1
    _stack: ExitStack = field(repr=False, default_factory=ExitStack)

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials.json"

    @property
    def network_file(self) -> Path:
        return self.data_dir / "network.json"

    def bank(self, code: str) -> BankService:
        return next(b for b in self.banks if b.code == code)

    def wait_idle(self, timeout: float = 60.0) -> None:
        for bank in self.banks:
            if bank.runner is None:
                raise RuntimeError(f"bank {bank.code} runs in process {bank.pid}: wait for its operations instead")
            bank.runner.wait_idle(timeout)

    def stop(self) -> None:
        """Stop the APIs and nodes (letting the writer finish its round), then anvil, which dumps its state."""
        try:
            self._stack.close()
        finally:
            self.network_file.unlink(missing_ok=True)
            self.chain.devnet.stop()
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                self._lock_fd = -1


def serve_api(stack: ExitStack, settings: NodeSettings, engine: Engine, network: Network,
              port: int | None = None) -> str:
    """Serve the bank's API on 127.0.0.1 (``port`` or a free one) in a thread until ``stack`` closes; its URL."""
    port = port or free_port()
    app = _app(settings, engine, network)
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                    timeout_graceful_shutdown=STREAM_SHUTDOWN_GRACE))
    thread = threading.Thread(target=server.run, name=f"api-{settings.bank_id.lower()}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API of {settings.bank_id} did not start on port {port}")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    stack.callback(stop)
    return f"http://127.0.0.1:{port}"


def _app(settings: NodeSettings, engine: Engine, network: Network) -> Any:
    from api.app import create_app

    return create_app(settings, engine=engine, network_factory=lambda: network)


def _read_credentials(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {bank: dict(keys) for bank, keys in data.get("banks", {}).items()}


def _write_private(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON readable by its owner only (created 0600, never world-readable meanwhile)."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    os.replace(tmp, path)


def _bank_settings(code: str, rpc_url: str, db_url: str, data_dir: Path) -> NodeSettings:
    """A local bank's settings. Merchants are settled on demand here (no daily cut-off), so the demo's settlement
    is its own."""
    return load_settings(**_bank_config(code, rpc_url, db_url, data_dir))


def _bank_config(code: str, rpc_url: str, db_url: str, data_dir: Path) -> dict[str, Any]:
    return {"bank_id": code, "rpc_url": rpc_url, "db_url": db_url, "data_dir": str(data_dir),
            "deployment_file": str(data_dir / "deployment.json"), "confirmations": 1, "settlement_cutoff": None}


def _bank_db_url(code: str, data_dir: Path, fresh_chain: bool, db_url_template: str | None, runs_node: bool) \
        -> tuple[str, bool]:
    """The bank's database URL and whether it is new. SQLite: ``<data_dir>/<bank>/node.sqlite3``, kept aside
    when the chain is new. A template (``postgresql://.../{bank}``, the bank code in lower case) names an existing
    database, which must be empty for a new chain."""
    if db_url_template is not None:
        db_url = db_url_template.format(bank=code.lower())
        new_db = runs_node and current_revision(db_url) is None
        if runs_node and fresh_chain and not new_db:
            raise RuntimeError(f"bank {code}'s database {make_url(db_url).render_as_string(hide_password=True)} "
                               "holds another chain's node: give walletnet up an empty one")
        return db_url, new_db
    db_path = data_dir / code.lower() / "node.sqlite3"
    if runs_node and fresh_chain and db_path.exists():  # a database of a chain that is gone: keep it aside
        db_path.rename(db_path.with_name(f"node.stale-{int(time.time())}.sqlite3"))
    return f"sqlite:///{db_path.resolve()}", runs_node and not db_path.exists()


def start_bank(stack: ExitStack, code: str, rpc_url: str, operator_key: str | None, data_dir: Path,
               api_port: int | None, fresh_chain: bool, part: str = "both", *, db_url_template: str | None = None,
               api_workers: int | None = None) -> tuple[BankService, bool]:
    """Start one bank in this process until ``stack`` closes; returns it and whether its database was new.

    ``part``: ``"both"`` runs the node (writer, indexer, jobs) and the API; ``"node"`` the node alone, which
    migrates the database first; ``"api"`` the API alone, on the database a ``"node"`` process migrated. The
    last two are a bank as deployed (``walletnet node run`` beside the API's server). ``operator_key``: the
    private key of the operator the deployment admitted for the bank (the node's; the API needs none).
    ``db_url_template``: see :func:`_bank_db_url`. ``api_workers``: the API as that many uvicorn worker
    processes (the api role of ``walletnet node run``) rather than in a thread of this process."""
    bank_dir = data_dir / code.lower()  # beside the custody key the node keeps there
    bank_dir.mkdir(parents=True, exist_ok=True)
    runs_node = part in ("both", "node")
    db_url, new_db = _bank_db_url(code, data_dir, fresh_chain, db_url_template, runs_node)
    settings = _bank_settings(code, rpc_url, db_url, data_dir)
    engine = create_engine(settings.database_url)
    stack.callback(engine.dispose)

    def connect() -> Network:
        return Network.connect(rpc_url, data_dir / "deployment.json", timeout=30.0)

    runner = None
    if runs_node:
        upgrade(engine)
        with transaction(session_factory(engine)) as session:
            ensure_system_accounts(SqlLedger(session), settings.currency)
        assert operator_key is not None, "the node signs with the bank's operator key"
        # woken at once by the API's commits when it runs here; on its own, the writer looks for rows often
        writer = WriterConfig(confirmations=settings.confirmations,
                              poll_interval=0.5 if part == "both" else SPLIT_WRITER_POLL_S)
        runner = NodeRunner(settings, engine, connect, Account.from_key(operator_key), poll_interval=0.5,
                            writer_config=writer)
        runner.start()
        stack.callback(runner.stop)
    url = ""
    if part in ("both", "api"):
        url = serve_api(stack, settings, engine, connect(), api_port) if api_workers is None else \
            _serve_api_workers(stack, code, rpc_url, db_url, data_dir, api_port, api_workers)
    return BankService(code, settings, engine, runner, url, db_url, os.getpid()), new_db


def _serve_api_workers(stack: ExitStack, code: str, rpc_url: str, db_url: str, data_dir: Path, port: int | None,
                       workers: int) -> str:
    """The bank's API as ``workers`` uvicorn processes (tools/api_server.py) from a settings file of its own."""
    config = data_dir / code.lower() / "api.json"
    _write_private(config, _bank_config(code, rpc_url, db_url, data_dir))
    server = ApiServer("127.0.0.1", port or free_port(), workers, config=config)
    server.start()
    stack.callback(server.stop)
    deadline = time.monotonic() + 60
    while not api_answers(server.url):
        if server.exited() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the API of {code} ({workers} workers) did not start on {server.url}")
        time.sleep(0.1)
    return server.url


def spawn_bank(stack: ExitStack, code: str, rpc_url: str, operator_key: str, data_dir: Path, api_port: int | None,
               fresh_chain: bool, *, db_url_template: str | None = None,
               api_workers: int | None = None) -> tuple[BankService, bool]:
    """One bank as deployed: its node and its API each in a process of their own (``python -m
    tools.localnet_bank``), stopped with SIGTERM when ``stack`` closes. The node starts first (it migrates the
    database). The operator key goes to the node on its standard input, never on a command line."""
    config = {"code": code, "rpc_url": rpc_url, "data_dir": str(data_dir), "api_port": api_port,
              "fresh_chain": fresh_chain, "db_url_template": db_url_template, "api_workers": api_workers}
    node_pid, node_ready = _spawn_part(stack, {**config, "part": "node", "operator_key": operator_key})
    api_pid, ready = _spawn_part(stack, {**config, "part": "api", "operator_key": None})
    settings = _bank_settings(code, rpc_url, ready["db_url"], data_dir)
    engine = create_engine(settings.database_url)
    stack.callback(engine.dispose)
    return BankService(code, settings, engine, None, ready["url"], ready["db_url"], api_pid,
                       node_pid), node_ready["new_db"]


def _spawn_part(stack: ExitStack, config: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Start ``python -m tools.localnet_bank`` with ``config`` on its standard input; its pid and ready line."""
    process = subprocess.Popen([sys.executable, "-m", "tools.localnet_bank"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE)
    stack.callback(_stop_process, process)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(json.dumps(config).encode())
    process.stdin.close()
    line = process.stdout.readline()  # the part's one line once it runs (or nothing: it failed)
    if not line:
        raise RuntimeError(f"bank {config['code']}'s {config['part']} process exited with {process.wait()} "
                           "before it started")
    return process.pid, json.loads(line)


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the bank finishes its writer's round), SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _bank(stack: ExitStack, net: LocalNetwork, data_dir: Path, index: int, api_port: int | None,
          fresh_chain: bool, in_process: bool, **options: Any) -> tuple[BankService, bool]:
    """Start bank ``index`` of ``net``, in this process or in one of its own (``options``: start_bank's)."""
    start = start_bank if in_process else spawn_bank
    return start(stack, net.banks[index].code, net.devnet.rpc_url, net.devnet.accounts[2 + index].private_key,
                 data_dir, api_port, fresh_chain, **options)


def start_network(data_dir: Path = DEFAULT_DATA_DIR, banks: int = 2, port: int | None = None,
                  api_port_base: int | None = None, bank_processes: bool = False, db_url_template: str | None = None,
                  api_workers: int | None = None) -> RunningNetwork:
    """Start (or resume) the chain, the contracts and every bank's node and API; write network.json and, for
    banks started for the first time, their demo API keys into credentials.json. Raises DataDirBusyError if
    another process runs the network of ``data_dir``.

    ``bank_processes``: each bank's node and API run in two processes of their own (as a bank deploys them:
    ``walletnet node run`` beside the API's server, on one SQLite file) rather than all in this one; ``runner``
    is then None and ``wait_idle`` not available. ``db_url_template`` and ``api_workers``: see start_bank (the
    benchmark's runs on PostgreSQL with several API workers)."""
    lock = _lock(data_dir)
    try:
        chain = start_local_network(data_dir=data_dir, banks=banks, port=port)
    except BaseException:
        os.close(lock)
        raise
    running = RunningNetwork(data_dir, chain, [], {}, [], lock)
    try:
        credentials = _read_credentials(running.credentials_file)
        for i in range(len(chain.banks)):
            bank, new_db = _bank(running._stack, chain, data_dir, i,
                                 None if api_port_base is None else api_port_base + i, fresh_chain=not chain.reused,
                                 in_process=not bank_processes, db_url_template=db_url_template,
                                 api_workers=api_workers)
            running.banks.append(bank)
            if new_db or set(credentials.get(bank.code, {})) != set(DEMO_SCOPES):
                with transaction(session_factory(bank.engine)) as session:
                    credentials[bank.code] = {
                        scope: create_key(session, name=f"demo {scope}", scopes=(Scope(scope),)).secret
                        for scope in DEMO_SCOPES}
                running.credentials_created.append(bank.code)
        running.credentials = {b.code: credentials[b.code] for b in running.banks}
        if running.credentials_created:
            _write_private(running.credentials_file, {"banks": credentials})
        _write_private(running.network_file, network_description(running))
        return running
    except BaseException:
        running.stop()
        raise


def network_description(net: RunningNetwork) -> dict[str, Any]:
    """What network.json holds: where the chain and each bank's API answer (no secrets; absolute paths, so a
    demo started from another folder finds the files)."""
    root = net.data_dir.resolve()
    return {
        "pid": os.getpid(),
        "rpc_url": net.chain.devnet.rpc_url,
        "chain_id": net.chain.devnet.chain_id,
        "contracts": dict(net.chain.deployment.contracts),
        "deployment_file": str(root / "deployment.json"),
        "credentials_file": str(root / "credentials.json"),
        "banks": {b.code: {"api_url": b.url, "docs_url": b.docs_url, "db_url": b.db_url,
                           "pid": b.pid, "node_pid": b.node_pid or b.pid} for b in net.banks},
    }


def read_network_file(data_dir: Path) -> dict[str, Any] | None:
    """The network.json of a network running from ``data_dir`` whose APIs answer, or None."""
    path = data_dir / "network.json"
    if not path.is_file():
        return None
    try:
        info: dict[str, Any] = json.loads(path.read_text())
    except ValueError:
        return None
    banks = info.get("banks") or {}
    if not banks or not all(api_answers(b["api_url"]) for b in banks.values()):
        return None
    return info


def api_answers(url: str, timeout: float = 2.0) -> bool:
    """True if a bank API answers ``GET /v1/health`` at ``url`` (whatever its verdict)."""
    try:
        with urllib.request.urlopen(url + "/v1/health", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except urllib.error.HTTPError:  # it answered, if only to say it is degraded
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False
