"""``walletnet``: the command line of a walletnet node and its local network."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from collections.abc import Callable
    from wsgiref.simple_server import WSGIServer

    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from node.runner import NodeRunner
    from node.settings import NodeSettings
    from tools.api_server import ApiServer
    from tools.localnet_nodes import RunningNetwork
    from wallet_sdk.chain.network import Network

app = typer.Typer(help="walletnet: a permissioned digital-cash wallet network for banks.", no_args_is_help=True,
                  add_completion=False)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
_options = {"debug": False}


@app.callback()
def _global_options(debug: Annotated[bool, typer.Option(
        "--debug", help="Show the traceback of a failure that walletnet otherwise says in one line.")] = False) -> None:
    _options["debug"] = debug


def main() -> None:
    """The ``walletnet`` command. A failure outside walletnet (an unreachable chain node or database, a busy port)
    is one line on stderr naming the cause and what to do, and exit 2; ``--debug`` shows its traceback."""
    from tools.cli_errors import describe

    try:
        app()
    except Exception as exc:
        line = describe(exc)
        if line is None or _options["debug"]:
            raise
        err.print(f"[red]walletnet {_command_words(sys.argv[1:])}[/red]: {line}", highlight=False)
        raise SystemExit(2) from None


def _command_words(args: list[str]) -> str:
    """The command a user typed (``db upgrade``): the words after the global options, up to the first option."""
    words: list[str] = []
    for arg in args:
        if arg.startswith("-"):
            if words:
                break
            continue
        words.append(arg)
        if len(words) == 2:
            break
    return " ".join(words)


@contextmanager
def _compiler_errors() -> Iterator[None]:
    """The compiler's messages on stderr and exit 1, or a missing toolchain and exit 2, instead of a traceback."""
    from tools import toolchain

    try:
        yield
    except toolchain.CompileError as exc:
        for message in exc.messages:
            print(message, file=sys.stderr)
        raise typer.Exit(1) from None
    except toolchain.ToolchainMissingError as exc:
        err.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(2) from None


def _exit_if(problems: list[str], label: str, advice: str) -> None:
    """Each problem in red after ``label``, then ``advice``, and exit 1; nothing when there are none."""
    if problems:
        for line in problems:
            err.print(f"[red]{label}[/red] {line}", highlight=False)
        err.print(advice)
        raise typer.Exit(1)


@app.command("compile")
def compile_cmd(
    check: Annotated[bool, typer.Option(
        "--check", help="Fail if a committed artifact or wallet_sdk/reverts.py differs from a fresh compile.")]
    = False,
) -> None:
    """Compile contracts/ with the pinned solcjs into wallet_sdk/artifacts/ and generate wallet_sdk/reverts.py."""
    from tools import toolchain

    with _compiler_errors():
        if check:
            fresh = toolchain.compile_sources().artifacts
            _exit_if(toolchain.check_artifacts(artifacts=fresh) + toolchain.check_reverts(artifacts=fresh), "stale",
                     "run `walletnet compile` and commit the artifacts and wallet_sdk/reverts.py")
            console.print("artifacts and reverts.py match a fresh compile")
            return
        result = toolchain.compile_contracts()
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    names = ", ".join(sorted(a["contractName"] for a in result.artifacts.values()))
    console.print(f"compiled {len(result.artifacts)} contracts: {names}")


@app.command("storage-layout")
def storage_layout_cmd(
    update: Annotated[bool, typer.Option("--update", help="Rewrite the lock from the current contracts.")] = False,
) -> None:
    """Check the upgradeable contracts' storage layout against contracts/storage-layout.json."""
    from tools import storage_layout

    with _compiler_errors():
        if update:
            layout = storage_layout.update()
            console.print(f"wrote {storage_layout.lock_path()} ({len(layout)} layouts)")
            return
        problems = storage_layout.check()
    _exit_if(problems, "layout", "an upgrade with this layout would corrupt existing state; append new members instead")
    console.print("storage layout compatible with the lock")


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event that Ctrl-C (SIGINT) or SIGTERM sets while the block runs; the previous handlers come back after.

    Handlers of its own, not waiting for KeyboardInterrupt: a process started with SIGINT ignored (a shell's
    background job, ``nohup``) keeps it ignored, Python then never raises KeyboardInterrupt, and Ctrl-C or
    ``kill -INT`` would not stop it."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _wait_for_interrupt() -> None:
    """Block until Ctrl-C (SIGINT) or SIGTERM (see :func:`_stop_on_signals`)."""
    with _stop_on_signals() as stop:
        while not stop.wait(0.5):
            pass


@app.command()
def devnet(
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: a free one).")] = None,
    state: Annotated[Path | None, typer.Option(help="State file: loaded at start, written at stop.")] = None,
) -> None:
    """Run a bare local chain (anvil) until Ctrl-C."""
    from tools.devnet import Devnet

    with Devnet(port=port, state_file=state) as chain:
        table = Table(title="local chain")
        table.add_column("what")
        table.add_column("value")
        table.add_row("RPC URL", chain.rpc_url)
        table.add_row("chain id", str(chain.chain_id))
        for i, acct in enumerate(chain.accounts[:4]):
            table.add_row(f"dev account {i}", acct.address)
        console.print(table)
        console.print("dev keys: anvil's public test mnemonic; Ctrl-C stops the chain")
        _wait_for_interrupt()


@app.command()
def up(
    banks: Annotated[int, typer.Option(help="Number of member banks.")] = 2,
    data_dir: Annotated[Path, typer.Option(help="Where the chain state, deployment, bank databases and demo "
                                                "credentials are kept.")]
    = Path(".walletnet"),
    port: Annotated[int | None, typer.Option(help="Chain RPC port (default: a free one).")] = None,
    api_port_base: Annotated[int | None, typer.Option(help="API port of the first bank; the next banks take the "
                                                           "next ports (default: free ones).")] = None,
    bank_processes: Annotated[bool, typer.Option("--bank-processes", help="Run each bank's node and its API in two "
                                                 "processes of their own, as a bank deploys them (make bench does).")]
    = False,
    db_url_template: Annotated[str | None, typer.Option(help="Each bank's database instead of SQLite: a URL with "
                                                             "{bank} for the bank code in lower case, e.g. "
                                                             "postgresql://walletnet@127.0.0.1/{bank} (empty "
                                                             "databases for a new chain).")] = None,
    api_workers: Annotated[int | None, typer.Option(min=1, max=64, help="Serve each bank's API as this many "
                                                                        "uvicorn worker processes.")] = None,
) -> None:
    """Start (or resume) the local network: chain, contracts, and each bank's node and API; runs until Ctrl-C."""
    from tools.localnet_nodes import DataDirBusyError, start_network

    try:
        net = start_network(data_dir=data_dir, banks=banks, port=port, api_port_base=api_port_base,
                            bank_processes=bank_processes, db_url_template=db_url_template,
                            api_workers=api_workers)
    except DataDirBusyError as exc:
        err.print(f"[red]up[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    try:
        _print_network(net)
        console.print("Ctrl-C stops the network; `walletnet up` again resumes it with its state. "
                      "Try `walletnet demo` in another shell.")
        sys.stdout.flush()
        _wait_for_interrupt()
    finally:
        console.print("stopping...")
        net.stop()
        console.print("stopped; state kept in " + str(data_dir))


def _print_network(net: RunningNetwork) -> None:
    """The table of what runs (and, on a bank's first start, its demo API keys: shown this once)."""
    table = Table(title="walletnet local network" + (" (resumed)" if net.chain.reused else ""))
    table.add_column("what")
    table.add_column("where")
    table.add_row("chain RPC", net.chain.devnet.rpc_url)
    table.add_row("chain id", str(net.chain.devnet.chain_id))
    for name, address in net.chain.deployment.contracts.items():
        table.add_row(name, address)
    for bank in net.banks:
        table.add_row(f"bank {bank.code} API", bank.url)
        table.add_row(f"bank {bank.code} API docs", bank.docs_url)
    table.add_row("deployment file", str(net.data_dir / "deployment.json"))
    table.add_row("credentials file", str(net.credentials_file))
    console.print(table)
    if net.credentials_created:
        keys = Table(title="demo API keys (shown once; kept in the credentials file, mode 0600)")
        for column in ("bank", "scope", "key"):
            keys.add_column(column, overflow="fold")
        for code in net.credentials_created:
            for scope, secret in net.credentials[code].items():
                keys.add_row(code, scope, secret)
        console.print(keys)


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="Data folder of the network (`walletnet up`'s); one is started "
                                                "from it if none runs.")] = Path(".walletnet"),
) -> None:
    """A scripted story on the local network, step by step; exits 1, naming the step, if one did not do what it
    said."""
    from tools.demo import run_demo
    from tools.localnet_nodes import DataDirBusyError

    try:
        code = run_demo(data_dir, console).exit_code
    except DataDirBusyError as exc:
        err.print(f"[red]demo[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command("deploy")
def deploy_cmd(
    rpc_url: Annotated[str, typer.Option(help="JSON-RPC URL of the chain.")],
    out: Annotated[Path, typer.Option(help="Deployment file to write.")] = Path("deployment.json"),
    banks: Annotated[int, typer.Option(help="Dev banks to admit (local chains only).")] = 2,
    keystores: Annotated[Path | None, typer.Option(help="Also write each dev bank operator's keystore and "
                                                        "password file under this folder (<bank>/operator.*).")]
    = None,
) -> None:
    """Deploy and wire the contracts on a local dev chain whose dev accounts are funded."""
    from eth_account import Account
    from web3 import Web3

    from tools.devnet import dev_accounts
    from tools.localnet import local_network_config
    from wallet_sdk.deploy import deploy

    accounts = dev_accounts(2 + banks)
    config = local_network_config(accounts, banks)
    deployment = deploy(Web3(Web3.HTTPProvider(rpc_url)), Account.from_key(accounts[0].private_key), config)
    deployment.save(out)
    console.print(f"deployed to chain {deployment.chain_id}; wrote {out}")
    if keystores is not None:
        from tools.genesis import write_dev_keystores

        written = write_dev_keystores(keystores, config.banks, [a.private_key for a in accounts[2:]])
        console.print(f"wrote {len(written)} dev operator keystores under {keystores}")


@app.command("genesis")
def genesis_cmd(
    out: Annotated[Path, typer.Option(help="Empty (or new) folder for the network's files.")],
    banks: Annotated[int, typer.Option(help="Member banks, one QBFT validator each.")] = 4,
    chain_id: Annotated[int, typer.Option(help="Chain id of the new network.")] = 1337,
    block_period: Annotated[int, typer.Option(help="QBFT seconds between blocks.")] = 2,
    request_timeout: Annotated[int, typer.Option(help="QBFT seconds before a round change.")] = 4,
    node_host: Annotated[list[str] | None, typer.Option(help="P2P host/IP of each bank's Besu node, in bank "
                                                             "order (default docker-compose.yml's "
                                                             "172.28.0.11, .12, ...).")] = None,
    p2p_port: Annotated[int, typer.Option(help="Besu P2P port.")] = 30303,
    container_root: Annotated[str, typer.Option(help="Where the folder is mounted in the containers.")]
    = "/walletnet",
) -> None:
    """Generate a Besu QBFT network: keys, genesis (contracts ready at block 0), Besu and bank node configs."""
    from tools.devnet import DevnetError
    from tools.genesis import GenesisError, GenesisOptions, generate_genesis

    options = GenesisOptions(banks=banks, chain_id=chain_id, block_period=block_period,
                             request_timeout=request_timeout, node_hosts=tuple(node_host or ()), p2p_port=p2p_port,
                             container_root=container_root)
    try:
        result = generate_genesis(out, options)
    except (GenesisError, DevnetError) as exc:
        err.print(f"[red]genesis[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    table = Table(title=f"QBFT network, chain {chain_id}")
    table.add_column("what")
    table.add_column("value")
    for node in result.nodes:
        table.add_row(f"{node.bank} validator", node.validator)
        table.add_row(f"{node.bank} operator", result.operators[node.bank])
    table.add_row("network operator", result.network_operator)
    table.add_row("regulator", result.regulator)
    for name, address in result.deployment.contracts.items():
        table.add_row(name, address)
    console.print(table)
    console.print(f"wrote {out}/genesis.json, deployment.json and one folder per bank; keys and passwords are "
                  "0600 files: back them up (docs/deploy.md)", highlight=False)



# ------------------------------------------------------------------ walletnet db

db_app = typer.Typer(help="The bank node's database: migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")

ConfigOption = Annotated[Path | None,
                         typer.Option("--config", help="TOML/JSON settings file (else $WALLETNET_CONFIG).")]
DbUrlOption = Annotated[str | None, typer.Option("--db-url", help="Database URL (else the settings' db_url).")]


def _db_url(config: Path | None, db_url: str | None) -> str:
    from pydantic import ValidationError

    from node.settings import ConfigFileError, load_settings

    try:
        settings = load_settings(config, **({"db_url": db_url} if db_url else {}))
    except (ValidationError, ConfigFileError) as exc:
        err.print(f"[red]settings[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    return settings.database_url


@contextmanager
def _node_session(config: Path | None, db_url: str | None, *, read_only: bool = False) -> Iterator[Session]:
    """One transaction on the bank node's database, its engine disposed afterwards."""
    from node.db import create_engine, session_factory, transaction

    engine = create_engine(_db_url(config, db_url))
    try:
        with transaction(session_factory(engine, read_only=read_only)) as session:
            yield session
    finally:
        engine.dispose()


def _display(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def db_upgrade_cmd(
    config: ConfigOption = None,
    db_url: DbUrlOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the node's database to the latest schema (or --revision)."""
    from node.db import current_revision, upgrade

    url = _db_url(config, db_url)
    upgrade(url, revision)
    console.print(f"{_display(url)} is at revision {current_revision(url)}", highlight=False)


@db_app.command("current")
def db_current_cmd(config: ConfigOption = None, db_url: DbUrlOption = None) -> None:
    """Show the database's schema revision and whether it is the latest."""
    from node.db import current_revision, head_revision

    url = _db_url(config, db_url)
    current, head = current_revision(url), head_revision()
    state = "up to date" if current == head else f"behind: run `walletnet db upgrade` (head is {head})"
    console.print(f"{_display(url)}: revision {current or 'none'} ({state})", highlight=False)
    if current != head:
        raise typer.Exit(1)


# ------------------------------------------------------------------ walletnet writer

writer_app = typer.Typer(help="The bank node's chain writer: outbox rows on chain, each exactly once.",
                         no_args_is_help=True)
app.add_typer(writer_app, name="writer")


@writer_app.command("run")
def writer_run_cmd(
    config: ConfigOption = None,
    db_url: DbUrlOption = None,
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Exit once no outbox row waits to be sent or "
                                                                  "confirmed.")] = False,
    stuck_after: Annotated[float, typer.Option(help="Seconds before an unmined transaction is replaced with "
                                                    "higher fees.")] = 120.0,
    poll_interval: Annotated[float, typer.Option(help="Seconds between rounds when idle.")] = 0.25,
) -> None:
    """Send the outbox's rows on chain with the operator key, until Ctrl-C/SIGTERM (or --until-idle)."""
    import logging

    from pydantic import ValidationError

    from node.runner import open_writer
    from node.settings import ConfigFileError, OperatorPasswordError, load_settings
    from node.writer import WriterConfig
    from wallet_sdk.exceptions import WalletnetError

    try:
        settings = load_settings(config, **({"db_url": db_url} if db_url else {}))
    except (ValidationError, ConfigFileError) as exc:
        err.print(f"[red]settings[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    writer_config = WriterConfig(confirmations=settings.confirmations, stuck_after=stuck_after,
                                 poll_interval=poll_interval)
    with _stop_on_signals() as stop:
        try:
            with open_writer(settings, writer_config) as writer:
                console.print(f"writer for {settings.bank_id}: operator {writer.sender}, "
                              f"database {settings.database_url_for_display()}", highlight=False)
                writer.run(stop, until_idle=until_idle)
        except (OperatorPasswordError, WalletnetError) as exc:
            err.print(f"[red]writer[/red]: {exc}", highlight=False)
            raise typer.Exit(2) from None
    console.print("writer stopped" if stop.is_set() else "writer idle: nothing left to send or confirm")


# ------------------------------------------------------------------ walletnet index / reconcile

index_app = typer.Typer(help="The bank node's indexer: contract events into the database.", no_args_is_help=True)
app.add_typer(index_app, name="index")


def _node_settings(config: Path | None, db_url: str | None, **overrides: object) -> NodeSettings:
    from pydantic import ValidationError

    from node.settings import ConfigFileError, load_settings

    try:
        return load_settings(config, **({"db_url": db_url} if db_url else {}), **overrides)
    except (ValidationError, ConfigFileError) as exc:
        err.print(f"[red]settings[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None


@index_app.command("run")
def index_run_cmd(
    config: ConfigOption = None,
    db_url: DbUrlOption = None,
    once: Annotated[bool, typer.Option("--once", help="Index up to the confirmed head, then exit.")] = False,
    scope: Annotated[str, typer.Option(help="'network' (every wallet) or 'bank' (the bank's own).")] = "network",
    confirmations: Annotated[int | None, typer.Option(help="Blocks to wait (default: the settings').")] = None,
    batch_blocks: Annotated[int, typer.Option(help="Blocks per round (one DB transaction).")] = 1_000,
    max_events: Annotated[int, typer.Option(help="Events per round.")] = 5_000,
    poll_interval: Annotated[float, typer.Option(help="Seconds between polls once caught up.")] = 2.0,
) -> None:
    """Follow the contracts' events into the node's database, until Ctrl-C/SIGTERM (or --once)."""
    import logging

    from node.indexer.service import IndexerError, IndexScope, open_indexer
    from node.merchants.models import legal_names
    from node.notifications.producer import NotificationProducer
    from wallet_sdk.exceptions import WalletnetError

    if scope not in {s.value for s in IndexScope}:
        err.print(f"[red]index[/red]: --scope must be 'network' or 'bank', not {scope!r}", highlight=False)
        raise typer.Exit(2)
    settings = _node_settings(config, db_url, **({"confirmations": confirmations} if confirmations is not None
                                                  else {}))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with _stop_on_signals() as stop:
        try:
            with open_indexer(settings, scope=IndexScope(scope), batch_blocks=batch_blocks, max_events=max_events,
                              poll_interval=poll_interval) as indexer:
                indexer.round_hooks = (NotificationProducer.for_node(settings, indexer.network, legal_names),)
                if once:
                    checkpoint = indexer.run_once()
                    console.print(f"indexed up to {checkpoint or 'nothing yet'}", highlight=False)
                    return
                console.print(f"indexer for {settings.bank_id} ({scope}): database "
                              f"{settings.database_url_for_display()}", highlight=False)
                indexer.run(stop)
        except (IndexerError, WalletnetError) as exc:
            err.print(f"[red]index[/red]: {exc}", highlight=False)
            raise typer.Exit(2) from None
    console.print("indexer stopped")


@app.command("reconcile")
def reconcile_cmd(
    config: ConfigOption = None,
    db_url: DbUrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    stuck_after: Annotated[float, typer.Option(help="Seconds after which an unfinished outbox row is stuck.")]
    = 900.0,
    no_indexer: Annotated[bool, typer.Option("--no-indexer", help="Leave the indexer's projection out.")] = False,
    incremental: Annotated[bool, typer.Option(
        "--incremental/--full", help="Only what changed since the last clean run (the frequent run), or everything "
                                     "(the default: audits, and the daily close).")] = False,
) -> None:
    """Compare the chain with the indexer, the ledger and the outbox; exit 1 if anything differs."""
    from datetime import timedelta

    from node.reconcile.service import ReconciliationMode, reconcile_node
    from wallet_sdk.exceptions import WalletnetError

    settings = _node_settings(config, db_url)
    mode = ReconciliationMode.INCREMENTAL if incremental else ReconciliationMode.FULL
    try:
        report = reconcile_node(settings, include_indexer=not no_indexer, stuck_after=timedelta(seconds=stuck_after),
                                mode=mode)
    except WalletnetError as exc:
        err.print(f"[red]reconcile[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    if as_json:
        print(report.to_json())
    else:
        console.print(report.table())
        console.print(report.summary(), highlight=False)
    if not report.ok:
        raise typer.Exit(1)


# ------------------------------------------------------------------ walletnet node

node_app = typer.Typer(help="The bank node: run it (chain writer + indexer) and reconcile it.", no_args_is_help=True)
app.add_typer(node_app, name="node")
node_app.command("reconcile")(reconcile_cmd)


ALL_ROLES = "api,writer,indexer,jobs"


def _parse_roles(text: str) -> tuple[bool, tuple[str, ...]]:
    """``--roles``: whether the API runs here, and the background roles (in their usual order)."""
    from node.roles import Role

    wanted = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = wanted - {"api", *Role}
    if unknown or not wanted:
        err.print(f"[red]node[/red]: --roles takes a comma-separated subset of {ALL_ROLES}, not {text!r}",
                  highlight=False)
        raise typer.Exit(2)
    return "api" in wanted, tuple(role.value for role in Role if role in wanted)


@node_app.command("run")
def node_run_cmd(
    config: ConfigOption = None,
    db_url: DbUrlOption = None,
    roles: Annotated[str | None, typer.Option(help=f"What this process runs: a subset of {ALL_ROLES} (default: "
                                                   "all; with --until-idle: writer,indexer,jobs). Any number of "
                                                   "processes may run writer, indexer and jobs: each is active in "
                                                   "one of them at a time, the others stand by.")] = None,
    api_workers: Annotated[int, typer.Option(min=1, max=64, help="API worker processes (the api role).")] = 1,
    api_host: Annotated[str, typer.Option(help="Address the API listens on (the api role).")] = "127.0.0.1",
    api_port: Annotated[int, typer.Option(min=1, max=65_535, help="Port the API listens on (the api role).")]
    = 8000,
    scope: Annotated[str, typer.Option(help="Indexer scope: 'network' (every wallet) or 'bank'.")] = "network",
    stuck_after: Annotated[float, typer.Option(help="Seconds before an unmined transaction is replaced with "
                                                    "higher fees.")] = 120.0,
    poll_interval: Annotated[float, typer.Option(help="Seconds between rounds when idle.")] = 1.0,
    until_idle: Annotated[bool, typer.Option("--until-idle", help="Send and confirm every outbox row, index up "
                                                                  "to the confirmed head, then exit.")] = False,
    metrics_port: Annotated[int | None, typer.Option(help="Serve Prometheus metrics on this port (/metrics; "
                                                          "default: none).")] = None,
    log_format: Annotated[str | None, typer.Option(help="'json' (one object per line) or 'text' (default: the "
                                                        "settings' log_format, json).")] = None,
) -> None:
    """Run the bank node from its settings: the HTTP API (api), the chain writer (writer), the indexer (indexer)
    and the flows' periodic jobs such as releasing ATM holds nobody confirmed (jobs), until Ctrl-C/SIGTERM.
    Writer, indexer and jobs are each active in one process of the bank at a time (a PostgreSQL advisory lock;
    on SQLite a file lock): run this on several machines and a standby takes a role over within seconds of its
    holder's death."""
    from node.db import create_engine, current_revision, head_revision
    from node.indexer.service import IndexScope
    from node.logs import configure_logging, remove_logging
    from node.roles import Role
    from node.runner import NodeRunner, NodeStoppedError, freeze_startup_objects
    from node.settings import OperatorPasswordError
    from node.writer import WriterConfig, writer_web3
    from tools.api_server import ApiServer
    from wallet_sdk.chain.network import Network
    from wallet_sdk.exceptions import WalletnetError
    from wallet_sdk.keys import WalletKey

    if scope not in {s.value for s in IndexScope}:
        err.print(f"[red]node[/red]: --scope must be 'network' or 'bank', not {scope!r}", highlight=False)
        raise typer.Exit(2)
    serve_api, background = _parse_roles(roles or ("writer,indexer,jobs" if until_idle else ALL_ROLES))
    if until_idle and serve_api:
        err.print("[red]node[/red]: --until-idle runs the background roles only (writer, indexer, jobs), not the api",
                  highlight=False)
        raise typer.Exit(2)
    if log_format not in (None, "json", "text"):
        err.print(f"[red]node[/red]: --log-format must be 'json' or 'text', not {log_format!r}", highlight=False)
        raise typer.Exit(2)
    settings = _node_settings(config, db_url, **({"log_format": log_format} if log_format else {}))
    # Refuse an unmigrated database rather than migrate it behind the operator's back.
    current, head = current_revision(settings.database_url), head_revision()
    if current != head:
        err.print(f"[red]node[/red]: the database is at revision {current or 'none'}, not {head}: "
                  "run `walletnet db upgrade` first", highlight=False)
        raise typer.Exit(2)
    logs = configure_logging(settings.log_format)
    engine = create_engine(settings.database_url)
    metrics_server: WSGIServer | None = None

    def connect() -> Network:  # web3's own retries off: the writer's backoff decides
        return Network.from_web3(writer_web3(settings.rpc_url), settings.deployment_path, rpc_url=settings.rpc_url)

    api = ApiServer(api_host, api_port, api_workers, config=config, db_url=db_url,
                    log_format=settings.log_format) if serve_api else None
    with _stop_on_signals() as stop:
        runner = None
        try:
            key = None
            if Role.WRITER in background:
                if settings.operator_keystore is None:
                    raise OperatorPasswordError("the writer signs with the operator key: set operator_keystore and "
                                                "its password source (operator_password_env or "
                                                "operator_password_file)")
                key = WalletKey.load(settings.operator_keystore, settings.operator_password().get_secret_value())
            if api is not None:
                api.start()
            if background:
                writer_config = WriterConfig(confirmations=settings.confirmations, stuck_after=stuck_after,
                                             poll_interval=poll_interval)
                runner = NodeRunner(settings, engine, connect, key, poll_interval=poll_interval,
                                    scope=IndexScope(scope), writer_config=writer_config,
                                    roles=[Role(r) for r in background])
                runner.start()
            if metrics_port is not None:
                metrics_server = _serve_node_metrics(settings, engine, connect, metrics_port)
            if not until_idle:  # a node process from now on
                freeze_startup_objects()
            console.print(f"bank node {settings.bank_id}: {_roles_banner(runner, scope, api)} on "
                          f"{settings.database_url_for_display()}", highlight=False)
            while not stop.is_set() and not (runner and runner.failures):
                if until_idle and runner is not None and runner.is_idle():
                    break
                if api is not None and (code := api.exited()) is not None:
                    raise NodeStoppedError(f"the API server exited with {code}")
                stop.wait(0.1)
            if runner is not None:
                runner.stop()
        except (OperatorPasswordError, NodeStoppedError, WalletnetError) as exc:
            err.print(f"[red]node[/red]: {exc}", highlight=False)
            raise typer.Exit(2) from None
        finally:
            if api is not None:
                api.stop()
            if metrics_server is not None:
                metrics_server.shutdown()
                metrics_server.server_close()
            engine.dispose()
            remove_logging(logs)
    console.print("bank node stopped" if stop.is_set() else "bank node idle: outbox sent and chain indexed")


def _serve_node_metrics(settings: NodeSettings, engine: Engine, connect: Callable[[], Network],
                        port: int) -> WSGIServer:
    """``/metrics`` of the node process on ``port`` (a daemon thread of prometheus-client's): the writer's batch
    sizes, the roles this process holds now and the bank's state from the database (node/metrics.py)."""
    from functools import cache

    from prometheus_client import start_http_server

    from node.db import session_factory
    from node.metrics import VitalsCollector, metrics_registry
    from node.roles import held_roles

    collector = VitalsCollector(session_factory(engine, read_only=True), network=cache(connect),
                                confirmations=settings.confirmations, held_roles=held_roles)
    server, _thread = start_http_server(port, registry=metrics_registry(collector))
    return server


def _roles_banner(runner: NodeRunner | None, scope: str, api: ApiServer | None) -> str:
    """What a ``node run`` process runs, for its start-up line."""
    from node.roles import Role

    parts = []
    if runner is not None:
        names = {Role.WRITER: f"writer (operator {runner.writer.sender if runner.writer else '?'})",
                 Role.INDEXER: f"indexer ({scope})", Role.JOBS: "periodic jobs"}
        parts.append(", ".join(names[role] for role in runner.roles))
    if api is not None:
        parts.append(f"the API at {api.url} ({api.workers} worker{'s' if api.workers > 1 else ''})")
    return " and ".join(parts)


@node_app.command("permissions")
def node_permissions_cmd(
    rpc_url: Annotated[str, typer.Option(help="JSON-RPC URL of a chain node.")],
    deployment: Annotated[Path, typer.Option(help="The deployment file.")],
    out: Annotated[Path, typer.Option(help="Besu permissions file to write.")] = Path("permissions_config.toml"),
    node_host: Annotated[list[str] | None, typer.Option(help="NODEID=HOST:PORT for an enode registered "
                                                             "without its address; repeat.")] = None,
    reload: Annotated[str | None, typer.Option(help="Besu JSON-RPC URL (PERM API) to call "
                                                    "perm_reloadPermissionsFromFile on afterwards.")] = None,
) -> None:
    """Write Besu's permissions_config.toml from Consortium's active membership (accounts and nodes
    allowlists), and optionally make the running Besu reload it."""
    from tools.permissions import (
        BesuRpcError,
        PermissionsError,
        read_membership,
        reload_permissions,
        render_permissions,
        write_permissions,
    )
    from wallet_sdk.chain.network import Network
    from wallet_sdk.exceptions import WalletnetError

    hosts: dict[str, str] = {}
    for item in node_host or ():
        ident, sep, address = item.partition("=")
        if not sep:
            err.print(f"[red]permissions[/red]: --node-host takes NODEID=HOST:PORT, not {item!r}", highlight=False)
            raise typer.Exit(2)
        hosts[ident] = address
    try:
        membership = read_membership(Network.connect(rpc_url, deployment))
        write_permissions(out, render_permissions(membership, hosts))
        console.print(f"wrote {out}: {len(set(membership.accounts))} accounts, {len(set(membership.enodes))} nodes",
                      highlight=False)
        if reload:
            result = reload_permissions(reload)
            console.print(f"{reload}: perm_reloadPermissionsFromFile -> {result}", highlight=False)
    except (PermissionsError, WalletnetError, BesuRpcError) as exc:
        err.print(f"[red]permissions[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None


# ------------------------------------------------------------------ API keys


apikey_app = typer.Typer(help="API keys of the bank node's HTTP API: create (the secret is shown once), list, "
                              "revoke.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def apikey_create_cmd(
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key (e.g. 'branch 12 counter').")],
    scope: Annotated[list[str], typer.Option("--scope", help="teller, atm, app, merchant, admin, regulator or auth "
                                                             "(a login backend minting customer sessions); repeat "
                                                             "for several.")],
    merchant: Annotated[str | None, typer.Option("--merchant", help="Merchant id the key is bound to.")] = None,
    config: ConfigOption = None,
    db_url: DbUrlOption = None,
) -> None:
    """Create a key and print its secret (shown only this once; only its hash is stored)."""
    from node.api_keys import create_key

    try:
        with _node_session(config, db_url) as session:
            created = create_key(session, name=name, scopes=scope, merchant_id=merchant)
            key_id, scopes = created.key.id, created.key.scopes
    except ValueError as exc:
        err.print(f"[red]apikey[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    err.print(f"API key {key_id} '{name}' created with scopes {', '.join(scopes)}; store the secret now, "
              "it is not shown again:", highlight=False)
    console.print(created.secret, highlight=False)


@apikey_app.command("list")
def apikey_list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
    config: ConfigOption = None,
    db_url: DbUrlOption = None,
) -> None:
    """List every key (never the secrets)."""
    import json

    from node.api_keys import list_keys

    with _node_session(config, db_url, read_only=True) as session:
        rows = [key.summary() for key in list_keys(session)]
    if as_json:
        for row in rows:
            console.print(json.dumps(row), highlight=False, soft_wrap=True)
        return
    table = Table("id", "name", "prefix", "scopes", "merchant", "created", "revoked")
    for row in rows:
        table.add_row(str(row["id"]), row["name"], row["prefix"], ",".join(row["scopes"]), row["merchant_id"] or "",
                      row["created_at"], row["revoked_at"] or "")
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke_cmd(
    key_id: Annotated[int, typer.Argument(help="The key's id (see `walletnet apikey list`).")],
    config: ConfigOption = None,
    db_url: DbUrlOption = None,
) -> None:
    """Revoke a key: from now on it gets 401."""
    from node.api_keys import ApiKeyNotFoundError, revoke_key

    try:
        with _node_session(config, db_url) as session:
            revoked_at = revoke_key(session, key_id).revoked_at
    except ApiKeyNotFoundError as exc:
        err.print(f"[red]apikey[/red]: {exc}", highlight=False)
        raise typer.Exit(1) from None
    console.print(f"API key {key_id} revoked at {revoked_at.isoformat() if revoked_at else '?'}", highlight=False)



# ------------------------------------------------------------------ wallets (through the HTTP API)


wallets_app = typer.Typer(help="Wallets, through a bank node's HTTP API: bulk enrolment of existing customers.",
                          no_args_is_help=True)
app.add_typer(wallets_app, name="wallets")

@wallets_app.command("enrol")
def wallets_enrol_cmd(
    file: Annotated[Path, typer.Argument(help="CSV with the columns customer_ref, verification and optionally "
                                              "tier, custody, address, phone, account.", exists=True, dir_okay=False)],
    api_url: Annotated[str, typer.Option("--api-url", help="Base URL of the bank node's API.")],
    api_key_env: Annotated[str, typer.Option("--api-key-env", help="Environment variable holding an admin or "
                                                                   "teller API key.")],
    result: Annotated[Path, typer.Option("--result", help="Per-row result CSV; rows done in it are skipped, so "
                                                          "running again resumes.")],
    chunk: Annotated[int, typer.Option("--chunk", min=1, max=500, help="Rows per request.")] = 100,
) -> None:
    """Enrol existing customers from a CSV: one wallet per customer (sending a row again is harmless), a
    progress bar, and a result file (status opened, existing or failed, the wallet, or the error). Exits 1 if
    a row failed."""
    import os

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from tools import enrolment
    from wallet_sdk.client import Client
    from wallet_sdk.exceptions import ApiError

    key = os.environ.get(api_key_env)
    if not key:
        err.print(f"[red]wallets enrol[/red]: environment variable {api_key_env} (the API key) is not set",
                  highlight=False)
        raise typer.Exit(2)
    try:
        rows = enrolment.read_rows(file)
        results = enrolment.read_results(result)
    except (ValueError, KeyError, OSError) as exc:
        err.print(f"[red]wallets enrol[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    order = list(dict.fromkeys(row["customer_ref"] for row in rows))
    todo = [row for row in rows if results.get(row["customer_ref"], {}).get("status") not in enrolment.DONE]
    columns = (TextColumn("enrolling"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Client(api_url, key, timeout=60.0) as client, Progress(*columns, console=err) as progress:
            task = progress.add_task("enrol", total=len(rows), completed=len(rows) - len(todo))
            for start in range(0, len(todo), chunk):
                part = todo[start:start + chunk]
                fresh = {line["customer_ref"]: line for line in enrolment.send(client, part)}
                results.update(fresh)
                enrolment.write_results(result, fresh, [row["customer_ref"] for row in part], append=True)
                progress.advance(task, len(part))
    except ApiError as exc:
        err.print(f"[red]wallets enrol[/red]: {exc}; rows done so far are in {result}, run again to resume",
                  highlight=False)
        raise typer.Exit(1) from None
    enrolment.write_results(result, results, order, append=False)  # one line per customer, in the CSV's order
    counts = {status: sum(1 for ref in order if results.get(ref, {}).get("status") == status)
              for status in ("opened", "existing", "failed")}
    console.print(f"{len(order)} customers: {counts['opened']} opened, {counts['existing']} enrolled before, "
                  f"{counts['failed']} failed (see {result})", highlight=False)
    if counts["failed"]:
        raise typer.Exit(1)

if __name__ == "__main__":
    main()
