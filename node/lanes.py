"""Lanes: requests queued from the event loop and run in batches, many in one database transaction, by one thread
(group commit).

A request run on its own takes the database's write lock for its reads and inserts and commits alone: on SQLite
one request at a time, each paying for its own ``BEGIN IMMEDIATE``, statements and commit, plus a worker thread
and the lock handed between threads. A lane instead queues each request (:meth:`Lane.submit`, awaited on the
event loop: no worker thread is held) and its thread takes every request waiting, up to ``max_batch``, into one
transaction; only once it commits is any of them answered. If a batch fails as a whole (a lost connection, a key
a concurrent process recorded first), it is rolled back and each of its requests is run again alone, so one bad
request fails only itself.

- :class:`Lane` is that machinery; a lane says how a batch runs (``_attempt``). A :class:`FlowLane` runs each
  batch as a :class:`Batch` of its flow: the reads for all its requests, each request in turn, the writes.
- :class:`BatchKeys` judges and records the batch's ``Idempotency-Key`` s: each key is recorded as completed
  with its answer in the batch's transaction (never in flight: it commits with the work, or not at all).

Each lane reads for all the requests of a batch at once and checks most of them in memory, running a flow's own
function under a savepoint only for what its reads cannot decide: P2P payments (:mod:`node.transfers.lane`), ATM
cash-ins (:mod:`node.atm.lane`), payments at merchants' points of sale (:mod:`node.merchants.lane`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from node import idempotency
from node.db.base import utcnow
from node.db.durable import unit_of_work
from node.db.inserts import insert_batch
from node.idempotency import IdempotencyKeyInFlightError, IdempotencyKeyReusedError, IdempotencyRecord
from node.operations.models import Operation
from node.settings import NodeSettings
from wallet_sdk.chain.network import Network

__all__ = ["ACCEPTED", "DEFAULT_MAX_BATCH", "Answer", "Batch", "BatchKeys", "FlowLane", "Keyed", "Lane", "Outcome",
           "Render"]

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH: Final = 256
ACCEPTED: Final = 202


@dataclass(frozen=True)
class Answer:
    """What a request is answered: the recorded status and body; ``replayed`` if an earlier request with its key
    ran it."""

    status: int
    body: Any
    replayed: bool = False


Outcome = Answer | BaseException
R = TypeVar("R")
_Waiter = tuple[Any, "asyncio.Future[Answer]", asyncio.AbstractEventLoop]


class Lane(Generic[R]):
    """One thread, started at the first request, stopped by :meth:`close`, running batches of ``R`` (module
    docstring). ``sessions`` are :func:`node.db.durable.work_sessions`: a write a flow keeps (a wrong code
    counted) is kept whatever the batch does."""

    thread_name = "lane"

    def __init__(self, sessions: sessionmaker[Session], *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self._queue: deque[_Waiter] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    async def submit(self, request: R) -> Answer:
        """Queue ``request`` and wait for its answer (raises its error). A request whose caller stops waiting is
        still run, and its answer recorded under its key."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        with self._ready:
            if self._closed:
                raise RuntimeError(f"the {self.thread_name} is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self.thread_name, daemon=True)
                self._thread.start()
            self._queue.append((request, future, loop))
            self._ready.notify()
        return await future

    def run(self, requests: list[R]) -> list[Outcome]:
        """Run ``requests`` as one batch in this thread (what the lane's thread does); each one's answer or error."""
        try:
            return self._attempt(requests)
        except Exception:
            if len(requests) == 1:
                raise
            log.warning("a batch of %d requests of the %s failed as a whole; running each alone", len(requests),
                        self.thread_name, exc_info=True)
        outcomes: list[Outcome] = []
        for request in requests:
            try:
                outcomes.extend(self._attempt([request]))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    def close(self, timeout: float = 10.0) -> None:
        """Answer what is queued, then stop the thread."""
        with self._ready:
            self._closed = True
            self._ready.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _attempt(self, requests: list[R]) -> list[Outcome]:  # pragma: no cover - every lane says
        """Run ``requests`` in one transaction, committed before this returns; raise to have each run alone."""
        raise NotImplementedError

    def _serve(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if not self._queue:
                    return
                waiters = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
            try:
                outcomes = self.run([request for request, _, _ in waiters])
            except Exception as exc:
                outcomes = [exc] * len(waiters)
            for (_, future, loop), outcome in zip(waiters, outcomes, strict=True):
                try:
                    loop.call_soon_threadsafe(_settle, future, outcome)
                except RuntimeError:  # its event loop is closed (the server stopped): nobody waits for it
                    log.info("a request was answered after its server stopped; its answer is under its key")


Render = Callable[[Operation], Any]
"""How the API answers an accepted request: its operation as the JSON body recorded for it."""


class Batch(Generic[R]):
    """One transaction of a :class:`FlowLane`: its constructor reads for all the requests, :meth:`answer` takes
    each in turn (in arrival order), :meth:`write` inserts what they made."""

    def __init__(self, lane: FlowLane[R], session: Session, requests: list[R]) -> None:
        self.lane = lane
        self.session = session

    def answer(self, request: R) -> Outcome:
        """The request's answer, or the error it fails with (it fails alone)."""
        try:
            return self._answer(request)
        except Exception as exc:
            return exc

    def _answer(self, request: R) -> Answer:  # pragma: no cover - every batch says
        raise NotImplementedError

    def write(self) -> None:  # pragma: no cover - every batch says
        raise NotImplementedError


class FlowLane(Lane[R]):
    """A lane of one money flow: its batches are ``batch`` (a :class:`Batch`); the flow's settings, the chain
    (asked only for what the node's view cannot decide) and how the API renders an accepted request."""

    batch: type[Batch[R]]

    def __init__(self, sessions: sessionmaker[Session], settings: NodeSettings, network: Callable[[], Network],
                 render: Render, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        super().__init__(sessions, max_batch=max_batch)
        self.settings = settings
        self.network = network
        self.render = render

    def _attempt(self, requests: list[R]) -> list[Outcome]:
        with unit_of_work(self.sessions) as session:
            batch = self.batch(self, session, requests)
            outcomes = [batch.answer(request) for request in requests]
            batch.write()
        return outcomes


def _settle(future: asyncio.Future[Answer], outcome: Outcome) -> None:
    if future.done():  # the caller stopped waiting (its answer is recorded under its key all the same)
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


# ------------------------------------------------------------------ idempotency keys of a batch


@dataclass(frozen=True)
class Keyed:
    """A request's ``Idempotency-Key``: its scope (the caller), the key, and the hash of the request it binds."""

    scope: str
    key: str
    request_hash: str


class BatchKeys:
    """The idempotency keys of one batch: read at once, judged per request, recorded as completed with the
    answers (:meth:`write`, in the batch's transaction)."""

    def __init__(self, session: Session, keys: list[Keyed]) -> None:
        self.session = session
        self.taken = idempotency.recorded(session, [(k.scope, k.key) for k in keys])
        self.answered: dict[tuple[str, str], tuple[str, Answer]] = {}
        self.rows: list[dict[str, Any]] = []
        self.takeovers: list[tuple[int, str, Any]] = []
        self._takeover: dict[tuple[str, str], int] = {}

    def judge(self, keyed: Keyed) -> Answer | None:
        """The answer of a request whose key was answered (earlier, or earlier in this batch), or None if the
        request is to run.

        Raises:
            IdempotencyKeyReusedError, IdempotencyKeyInFlightError: as :func:`node.idempotency.verdict`.
        """
        ident = (keyed.scope, keyed.key)
        earlier = self.answered.get(ident)
        if earlier is not None:  # the same key earlier in this batch
            digest, answer = earlier
            if digest != keyed.request_hash:
                raise IdempotencyKeyReusedError(*ident)
            return Answer(answer.status, answer.body, replayed=True)
        taken = self.taken.get(ident)
        if taken is not None:
            replay = idempotency.verdict(taken, keyed.request_hash, utcnow())
            if replay is not None:
                return Answer(replay.status, replay.body, replayed=True)
            self._takeover[ident] = taken.id  # in flight under a caller presumed dead (node.idempotency)
        return None

    def record(self, keyed: Keyed, answer: Answer) -> None:
        """Record ``answer`` under the key (written by :meth:`write`)."""
        ident = (keyed.scope, keyed.key)
        self.answered[ident] = (keyed.request_hash, answer)
        takeover = self._takeover.pop(ident, None)
        if takeover is not None:
            self.takeovers.append((takeover, keyed.key, (answer.status, answer.body)))
        else:
            self.rows.append(idempotency.completed_row(scope=keyed.scope, key=keyed.key,
                                                       request_hash=keyed.request_hash, status=answer.status,
                                                       body=answer.body))

    def write(self) -> None:
        """Insert the keys recorded so far."""
        insert_batch(self.session, IdempotencyRecord, self.rows, unique=("scope", "key"),
                     taken=lambda row: IdempotencyKeyInFlightError(row["scope"], row["key"], "finished"))
        self.rows.clear()
        for record_id, key, (status, body) in self.takeovers:
            idempotency.complete(self.session, record_id, key, status=status, body=body)
        self.takeovers.clear()
