"""One bank node's background work in threads of one process: the chain writer, the indexer and the flows'
periodic jobs (such as releasing ATM holds nobody confirmed). The API runs beside it and only writes the
database; this is what turns its outbox rows into chain effects and the chain's events into history.

    with NodeRunner(settings, engine, network_factory, operator_key) as runner:
        ...                       # serve the API
        runner.wait_idle()        # every outbox row final, the indexer at the confirmed head

Each of the three is a *role* that one process of the bank holds at a time (:mod:`node.roles`): a runner
takes the roles it is given when their locks are free and waits as a standby where another process holds
them, taking over within about a second of that process's death. A thread that fails stops the others (the
node does not half-run); :meth:`wait_idle` and :meth:`stop` re-raise the first failure. :func:`open_writer` runs
the writer alone (``walletnet writer``). Both load every flow's completions (:mod:`node.jobs`) before a row can
become final.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, event, func, select

from node.chain_ids import id_bytes
from node.confirmations import confirmed_head
from node.db import create_engine, session_factory, transaction
from node.errors import NodeError
from node.indexer.service import TRANSIENT_ERRORS, Indexer, IndexerConfig, IndexerRound, IndexScope
from node.jobs import periodic_jobs  # (loads every flow's completions, which the writer runs)
from node.merchants.models import legal_names
from node.notifications.producer import NotificationProducer
from node.outbox import OutboxRow, OutboxState
from node.roles import Role, forget_role, lease_for, record_heartbeat, record_role
from node.settings import NodeSettings, OperatorPasswordError
from node.wakeup import wait_for_work
from node.writer import ChainWriter, WriterConfig, WriterRound, writer_web3
from wallet_sdk.chain.network import Network
from wallet_sdk.keys import WalletKey

__all__ = ["NodeRunner", "NodeStoppedError", "freeze_startup_objects", "open_writer"]

log = logging.getLogger("walletnet.node")


class NodeStoppedError(NodeError, RuntimeError):
    """A thread of the node failed, so the node stopped."""


class NodeRunner:
    """Runs the writer, the indexer and the periodic jobs of the bank ``settings.bank_id`` until :meth:`stop`.

    ``network_factory`` makes a chain connection; each thread gets its own. ``operator`` signs the writer's
    transactions (the bank's operator key).
    """

    def __init__(self, settings: NodeSettings, engine: Engine, network_factory: Callable[[], Network],
                 operator: WalletKey | LocalAccount | None, *, poll_interval: float = 0.2,
                 scope: IndexScope = IndexScope.NETWORK, writer_config: WriterConfig | None = None,
                 roles: Iterable[Role] = tuple(Role), role_poll: float = 1.0, heartbeat: float = 1.0) -> None:
        self.settings = settings
        self.sessions = session_factory(engine, background=True)  # requests get SQLite's lock first
        self.poll_interval = poll_interval
        self.roles = tuple(Role(role) for role in roles)
        self.role_poll = role_poll  # a standby tries the role's lock this often
        self.heartbeat = heartbeat  # the holder checks its locks and refreshes its node_roles rows this often
        if operator is None and Role.WRITER in self.roles:
            raise OperatorPasswordError("the writer role signs with the operator key: set operator_keystore")

        def new_writer() -> ChainWriter | None:
            return None if operator is None else ChainWriter(self.sessions, network_factory(), operator,
                                                             writer_config or WriterConfig(
                confirmations=settings.confirmations, poll_interval=poll_interval))

        self._new_writer = new_writer
        self.writer = new_writer()  # None where the process holds no operator key (no writer role)
        indexed = network_factory()
        self.indexer = Indexer(indexed, self.sessions, IndexerConfig(
            scope=scope, bank_id=id_bytes(settings.bank_id), confirmations=settings.confirmations,
            currency=settings.currency, poll_interval=poll_interval),
            round_hooks=[NotificationProducer.for_node(settings, indexed, legal_names)])  # customers' notifications
        self._network = network_factory()  # for wait_idle's look at the head
        self._engine = engine
        self._stop = threading.Event()
        # each loop's wake-up (node/wakeup.py): the writer's is rung by any commit on the engine but its own
        # (the API, when it runs in this process), the indexer's and the jobs' by the writer's progress
        self._wake = {role: threading.Event() for role in Role}
        self._leases = {role: lease_for(engine, settings.bank_id, role) for role in self.roles}
        self._tenures: dict[Role, threading.Event] = {}  # role -> set when this holding of it is to end
        self.tenures = {role: 0 for role in Role}  # how many times this runner took each role
        self._threads: list[threading.Thread] = []
        self._writer_thread: threading.Thread | None = None
        self.failures: list[BaseException] = []

    def __enter__(self) -> NodeRunner:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"NodeRunner({self.settings.bank_id})"

    # ------------------------------------------------------------------ threads

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("the node is already running")
        bank = self.settings.bank_id.lower()
        bodies = {Role.WRITER: self._run_writer, Role.INDEXER: self._run_indexer, Role.JOBS: self._run_jobs}
        for role in self.roles:
            thread = threading.Thread(target=self._guarded, args=(self._hold, role, bodies[role]),
                                      name=f"{bank}-{role}", daemon=True)
            self._threads.append(thread)
            if role is Role.WRITER:
                self._writer_thread = thread
        self._threads.append(threading.Thread(target=self._guarded, args=(self._keep_roles,), name=f"{bank}-roles",
                                              daemon=True))
        event.listen(self._engine, "commit", self._on_commit)
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the threads (each finishes its round first and lets its role go); re-raise the first failure."""
        self._halt()
        if event.contains(self._engine, "commit", self._on_commit):
            event.remove(self._engine, "commit", self._on_commit)
        for thread in self._threads:
            thread.join(timeout)
        for lease in self._leases.values():
            lease.close()
        self._raise_failure()

    def holds(self, role: Role) -> bool:
        """Whether this runner is the active holder of ``role`` now."""
        return role in self._tenures

    def wake(self) -> None:
        """Have every loop look for work now rather than at its next poll."""
        for wake in self._wake.values():
            wake.set()

    def _halt(self) -> None:
        self._stop.set()
        for tenure in list(self._tenures.values()):
            tenure.set()
        self.wake()  # the loops wait on their wake-up, not on the stop event

    def _on_commit(self, _connection: object) -> None:
        """A commit on the node's engine: new outbox rows may be waiting (the writer's own commits add none)."""
        if threading.current_thread() is not self._writer_thread:
            self._wake[Role.WRITER].set()

    def _guarded(self, target: Callable[..., None], *args: Any) -> None:
        try:
            target(*args)
        except BaseException as exc:  # the node stops as a whole rather than half-running
            log.exception("%s failed; stopping the node", threading.current_thread().name)
            self.failures.append(exc)
            self._halt()

    # ------------------------------------------------------------------ roles

    def _hold(self, role: Role, body: Callable[[threading.Event], None]) -> None:
        """Take ``role`` whenever its lock is free and run ``body`` until the node stops or the lock is lost;
        meanwhile wait as a standby."""
        lease = self._leases[role]
        standby = False
        while not self._stop.is_set():
            try:
                got = lease.try_acquire()
            except TRANSIENT_ERRORS as exc:
                log.warning("%s role: cannot try its lock (%s); trying again", role, exc)
                got = False
            if not got:
                if not standby:
                    log.info("%s role: held by another process of the bank; standing by", role)
                    standby = True
                self._stop.wait(self.role_poll)
                continue
            standby = False
            tenure = threading.Event()
            self._tenures[role] = tenure
            if self._stop.is_set():  # _halt ran before the tenure was there to be ended
                tenure.set()
            self.tenures[role] += 1
            try:
                self._record(lambda session: record_role(session, role))
                log.info("%s role: taken (this process is its active holder)", role)
                body(tenure)
            finally:
                del self._tenures[role]
                lease.release()
                self._record(lambda session: forget_role(session, role), failed=lambda: forget_role(None, role))
                log.info("%s role: let go", role)

    def _keep_roles(self) -> None:
        """Every ``heartbeat`` seconds: end the holding of a role whose lock was lost, refresh the others' rows."""
        while not self._stop.wait(self.heartbeat):
            kept = []
            for role, tenure in list(self._tenures.items()):
                if self._leases[role].still_held():
                    kept.append(role)
                else:
                    log.error("%s role: its lock is lost; stopping it here (a standby takes it over)", role)
                    tenure.set()
                    self._wake[role].set()
            self._record(lambda session, kept=kept: record_heartbeat(session, kept))

    def _record(self, write: Callable[[Any], None], failed: Callable[[], None] | None = None) -> None:
        """Write a role row; the database being away is logged, not fatal (the lock decides who holds a role)."""
        try:
            with transaction(self.sessions) as session:
                write(session)
        except TRANSIENT_ERRORS as exc:
            log.warning("cannot record the node's roles (%s)", exc)
            if failed is not None:
                failed()

    def _run_writer(self, stop: threading.Event) -> None:
        if self.tenures[Role.WRITER] > 1:  # taken again: start afresh from the database, like a restarted writer
            self.writer = self._new_writer()
        assert self.writer is not None, "a writer role without an operator key"

        def after_round(result: WriterRound) -> None:
            if result.finished:  # transactions final: new blocks to index, completions for the jobs
                self._wake[Role.INDEXER].set()
                self._wake[Role.JOBS].set()

        self.writer.run(stop, wake=self._wake[Role.WRITER], after_round=after_round)

    def _run_indexer(self, stop: threading.Event) -> None:
        def after_round(result: IndexerRound) -> None:
            if result.events:  # new history: webhook events to make
                self._wake[Role.JOBS].set()

        self.indexer.run(stop, wake=self._wake[Role.INDEXER], after_round=after_round)

    def _run_jobs(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.run_jobs()
            wait_for_work(stop, self._wake[Role.JOBS], self.poll_interval)

    def run_jobs(self) -> int:
        """Run each periodic job once; returns how many things they did (a failing job is logged and retried)."""
        done = 0
        for job in periodic_jobs():
            try:
                result: Any = job(self.sessions, self.settings)
            except TRANSIENT_ERRORS as exc:
                log.warning("periodic job %s: chain or database unavailable (%s); retrying",
                            getattr(job, "__name__", job), exc)
                continue
            done += int(result or 0)
        return done

    def _raise_failure(self) -> None:
        if self.failures:
            raise NodeStoppedError(f"bank node {self.settings.bank_id} stopped: {self.failures[0]!r}") \
                from self.failures[0]

    # ------------------------------------------------------------------ waiting

    def outstanding(self) -> int:
        """Outbox rows not yet final (with the writer: received rows plus its transactions awaiting receipts)."""
        if self.writer is not None:
            return self.writer.count_outstanding()
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(OutboxRow).where(
                OutboxRow.state.in_([OutboxState.RECEIVED, OutboxState.SUBMITTED]))) or 0)

    def is_idle(self) -> bool:
        """No outbox row waits for the chain, and the indexer has every confirmed block."""
        if self.outstanding():
            return False
        checkpoint = self.indexer.checkpoint()
        head = confirmed_head(self._network.block_number, self.settings.confirmations)
        return checkpoint is not None and checkpoint.log_index is None and checkpoint.block_number >= head

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Block until :meth:`is_idle` (raise ``TimeoutError`` after ``timeout`` seconds, or the failure that
        stopped the node)."""
        deadline = time.monotonic() + timeout
        while True:
            self._raise_failure()
            try:
                if self.is_idle():
                    return
            except TRANSIENT_ERRORS:  # busy database or chain: not known to be idle yet
                pass
            if self._stop.is_set():
                raise NodeStoppedError(f"bank node {self.settings.bank_id} is stopped")
            self.wake()  # e.g. blocks mined by someone else: the indexer need not wait for its next poll
            if time.monotonic() >= deadline:
                raise TimeoutError(f"bank node {self.settings.bank_id} not idle after {timeout:g}s "
                                   f"({self.outstanding()} outbox rows outstanding, indexer at "
                                   f"{self.indexer.checkpoint()})")
            time.sleep(0.05)


@contextmanager
def open_writer(settings: NodeSettings, config: WriterConfig | None = None) -> Iterator[ChainWriter]:
    """The chain writer alone (``walletnet writer``), for the node configured by ``settings``: its database, its
    chain node and deployment, and the operator key from its keystore; with every flow's completions loaded
    (:mod:`node.jobs`). The database engine is disposed when the block ends."""
    if settings.operator_keystore is None:
        raise OperatorPasswordError("the writer signs with the operator key: set operator_keystore and its "
                                    "password source (operator_password_env or operator_password_file)")
    key = WalletKey.load(settings.operator_keystore, settings.operator_password().get_secret_value())
    network = Network.from_web3(writer_web3(settings.rpc_url), settings.deployment_path, rpc_url=settings.rpc_url)
    engine = create_engine(settings.database_url)
    try:
        config = config or WriterConfig(confirmations=settings.confirmations)
        yield ChainWriter(session_factory(engine), network, key, config)
    finally:
        engine.dispose()


def freeze_startup_objects() -> None:
    """Put what exists once a server process is up (modules, routes, SQLAlchemy's and web3's tables: it lives as
    long as the process) out of the garbage collector's sight, so that a full collection no longer walks it: one
    took 35-55 ms inside a request's answer under load. For a process that serves (the API's, ``walletnet node
    run``), not for one that makes many apps or nodes (tests): what it freezes is never collected."""
    gc.collect()
    gc.freeze()
