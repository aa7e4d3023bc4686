"""``walletnet``: the command line of a walletnet node and its local network."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="walletnet: a permissioned digital-cash wallet network for banks.", no_args_is_help=True,
                  add_completion=False)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@app.command("compile")
def compile_cmd(
    check: Annotated[bool, typer.Option("--check", help="Fail if a committed artifact differs from a fresh compile.")]
    = False,
) -> None:
    """Compile contracts/ with the pinned solcjs into wallet_sdk/artifacts/."""
    from node import toolchain

    try:
        if check:
            problems = toolchain.check_artifacts()
            if problems:
                for line in problems:
                    err.print(f"[red]stale[/red] {line}", highlight=False)
                err.print("run `walletnet compile` and commit the artifacts")
                raise typer.Exit(1)
            console.print("artifacts match a fresh compile")
            return
        result = toolchain.compile_contracts()
    except toolchain.CompileError as exc:
        for message in exc.messages:
            print(message, file=sys.stderr)
        raise typer.Exit(1) from None
    except toolchain.ToolchainMissingError as exc:
        err.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(2) from None
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    names = ", ".join(sorted(a["contractName"] for a in result.artifacts.values()))
    console.print(f"compiled {len(result.artifacts)} contracts: {names}")


@app.command("storage-layout")
def storage_layout_cmd(
    update: Annotated[bool, typer.Option("--update", help="Rewrite the lock from the current contracts.")] = False,
) -> None:
    """Check the upgradeable contracts' storage layout against contracts/storage-layout.json."""
    from node import storage_layout, toolchain

    try:
        if update:
            layout = storage_layout.update()
            console.print(f"wrote {storage_layout.lock_path()} ({len(layout)} layouts)")
            return
        problems = storage_layout.check()
    except toolchain.CompileError as exc:
        for message in exc.messages:
            print(message, file=sys.stderr)
        raise typer.Exit(1) from None
    if problems:
        for line in problems:
            err.print(f"[red]layout[/red] {line}", highlight=False)
        err.print("an upgrade with this layout would corrupt existing state; append new members instead")
        raise typer.Exit(1)
    console.print("storage layout compatible with the lock")


def _wait_for_interrupt() -> None:
    """Block until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


@app.command()
def devnet(
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: a free one).")] = None,
    state: Annotated[Path | None, typer.Option(help="State file: loaded at start, written at stop.")] = None,
) -> None:
    """Run a bare local chain (anvil) until Ctrl-C."""
    from node.devnet import Devnet

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
    data_dir: Annotated[Path, typer.Option(help="Where the chain state and deployment are kept.")]
    = Path(".walletnet"),
    port: Annotated[int | None, typer.Option(help="Chain RPC port (default: a free one).")] = None,
) -> None:
    """Start (or resume) the local network: chain + contracts; runs until Ctrl-C."""
    from node.localnet import start_local_network

    net = start_local_network(data_dir=data_dir, banks=banks, port=port)
    try:
        table = Table(title="walletnet local network" + (" (resumed)" if net.reused else ""))
        table.add_column("what")
        table.add_column("where")
        table.add_row("chain RPC", net.devnet.rpc_url)
        table.add_row("chain id", str(net.devnet.chain_id))
        for name, address in net.deployment.contracts.items():
            table.add_row(name, address)
        for bank in net.banks:
            table.add_row(f"bank {bank.code}", f"operator {bank.operators[0]}")
        table.add_row("deployment file", str(data_dir / "deployment.json"))
        console.print(table)
        console.print("Ctrl-C stops the network; `walletnet up` again resumes it with its state.")
        sys.stdout.flush()
        _wait_for_interrupt()
    finally:
        net.devnet.stop()
        console.print("stopped; state kept in " + str(data_dir))


@app.command("deploy")
def deploy_cmd(
    rpc_url: Annotated[str, typer.Option(help="JSON-RPC URL of the chain.")],
    out: Annotated[Path, typer.Option(help="Deployment file to write.")] = Path("deployment.json"),
    banks: Annotated[int, typer.Option(help="Dev banks to admit (local chains only).")] = 2,
) -> None:
    """Deploy and wire the contracts on a local dev chain whose dev accounts are funded."""
    from eth_account import Account
    from web3 import Web3

    from node.devnet import dev_accounts
    from node.localnet import DEFAULT_QUOTA, bank_code
    from wallet_sdk.deploy import BankConfig, NetworkConfig, deploy

    accounts = dev_accounts(2 + banks)
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    operator = Account.from_key(accounts[0].private_key)
    config = NetworkConfig(
        network_operator=operator.address, regulator=accounts[1].address, threshold=max(1, banks // 2 + 1),
        banks=[BankConfig(code=bank_code(i), name=f"Bank {chr(65 + i)}", operators=[accounts[2 + i].address],
                          quota=DEFAULT_QUOTA) for i in range(banks)],
    )
    deployment = deploy(w3, operator, config)
    deployment.save(out)
    console.print(f"deployed to chain {deployment.chain_id}; wrote {out}")



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


if __name__ == "__main__":
    app()
