"""One bank node's background work in threads of one process: the chain writer, the indexer and the flows'
periodic jobs (such as releasing ATM holds nobody confirmed). The API runs beside it and only writes the
database; this is what turns its outbox rows into chain effects and the chain's events into history.

    with NodeRunner(settings, engine, network_factory, operator_key) as runner:
        ...                       # serve the API
        runner.wait_idle()        # every outbox row final, the indexer at the confirmed head

A thread that fails stops the others (the node does not half-run); :meth:`wait_idle` and :meth:`stop`
re-raise the first failure. :func:`open_writer` runs the writer alone (``walletnet writer``). Both load every
flow's completions (:mod:`node.jobs`) before a row can become final.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, event

from node.chain_ids import id_bytes
from node.confirmations import confirmed_head
from node.db import create_engine, session_factory
from node.errors import NodeError
from node.indexer.service import TRANSIENT_ERRORS, Indexer, IndexerConfig, IndexerRound, IndexScope
from node.jobs import periodic_jobs  # (loads every flow's completions, which the writer runs)
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
                 operator: WalletKey | LocalAccount, *, poll_interval: float = 0.2,
                 scope: IndexScope = IndexScope.NETWORK, writer_config: WriterConfig | None = None) -> None:
        self.settings = settings
        self.sessions = session_factory(engine)
        self.poll_interval = poll_interval
        self.writer = ChainWriter(self.sessions, network_factory(), operator, writer_config or WriterConfig(
            confirmations=settings.confirmations, poll_interval=poll_interval))
        self.indexer = Indexer(network_factory(), self.sessions, IndexerConfig(
            scope=scope, bank_id=id_bytes(settings.bank_id), confirmations=settings.confirmations,
            currency=settings.currency, poll_interval=poll_interval))
        self._network = network_factory()  # for wait_idle's look at the head
        self._engine = engine
        self._stop = threading.Event()
        # each loop's wake-up (node/wakeup.py): the writer's is rung by any commit on the engine but its own
        # (the API, when it runs in this process), the indexer's and the jobs' by the writer's progress
        self._wake = {name: threading.Event() for name in ("writer", "indexer", "jobs")}
        self._threads: list[threading.Thread] = []
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
        for name, target in (("writer", self._run_writer), ("indexer", self._run_indexer),
                             ("jobs", self._run_jobs)):
            thread = threading.Thread(target=self._guarded, args=(target,), name=f"{bank}-{name}", daemon=True)
            self._threads.append(thread)
        event.listen(self._engine, "commit", self._on_commit)
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the threads (each finishes its round first); re-raise the first failure, if any."""
        self._halt()
        if event.contains(self._engine, "commit", self._on_commit):
            event.remove(self._engine, "commit", self._on_commit)
        for thread in self._threads:
            thread.join(timeout)
        self._raise_failure()

    def wake(self) -> None:
        """Have every loop look for work now rather than at its next poll."""
        for wake in self._wake.values():
            wake.set()

    def _halt(self) -> None:
        self._stop.set()
        self.wake()  # the loops wait on their wake-up, not on the stop event

    def _on_commit(self, _connection: object) -> None:
        """A commit on the node's engine: new outbox rows may be waiting (the writer's own commits add none)."""
        if threading.current_thread() is not self._threads[0]:  # threads[0] is the writer's
            self._wake["writer"].set()

    def _guarded(self, target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # the node stops as a whole rather than half-running
            log.exception("%s failed; stopping the node", threading.current_thread().name)
            self.failures.append(exc)
            self._halt()

    def _run_writer(self) -> None:
        def after_round(result: WriterRound) -> None:
            if result.finished:  # transactions final: new blocks to index, completions for the jobs
                self._wake["indexer"].set()
                self._wake["jobs"].set()

        self.writer.run(self._stop, wake=self._wake["writer"], after_round=after_round)

    def _run_indexer(self) -> None:
        def after_round(result: IndexerRound) -> None:
            if result.events:  # new history: webhook events to make
                self._wake["jobs"].set()

        self.indexer.run(self._stop, wake=self._wake["indexer"], after_round=after_round)

    def _run_jobs(self) -> None:
        while not self._stop.is_set():
            self.run_jobs()
            wait_for_work(self._stop, self._wake["jobs"], self.poll_interval)

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

    def is_idle(self) -> bool:
        """No outbox row waits for the chain, and the indexer has every confirmed block."""
        if self.writer.count_outstanding():
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
                                   f"({self.writer.count_outstanding()} outbox rows outstanding, indexer at "
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
