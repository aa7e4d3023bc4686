"""The indexer: follows the four contracts' events from a stored checkpoint into the node's database.

Each round reads a range of blocks from the chain (no database transaction open meanwhile), then applies
its events and advances the checkpoint in one database transaction, or, for a round that reaches the chain's
head (the node is live and its API admitting payments), in transactions of at most ``commit_events`` events
each, the checkpoint moved in the same transaction as the events before it. So a crash at any point leaves the
database right after some event: restarting resumes right after the checkpoint, with no event applied twice
(the checkpoint says so, and the tables are unique on each event's tx hash and log index) and none skipped.
(One transaction for a live round of busy blocks held SQLite's write lock for up to 60 ms, and a bank's API
waited for it to admit a payment; catching up, one transaction per round is faster.)

- The checkpoint is a position: the block and log index of the last event applied, or a whole block (log
  index NULL) once every event of it is applied. A round covers at most ``batch_blocks`` blocks and
  ``max_events`` events; a round cut short by ``max_events`` stops in the middle of a block.
- Only blocks with at least ``confirmations`` confirmations are read
  (:mod:`node.confirmations`). The hash of the checkpoint's block is stored and
  checked before each round; if the chain under the checkpoint changed (a reorganisation deeper than the
  confirmations), the indexer stops with :class:`ChainReorganizedError` rather than build on it.
- The scope (whole network, or the bank's own wallets and merchants) and the deployment are recorded with
  the checkpoint; running against a database indexed with another scope or deployment is refused.

What the tables hold is described in :mod:`node.indexer.models`, how events change them in
:mod:`node.indexer.projection`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.orm import Session, sessionmaker
from web3.exceptions import BlockNotFound, Web3RPCError
from web3.types import RPCEndpoint

from node.chain_ids import id_text
from node.confirmations import confirmed_head
from node.db import transaction
from node.db.base import one_or_none, utcnow
from node.errors import NodeError
from node.indexer.models import IndexerCheckpoint
from node.indexer.projection import EVENT_NAMES, IndexedValueTooLargeError, IndexScope, Projection
from node.wakeup import wait_for_work
from wallet_sdk.chain.events import Event, EventPosition, iter_events
from wallet_sdk.chain.network import Network
from wallet_sdk.exceptions import DeclaredError, error_message

if TYPE_CHECKING:
    from node.settings import NodeSettings

__all__ = [
    "CHECKPOINT_NAME",
    "ChainReorganizedError",
    "CheckpointMismatchError",
    "ConcurrentIndexerError",
    "IndexScope",
    "IndexedUpTo",
    "IndexedValueTooLargeError",
    "Indexer",
    "IndexerConfig",
    "IndexerError",
    "IndexerRound",
    "RoundHook",
    "load_checkpoint",
    "open_indexer",
]

log = logging.getLogger("walletnet.indexer")

CHECKPOINT_NAME: Final = "events"
COMMIT_PAUSE_S: Final = 0.001  # between a round's transactions: a writer of another process asking gets its turn
BLOCKS_PER_BATCH: Final = 200  # block headers per JSON-RPC batch (Besu's default limit is 1,024)
_GET_BLOCK: Final = RPCEndpoint("eth_getBlockByNumber")
TRANSIENT_ERRORS: Final = (OSError, Web3RPCError, OperationalError, SATimeoutError)
"""Errors the node's loops wait out and retry: the chain or the database unreachable or busy (connection
refused/reset, RPC timeouts, node-side errors, SQLite's `database is locked`, no pooled connection free in
time). Under overload these come and go; stopping the node for one would leave its API accepting work nobody
sends."""


RoundHook = Callable[[Session, Sequence[Event], Mapping[int, datetime]], None]
"""``hook(session, events, block_times)``: called once per round in the round's transaction, after its rows are
flushed and before its checkpoint is saved, with the round's events in chain order (node.notifications)."""


class IndexerError(DeclaredError, NodeError):
    """Root of the indexer's errors (declared: see :class:`~wallet_sdk.exceptions.DeclaredError`)."""


@error_message("the database was indexed with {what} {stored!r}, not {configured!r}")
class CheckpointMismatchError(IndexerError):
    """The database was indexed for another deployment or scope: index into a fresh database instead."""

    what: str
    stored: object
    configured: object


@error_message("checkpoint moved from {expected} to {found} during a round: run one indexer only")
class ConcurrentIndexerError(IndexerError):
    """The checkpoint moved while a round was being prepared: another indexer runs on this database."""

    expected: object
    found: object


@error_message("block {block_number} was {indexed_hash} when indexed and is {chain_hash} now: raise the confirmations "
               "and re-index into a fresh database")
class ChainReorganizedError(IndexerError):
    """The block under the checkpoint is no longer the one indexed (a reorganisation deeper than the
    configured confirmations)."""

    block_number: int
    indexed_hash: str
    chain_hash: str


@dataclass(frozen=True)
class IndexerConfig:
    scope: IndexScope = IndexScope.NETWORK
    bank_id: bytes | None = None  # the bank this node belongs to (required in scope "bank")
    confirmations: int = 1
    currency: str = "DCASH"
    batch_blocks: int = 1_000  # blocks per round (one eth_getLogs range and one DB transaction)
    max_events: int = 5_000  # events per round
    commit_events: int = 200  # events per transaction of a round that reaches the head (module docstring)
    poll_interval: float = 2.0  # seconds between polls once caught up

    def __post_init__(self) -> None:
        if self.scope is IndexScope.BANK and self.bank_id is None:
            raise ValueError("the bank scope needs bank_id")
        if self.confirmations < 0 or self.batch_blocks < 1 or self.max_events < 1 or self.commit_events < 1:
            raise ValueError("confirmations >= 0, batch_blocks >= 1, max_events >= 1 and commit_events >= 1, please")


@dataclass(frozen=True)
class IndexedUpTo:
    """How far the indexer has applied the chain (stored as its ``IndexerCheckpoint`` row): a block, and the
    last event applied in it (or the whole block)."""

    block_number: int
    log_index: int | None  # None: the whole block is applied
    block_hash: str

    @property
    def next_block(self) -> int:
        """The first block that may still hold events to apply."""
        return self.block_number if self.log_index is not None else self.block_number + 1

    def covers(self, event: Event) -> bool:
        """True if ``event`` is already applied."""
        if self.log_index is None:
            return event.block_number <= self.block_number
        return event.position <= EventPosition(self.block_number, self.log_index)

    def __str__(self) -> str:
        return f"block {self.block_number}" + (f" log {self.log_index}" if self.log_index is not None else "")


@dataclass(frozen=True)
class IndexerRound:
    """What one round of the indexer did (its ``after_round`` hook gets it)."""

    checkpoint: IndexedUpTo
    events: int  # events applied (in scope or not)


def load_checkpoint(session: Session) -> IndexedUpTo | None:
    """The indexer's checkpoint in ``session``'s database, or None if it never ran."""
    row = session.scalars(select(IndexerCheckpoint).where(IndexerCheckpoint.name == CHECKPOINT_NAME)).one_or_none()
    return None if row is None else IndexedUpTo(row.block_number, row.log_index, row.block_hash)


class Indexer:
    """Indexes ``network``'s events into the database of ``sessions`` (see the module docstring)."""

    def __init__(self, network: Network, sessions: sessionmaker[Session], config: IndexerConfig | None = None, *,
                 round_hooks: Sequence[RoundHook] = ()) -> None:
        self.network = network
        self.sessions = sessions
        self.config = config or IndexerConfig()
        self.round_hooks = tuple(round_hooks)
        self._token = network.addresses["DigitalCash"]

    # ------------------------------------------------------------------ running

    def run_once(self, *, until: int | None = None,
                 after_round: Callable[[IndexerRound], None] | None = None) -> IndexedUpTo | None:
        """Index every confirmed block (up to ``until`` if given), round after round; return the checkpoint.

        ``after_round`` is called after each committed round (progress reports; tests crash the indexer there).
        """
        checkpoint = self.checkpoint()
        while True:
            result = self.run_round(until=until)
            if result is None:
                return checkpoint
            checkpoint = result.checkpoint
            if after_round is not None:
                after_round(result)

    def run(self, stop: threading.Event, *, wake: threading.Event | None = None,
            after_round: Callable[[IndexerRound], None] | None = None) -> None:
        """Index until ``stop`` is set, polling every ``poll_interval`` seconds once caught up (sooner when
        ``wake`` is set: see node/wakeup.py). Transient RPC errors are logged and retried at the next poll;
        indexer errors (reorganisation, mismatch) stop it."""
        while not stop.is_set():
            try:
                self.run_once(after_round=after_round)
            except TRANSIENT_ERRORS as exc:
                log.warning("chain or database unavailable, retrying: %s", exc)
            wait_for_work(stop, wake, self.config.poll_interval)

    def checkpoint(self) -> IndexedUpTo | None:
        """Where the indexer is (None before its first round); refuses a database indexed differently."""
        with transaction(self.sessions) as session:
            row = self._checkpoint_row(session)
            return None if row is None else IndexedUpTo(row.block_number, row.log_index, row.block_hash)

    def run_round(self, *, until: int | None = None) -> IndexerRound | None:
        """Index one round: the blocks after the checkpoint, at most ``batch_blocks`` of them and ``max_events``
        events, up to the confirmed head (and ``until``). None if there is nothing to do yet."""
        start = self.checkpoint()
        if start is not None:
            self._check_not_reorganized(start)
        first = start.next_block if start is not None else self.network.deployment.block
        head = confirmed_head(self.network.block_number, self.config.confirmations)
        last = head if until is None else min(head, until)
        last = min(last, first + self.config.batch_blocks - 1)
        if last < first:
            return None

        events = [e for e in iter_events(self.network, first, last, EVENT_NAMES)
                  if start is None or not start.covers(e)]
        if len(events) > self.config.max_events:
            events = events[:self.config.max_events]
            end = IndexedUpTo(events[-1].block_number, events[-1].log_index, events[-1].block_hash)
        else:
            end = None
        blocks = self._blocks({e.block_number for e in events} | ({last} if end is None else set()))
        if end is None:
            end = IndexedUpTo(last, None, blocks[last]["hash"])
        times = {e.block_number: datetime.fromtimestamp(int(blocks[e.block_number]["timestamp"], 16), UTC)
                 for e in events}

        live = last == head and end.log_index is None  # the round reaches the head: the API is admitting meanwhile
        applied, size = start, self.config.commit_events if live else max(len(events), 1)
        for first_event in range(0, max(len(events), 1), size):  # one transaction even with no event
            part = events[first_event:first_event + size]
            last_part = first_event + size >= len(events)
            part_end = end if last_part else IndexedUpTo(part[-1].block_number, part[-1].log_index,
                                                         part[-1].block_hash)
            if first_event:
                time.sleep(COMMIT_PAUSE_S)
            self._apply(applied, part, part_end, times, int(blocks[part_end.block_number]["timestamp"], 16))
            applied = part_end
        log.info("indexed %d events up to %s", len(events), end)
        return IndexerRound(end, len(events))

    def _apply(self, start: IndexedUpTo | None, events: Sequence[Event], end: IndexedUpTo,
               times: Mapping[int, datetime], block_time: int) -> None:
        """Apply ``events`` (those right after ``start``) and move the checkpoint to ``end``, in one transaction."""
        with transaction(self.sessions) as session:
            row = self._checkpoint_row(session, lock=True)
            found = None if row is None else IndexedUpTo(row.block_number, row.log_index, row.block_hash)
            if found != start:
                raise ConcurrentIndexerError(start, found)
            projection = Projection(session, self.config.scope, self.config.bank_id, self._token,
                                    self.config.currency, times)
            projection.prefetch(events)
            for event in events:
                projection.apply(event)
            projection.flush()
            for hook in self.round_hooks:
                hook(session, events, times)
            self._save_checkpoint(session, row, end, block_time)

    # ------------------------------------------------------------------ the checkpoint row

    def _checkpoint_row(self, session: Session, *, lock: bool = False) -> IndexerCheckpoint | None:
        row = one_or_none(session, select(IndexerCheckpoint).where(IndexerCheckpoint.name == CHECKPOINT_NAME),
                          lock=lock)
        if row is not None:
            self._check_same_setup(row)
        return row

    def _check_same_setup(self, row: IndexerCheckpoint) -> None:
        bank = id_text(self.config.bank_id) if self.config.bank_id is not None else None
        for what, stored, configured in (
            ("chain id", row.chain_id, self.network.chain_id),
            ("token", row.token_address, self._token),
            ("scope", row.scope, self.config.scope.value),
            ("bank", row.bank_id, bank if self.config.scope is IndexScope.BANK else None),
        ):
            if stored != configured:
                raise CheckpointMismatchError(what, stored, configured)

    def _save_checkpoint(self, session: Session, row: IndexerCheckpoint | None, end: IndexedUpTo,
                         block_time: int) -> None:
        if row is None:
            bank = self.config.bank_id if self.config.scope is IndexScope.BANK else None
            row = IndexerCheckpoint(name=CHECKPOINT_NAME, chain_id=self.network.chain_id, token_address=self._token,
                                    scope=self.config.scope.value, bank_id=id_text(bank) if bank else None,
                                    block_number=end.block_number, log_index=end.log_index,
                                    block_hash=end.block_hash)
            session.add(row)
        row.block_number = end.block_number
        row.log_index = end.log_index
        row.block_hash = end.block_hash
        row.block_time = block_time
        row.updated_at = utcnow()

    # ------------------------------------------------------------------ chain reads

    def _block_hash(self, number: int) -> str:
        return str(self._blocks({number})[number]["hash"])

    def _blocks(self, numbers: set[int]) -> dict[int, dict[str, Any]]:
        """The headers of blocks ``numbers`` as the node's raw JSON (0x-hex fields), asked for in JSON-RPC batches
        of ``BLOCKS_PER_BATCH``: one HTTP round trip per block was a third of a catch-up's time."""
        w3 = self.network.w3
        ordered = sorted(numbers)
        found: dict[int, dict[str, Any]] = {}
        batch = getattr(w3.provider, "make_batch_request", None)  # every JSON-RPC provider of web3 has it
        for i in range(0, len(ordered), BLOCKS_PER_BATCH):
            chunk = ordered[i:i + BLOCKS_PER_BATCH]
            requests = [(_GET_BLOCK, [hex(n), False]) for n in chunk]
            answers = batch(requests) if batch else [w3.provider.make_request(*r) for r in requests]
            if not isinstance(answers, list):  # the node refused the whole batch: raise its error
                w3.manager.formatted_response(answers, requests)
                raise Web3RPCError(f"unexpected answer to a batch of block requests: {answers!r}")
            for number, answer in zip(chunk, answers, strict=True):
                block = w3.manager.formatted_response(answer, [hex(number), False])
                if block is None:
                    raise BlockNotFound(f"block {number} not found")
                found[number] = block
        return found

    def _check_not_reorganized(self, checkpoint: IndexedUpTo) -> None:
        try:
            actual = self._block_hash(checkpoint.block_number)
        except BlockNotFound:
            actual = "missing"  # the chain is shorter than the checkpoint now
        if actual != checkpoint.block_hash:
            raise ChainReorganizedError(checkpoint.block_number, checkpoint.block_hash, actual)


@contextmanager
def open_indexer(settings: NodeSettings, *, scope: IndexScope = IndexScope.NETWORK, batch_blocks: int = 1_000,
                 max_events: int = 5_000, poll_interval: float = 2.0) -> Iterator[Indexer]:
    """The indexer of the node described by ``settings`` (its chain, deployment, database, bank, currency and
    confirmations); the database engine is disposed of on exit."""
    from node.chain_ids import id_bytes
    from node.db import create_engine, session_factory

    network = Network.connect(settings.rpc_url, settings.deployment_path)
    config = IndexerConfig(scope=scope, bank_id=id_bytes(settings.bank_id), confirmations=settings.confirmations,
                           currency=settings.currency, batch_blocks=batch_blocks, max_events=max_events,
                           poll_interval=poll_interval)
    engine = create_engine(settings.database_url)
    try:
        yield Indexer(network, session_factory(engine), config)
    finally:
        engine.dispose()
