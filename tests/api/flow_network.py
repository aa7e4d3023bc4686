"""A network of two running bank nodes for the flow tests: its own anvil (never snapshot-reverted), the
contracts deployed once, and per bank its database (BANKA on SQLite, BANKB on PostgreSQL), its API served by
uvicorn on a free loopback port and its writer, indexer and periodic jobs in threads (node.runner).

State is shared by every test of the session, as on a real network: tests use fresh wallets, customers and
accounts. When the session ends, reconciliation of both banks must report no difference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine
from web3 import Web3

from node.api_keys import Scope, create_key
from node.db import create_engine, session_factory, transaction, upgrade
from node.ledger import AccountKind, SqlLedger
from node.ledger.accounts import VAULT, ensure_system_accounts
from node.reconcile.service import ReconciliationReport, reconcile
from node.runner import NodeRunner
from node.settings import NodeSettings, load_settings
from tools.devnet import Devnet
from tools.localnet_nodes import serve_api
from wallet_sdk.chain.network import Network
from wallet_sdk.client import AsyncClient, Client, CustomerSession, Teller
from wallet_sdk.deploy import BankConfig, Deployment, NetworkConfig, deploy

__all__ = ["BankNetwork", "BankNode", "start_network"]

QUOTA = 10**13
TEST_DESK = Teller(branch="BR-TEST", operator="T-0001")  # who a test's teller client says it is


@dataclass
class BankNode:
    """One member bank: its node (API + background work) and what a test needs to talk to it."""

    code: str
    settings: NodeSettings
    engine: Engine
    url: str
    network: Network
    operator: LocalAccount
    runner: NodeRunner
    connect: Callable[[], Network] = field(repr=False, default=lambda: None)  # type: ignore[assignment,return-value]
    _clients: list[Client | AsyncClient] = field(default_factory=list, repr=False)
    _login_backend: Client | None = field(default=None, repr=False)

    @property
    def bank_id(self) -> bytes:
        return self.code.encode().ljust(32, b"\0")

    def key(self, *scopes: Scope | str, merchant_id: str | None = None, name: str = "test") -> str:
        """The secret of a new API key of this bank with ``scopes`` (default: admin)."""
        wanted = tuple(Scope(s) for s in scopes) or (Scope.ADMIN,)
        with transaction(session_factory(self.engine)) as session:
            return create_key(session, name=name, scopes=wanted, merchant_id=merchant_id).secret

    def client(self, *scopes: Scope | str, merchant_id: str | None = None, teller: Teller | None = None) -> Client:
        """An SDK client of this bank's API with a new key of ``scopes`` (closed at the end of the session); a
        teller's client names its desk (``teller``, TEST_DESK by default), as the counter's software does."""
        if teller is None and Scope.TELLER in {Scope(s) for s in scopes}:
            teller = TEST_DESK
        client = Client(self.url, self.key(*scopes, merchant_id=merchant_id), timeout=30.0, teller=teller)
        self._clients.append(client)
        return client

    def async_client(self, *scopes: Scope | str, merchant_id: str | None = None) -> AsyncClient:
        """An async SDK client with a new key (use it as ``async with``)."""
        return AsyncClient(self.url, self.key(*scopes, merchant_id=merchant_id), timeout=30.0)

    def mint_session(self, customer_ref: str, *, ttl_seconds: int | None = None) -> CustomerSession:
        """A customer session for ``customer_ref``, minted through the API by the bank's login backend (a key of
        scope auth, made once per bank); the answer carries the token."""
        if self._login_backend is None:
            self._login_backend = self.client(Scope.AUTH)
        return self._login_backend.mint_customer_session(customer_ref, ttl_seconds=ttl_seconds)

    def app(self, customer_ref: str) -> Client:
        """The customer's app: a client acting with a new customer session of ``customer_ref`` (closed at the end
        of the session)."""
        client = Client(self.url, self.mint_session(customer_ref).token, timeout=30.0)
        self._clients.append(client)
        return client

    def async_app(self, customer_ref: str) -> AsyncClient:
        """The customer's app, async (use it as ``async with``)."""
        return AsyncClient(self.url, self.mint_session(customer_ref).token, timeout=30.0)

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Until every outbox row is final and the indexer has every confirmed block."""
        self.runner.wait_idle(timeout)

    def stop_runner(self) -> None:
        """Stop the node's writer, indexer and jobs (as a node process that stops); :meth:`start_runner` starts a
        new one on the same database, as a restarted process would."""
        self.runner.stop()

    def start_runner(self) -> None:
        self.runner = NodeRunner(self.settings, self.engine, self.connect, self.operator, poll_interval=0.5)
        self.runner.start()

    def fund_account(self, code: str, amount_minor: int, *, customer_ref: str | None = None) -> str:
        """Open customer deposit account ``code`` in the built-in ledger with ``amount_minor`` paid in cash at
        the counter (debit vault, credit the account); returns ``code``."""
        with transaction(session_factory(self.engine)) as session:
            ledger = SqlLedger(session)
            ensure_system_accounts(ledger, self.settings.currency)
            ledger.open_account(code, AccountKind.CUSTOMER_DEPOSIT, self.settings.currency, name=code,
                                owner_ref=customer_ref)
            if amount_minor:
                ledger.credit(code, amount_minor, contra=VAULT, reference=f"open:{code}")
        return code

    def reconcile(self) -> ReconciliationReport:
        return reconcile(self.network, self.engine, self.code, currency=self.settings.currency,
                         confirmations=self.settings.confirmations)

    def close_clients(self) -> None:
        for client in self._clients:
            if isinstance(client, Client):
                client.close()


@dataclass
class BankNetwork:
    devnet: Devnet
    w3: Web3
    deployment: Deployment
    network_operator: LocalAccount
    regulator: LocalAccount
    a: BankNode
    b: BankNode
    spare: list[LocalAccount]

    @property
    def banks(self) -> tuple[BankNode, BankNode]:
        return self.a, self.b

    def rpc(self, method: str, *params: Any) -> Any:
        return self.w3.provider.make_request(method, list(params)).get("result")  # type: ignore[arg-type]

    def increase_time(self, seconds: int) -> None:
        """Move the chain's clock forward and mine a block."""
        self.rpc("evm_increaseTime", seconds)
        self.rpc("evm_mine")

    def wait_idle(self, timeout: float = 30.0) -> None:
        for bank in self.banks:
            bank.wait_idle(timeout)


def _bank(stack: ExitStack, code: str, db_url: str, data_dir: Path, devnet: Devnet, deployment_path: Path,
          operator: LocalAccount, *, rpc_url: str | None = None, rpc_timeout: float = 30.0) -> BankNode:
    # No daily settlement on its own (tests call the job with their clock); webhooks retried fast.
    rpc_url = rpc_url or devnet.rpc_url
    settings = load_settings(bank_id=code, rpc_url=rpc_url, db_url=db_url, data_dir=data_dir,
                             deployment_file=deployment_path, confirmations=1, settlement_cutoff=None,
                             webhook_backoff=0.2, webhook_max_attempts=4, webhook_timeout=2.0,
                             notification_heartbeat=0.5, notify_large_payment=50_000)
    engine = create_engine(db_url)
    stack.callback(engine.dispose)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        ensure_system_accounts(SqlLedger(session), settings.currency)

    def connect() -> Network:
        return Network.connect(rpc_url, deployment_path, timeout=rpc_timeout)

    runner = NodeRunner(settings, engine, connect, operator, poll_interval=0.5)  # woken at once by work
    runner.start()
    made: list[BankNode] = []
    stack.callback(lambda: made[0].runner.stop() if made else runner.stop())  # its runner then (a test may restart it)
    url = serve_api(stack, settings, engine, connect())
    made.append(BankNode(code=code, settings=settings, engine=engine, url=url, network=connect(), operator=operator,
                         runner=runner, connect=connect))
    return made[0]


RpcVia = Callable[[str, str], str]
"""(bank code, the chain's RPC URL) -> the URL that bank's node uses instead (e.g. a proxy's)."""


def start_network(stack: ExitStack, root: Path, pg_url: str, *, rpc_via: RpcVia | None = None,
                  rpc_timeout: float = 30.0) -> BankNetwork:
    """Start the chain, deploy, and start both banks' nodes; everything stops when ``stack`` closes.

    ``rpc_via`` routes a bank's chain connections (API, writer, indexer) elsewhere; ``rpc_timeout`` is their
    read timeout (short, when a test makes the chain stop answering)."""
    devnet = stack.enter_context(Devnet(accounts=12))
    w3 = Web3(Web3.HTTPProvider(devnet.rpc_url, request_kwargs={"timeout": 60}))
    keys = [Account.from_key(a.private_key) for a in devnet.accounts]
    operator, regulator, op_a, op_b = keys[0], keys[1], keys[2], keys[3]
    config = NetworkConfig(
        network_operator=operator.address, regulator=regulator.address, threshold=1,
        banks=[BankConfig(code="BANKA", name="Bank A", operators=[op_a.address], quota=QUOTA),
               BankConfig(code="BANKB", name="Bank B", operators=[op_b.address], quota=QUOTA)])
    deployment = deploy(w3, operator, config)
    deployment_path = root / "deployment.json"
    deployment.save(deployment_path)
    via = rpc_via or (lambda _code, url: url)
    a = _bank(stack, "BANKA", f"sqlite:///{root / 'banka.sqlite3'}", root / "a", devnet, deployment_path, op_a,
              rpc_url=via("BANKA", devnet.rpc_url), rpc_timeout=rpc_timeout)
    b = _bank(stack, "BANKB", pg_url, root / "b", devnet, deployment_path, op_b,
              rpc_url=via("BANKB", devnet.rpc_url), rpc_timeout=rpc_timeout)
    stack.callback(a.close_clients)
    stack.callback(b.close_clients)
    return BankNetwork(devnet=devnet, w3=w3, deployment=deployment, network_operator=operator, regulator=regulator,
                       a=a, b=b, spare=keys[4:])


def network_session(root: Path, pg_url: str, *, rpc_via: RpcVia | None = None,
                    rpc_timeout: float = 30.0) -> Iterator[BankNetwork]:
    """The fixture's body: yield the running network; at the end, both banks reconcile with no difference."""
    with ExitStack() as stack:
        net = start_network(stack, root, pg_url, rpc_via=rpc_via, rpc_timeout=rpc_timeout)
        yield net
        net.wait_idle(60)
        reports = [bank.reconcile() for bank in net.banks]
        problems = [f"{r.bank}: {r.summary()}\n" + "\n".join(str(d) for d in r.differences)
                    for r in reports if not r.ok]
        assert not problems, "reconciliation after the flow tests found differences:\n" + "\n".join(problems)
