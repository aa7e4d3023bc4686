"""The chain writer: turns outbox rows into on-chain effects, each exactly once.

It owns the nonces of the bank's operator account. For each group of rows (one row, or a batch):

1. estimate the call (a revert fails the rows at once: nothing signed, no nonce used; a batch that reverts
   is tried row by row; a "not now" revert such as a paused token leaves the rows waiting; a refusal that
   says the row's own effect is on chain already confirms the row with the transaction that made it, see
   :mod:`node.writer.evidence`);
2. in ONE database transaction: take the next nonce, sign, store the signed bytes, their hash and fees
   (``chain_transactions`` + ``chain_transaction_attempts`` + ``chain_transaction_rows``) and move the rows
   to ``submitted``; commit;
3. only then broadcast the stored bytes.

Every round it follows up each pending transaction, in nonce order:

- a receipt for any of its versions (original or replacement) with enough confirmations: status 1 confirms
  the rows (except those whose batch items failed, which fail with the decoded error), status 0 fails
  them with the decoded revert; recorded in one database transaction. A refusal of a row (or of its only
  item) that says its own effect was done before confirms it with the transaction that did it. A batch of
  several rows mined with status 0 changed nothing: its rows go back to ``received`` and are sent one by
  one, so only a bad row fails;
- no receipt, and the account's mined nonce has not passed it: broadcast the newest stored version again
  if the node does not know it (the SAME bytes: a row is never signed under another nonce), or, if it has
  waited longer than ``stuck_after``, sign a replacement with the same nonce and higher fees, store it,
  then broadcast it (whichever version is mined wins);
- no receipt, and the nonce is used: a transaction the writer did not sign took it; the rows fail.

A crash anywhere leaves either nothing (before the commit of step 2), or stored bytes that the next round
broadcasts again or finds mined. No database session is open while the writer waits for the chain.
Connection trouble (node or database) is retried with exponential backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier, TxReceipt

from node.confirmations import is_confirmed
from node.db import session_factory, transaction, utcnow
from node.instruments import WRITER_BATCH_ITEMS, WRITER_BATCH_ROWS
from node.logs import bound
from node.outbox import (
    IllegalTransitionError,
    OutboxRow,
    OutboxState,
    confirm_batch,
    final_batch,
    submit_rows,
    transition,
)
from node.wakeup import wait_for_work
from node.writer.evidence import DoneBefore
from node.writer.kinds import BATCH_BASE_GAS, KINDS, InvalidPayloadError, OutboxKind, Payload, WriterContext
from node.writer.models import ChainTransaction, ChainTxAttempt, ChainTxRow, ChainTxState
from wallet_sdk.chain.events import Event, ReceiptEvents
from wallet_sdk.chain.network import Network
from wallet_sdk.exceptions import (
    ContractRevertError,
    InvalidArgumentError,
    NodeConnectionError,
    TransactionRejectedError,
)
from wallet_sdk.keys import WalletKey
from wallet_sdk.rawtx import (
    BroadcastResult,
    CallRequest,
    Fees,
    SignedRawTransaction,
    block_number,
    bounded_request,
    broadcast,
    call_request,
    fee_quote,
    is_known,
    nonce_of,
    receipt_of,
    revert_of,
    sign_request,
)

__all__ = ["ChainWriter", "WriterConfig", "WriterRound", "WriterStep", "writer_web3"]

log = logging.getLogger("walletnet.writer")

RETRYABLE = (NodeConnectionError, OSError, OperationalError, SATimeoutError, IntegrityError,
             TransactionRejectedError)
"""Errors after which the writer waits and tries again: nothing it stored is wrong, the world was in the way
(node or database unreachable or busy, a concurrent writer took the nonce, the node refused a transaction for now)."""


class WriterStep(StrEnum):
    """Steps of the writer's work that its ``checkpoint`` hook sees (the crash tests kill the process at them).
    Not the indexer's :class:`~node.indexer.service.IndexedUpTo`: nothing is resumed from these."""

    SIGNED_COMMITTED = "signed_committed"  # a signed transaction (or replacement) is committed, not broadcast
    BROADCAST = "broadcast"  # the node answered the broadcast; no receipt seen yet
    RECEIPT_SEEN = "receipt_seen"  # a final receipt was read and the rows' new states flushed, not committed


@dataclass(frozen=True)
class WriterConfig:
    confirmations: int = 1  # blocks, counting the one that mined the transaction (0 or 1: mined is enough)
    poll_interval: float = 0.25  # seconds between rounds with nothing to submit
    stuck_after: float = 120.0  # seconds a version may wait unmined before a replacement with higher fees
    fee_bump_percent: int = 25  # how much more a replacement pays
    max_replacements: int = 10  # then the writer keeps waiting for one of the versions
    # A node can count a mined nonce a moment before it serves the receipt (anvil under load; a load balancer
    # in front of several nodes): a nonce past ours with no receipt is "displaced" only if it stays so this long.
    displaced_after: float = 5.0
    gas_margin: int = 20  # percent added to the gas estimate
    estimate_block: BlockIdentifier = "pending"  # estimate on top of the writer's own pending transactions
    rows_per_round: int = 500  # received rows read per round
    # reverts that say "not now" rather than "never": rows refused with them stay received and are tried again
    wait_on_reverts: frozenset[str] = frozenset({"EnforcedPause", "BankNotActive"})
    backoff_initial: float = 0.2  # seconds, doubled after each retryable failure in a row
    backoff_max: float = 10.0


@dataclass(frozen=True)
class WriterRound:
    """What one round of the writer did (its ``after_round`` hook gets it)."""

    submitted: int  # rows sent in new transactions
    finished: int  # rows confirmed or failed
    outstanding: int  # received rows of known kinds + pending transactions, after the round


# ------------------------------------------------------------------ snapshots (read in a session, used after)


@dataclass(frozen=True)
class _ReceivedRow:
    id: int
    kind: str
    payload: Payload
    attempts: int = 0  # > 0: sent before in a batch that reverted as a whole; it now goes alone


@dataclass(frozen=True)
class _Attempt:
    tx_hash: str
    raw: bytes
    fees: Fees
    created_at: datetime


@dataclass(frozen=True)
class _Slot:
    outbox_id: int
    first_item: int
    item_count: int
    payload: Payload


@dataclass(frozen=True)
class _PendingTx:
    id: int
    nonce: int
    kind: str
    request: CallRequest
    attempts: tuple[_Attempt, ...]  # oldest first
    rows: tuple[_Slot, ...]

    @property
    def newest(self) -> _Attempt:
        return self.attempts[-1]


@dataclass(frozen=True)
class _Outcome:
    state: ChainTxState
    mined_hash: str | None
    block_number: int | None
    error: str | None  # of the whole transaction
    row_errors: Mapping[int, str]  # outbox id -> why it failed; the other rows are confirmed
    events: Sequence[Event] = ()  # decoded events of the mined transaction (when read), for the flows' completions
    row_reverts: Mapping[int, ContractRevertError] = field(default_factory=dict)  # outbox id -> its refusal
    done_before: Mapping[int, DoneBefore] = field(default_factory=dict)  # outbox id -> what made its effect
    send_alone: tuple[int, ...] = ()  # outbox ids of a reverted batch, back to received to go one by one


def _fees_of(attempt: ChainTxAttempt) -> Fees:
    return Fees(attempt.max_fee_per_gas, attempt.max_priority_fee_per_gas, attempt.gas_price)


class ChainWriter:
    """Writes the outbox of one bank node on chain, signing with ``account`` (the bank's operator).

    ``run()`` loops until ``stop`` is set (or, with ``until_idle``, until nothing is left to do);
    ``run_round()`` does one round, for callers that drive it themselves. ``checkpoint`` is called at each
    :class:`WriterStep`; ``clock`` gives the current UTC time (tests move it to make a transaction stuck).
    """

    def __init__(self, sessions: sessionmaker[Session], network: Network, account: LocalAccount | WalletKey,
                 config: WriterConfig | None = None, *, kinds: Mapping[str, OutboxKind] | None = None,
                 checkpoint: Callable[[WriterStep], None] | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        engine = sessions.kw.get("bind")
        # polling reads neither wait for nor hold up the node's writers (SQLite: no write lock taken)
        self.readers = session_factory(engine, read_only=True) if isinstance(engine, Engine) else sessions
        self.network = network
        self.w3 = network.w3
        self.account = account
        self.sender = account.address
        self.config = config or WriterConfig()
        self.kinds = dict(KINDS if kinds is None else kinds)
        self.context = WriterContext(network, self.sender)
        self.retries = 0  # retryable failures seen so far
        self._checkpoint = checkpoint or (lambda _point: None)
        self._clock = clock
        self._handed_over: dict[str, datetime] = {}  # tx hash -> when this process last broadcast it
        self._nonce_passed: dict[int, datetime] = {}  # chain tx id -> when its nonce was first seen used, unmined
        self._gas_limit_read: tuple[float, int] | None = None  # (monotonic time, the newest block's gas limit)

    def __repr__(self) -> str:
        return f"ChainWriter(sender='{self.sender}')"

    # ------------------------------------------------------------------ the loop

    def run(self, stop: threading.Event | None = None, *, until_idle: bool = False,
            wake: threading.Event | None = None, after_round: Callable[[WriterRound], None] | None = None) -> None:
        """Write rows until ``stop`` is set, or until none is received or pending when ``until_idle``.

        An idle wait ends early when ``wake`` is set (new rows may be there; see node/wakeup.py);
        ``after_round`` is called with each round's result.
        """
        stop = stop or threading.Event()
        delay = self.config.backoff_initial
        while not stop.is_set():
            try:
                result = self.run_round()
            except RETRYABLE as exc:
                self.retries += 1
                log.warning("writer round failed (%s: %s); retrying in %.2fs", type(exc).__name__, exc, delay)
                stop.wait(delay)
                delay = min(delay * 2, self.config.backoff_max)
                continue
            delay = self.config.backoff_initial
            if after_round is not None:
                after_round(result)
            if until_idle and result.outstanding == 0:
                return
            if result.submitted == 0 and result.finished == 0:
                wait_for_work(stop, wake, self.config.poll_interval)

    def run_round(self) -> WriterRound:
        """Follow up the pending transactions, then submit the received rows; one pass of each."""
        finished = self.follow_up_pending()
        submitted = self.submit_received()
        return WriterRound(submitted, finished, self.count_outstanding())

    def count_outstanding(self) -> int:
        with self.readers() as session:
            received = session.scalar(select(func.count()).select_from(OutboxRow).where(
                OutboxRow.state == OutboxState.RECEIVED, OutboxRow.kind.in_(self.kinds)))
            pending = session.scalar(select(func.count()).select_from(ChainTransaction).where(
                ChainTransaction.state == ChainTxState.PENDING, ChainTransaction.sender == self.sender))
        return int(received or 0) + int(pending or 0)

    # ------------------------------------------------------------------ submitting received rows

    def submit_received(self) -> int:
        """Send the received rows, in outbox order, one transaction per group; returns the rows sent."""
        return sum(self._submit_group(group) for group in self._groups(self._load_received()))

    def _load_received(self) -> list[_ReceivedRow]:
        with self.readers() as session:
            rows = session.scalars(
                select(OutboxRow).where(OutboxRow.state == OutboxState.RECEIVED, OutboxRow.kind.in_(self.kinds))
                .order_by(OutboxRow.id).limit(self.config.rows_per_round)).all()
            return [_ReceivedRow(row.id, row.kind, row.payload, row.attempts) for row in rows]

    def _groups(self, rows: Sequence[_ReceivedRow]) -> list[list[_ReceivedRow]]:
        """Consecutive rows of one kind, as many as fit in one call (so effects keep the outbox order)."""
        groups: list[list[_ReceivedRow]] = []
        items = 0
        for row in rows:
            kind = self.kinds[row.kind]
            count = self._item_count(kind, row)
            current = groups[-1] if groups else None
            if current and current[0].kind == row.kind and items + count <= kind.max_items \
                    and not row.attempts and not current[0].attempts:
                current.append(row)
                items += count
            else:
                groups.append([row])
                items = count
        return groups

    @staticmethod
    def _item_count(kind: OutboxKind, row: _ReceivedRow) -> int:
        try:
            return max(1, kind.count_items(row.payload))
        except (InvalidPayloadError, InvalidArgumentError, KeyError, TypeError, ValueError):
            return 1  # a bad payload goes alone and fails in _valid_rows

    def _submit_group(self, rows: list[_ReceivedRow]) -> int:
        kind = self.kinds[rows[0].kind]
        rows, call = self._valid_rows(kind, rows)
        if call is None:
            return 0
        try:
            request = self._bounded_request(kind, rows, call) or call_request(
                self.w3, call, self.sender, gas_margin=self.config.gas_margin, block=self.config.estimate_block)
        except ContractRevertError as error:
            if error.name in self.config.wait_on_reverts:
                log.warning("outbox rows %s wait: the call would revert with %s", [row.id for row in rows], error)
                return 0
            if len(rows) > 1:  # one bad item reverts the batch: find it by sending the rows one by one
                return sum(self._submit_group([row]) for row in rows)
            done = kind.done_before(self.context, rows[0].payload, error)
            if done is None:
                self._fail_received(rows, str(error), error)
            elif is_confirmed(done.block_number, block_number(self.w3), self.config.confirmations):
                self._confirm_received(rows[0], done)
            return 0
        fees = fee_quote(self.w3)
        chain_nonce = nonce_of(self.w3, self.sender, "pending")
        signed = self._store_signed(kind, rows, request, fees, chain_nonce)
        if signed is None:
            return 0
        self._checkpoint(WriterStep.SIGNED_COMMITTED)
        self._broadcast(signed)
        return len(rows)

    def _valid_rows(self, kind: OutboxKind, rows: list[_ReceivedRow]
                    ) -> tuple[list[_ReceivedRow], ContractFunction | None]:
        """The rows whose payload encodes and their call (None if none does); the others are failed (a payload
        never gets better by waiting)."""
        bad = (InvalidPayloadError, InvalidArgumentError, KeyError, TypeError, ValueError)
        try:  # all of them at once first: the usual case, and a hundred builds of one cost far more
            return rows, kind.build(self.context, [row.payload for row in rows])
        except bad:
            pass  # one of them does not encode: find which, row by row
        valid = []
        for row in rows:
            try:
                kind.build(self.context, [row.payload])
            except bad as exc:
                self._fail_received([row], f"invalid payload: {exc}")
            else:
                valid.append(row)
        if not valid:
            return [], None
        return valid, kind.build(self.context, [row.payload for row in valid])

    def _bounded_request(self, kind: OutboxKind, rows: Sequence[_ReceivedRow],
                         call: ContractFunction) -> CallRequest | None:
        """The request of a batch of a kind that bounds its gas per item, checked without an estimate (see
        :attr:`OutboxKind.gas_per_item`); None when it is to be estimated: one item, no bound, a bound over half
        the block gas limit, or a check that failed (a revert, or the bound too low for what the items cost
        now: the estimate then says which)."""
        items = sum(self._item_count(kind, row) for row in rows)
        if kind.gas_per_item is None or items < 2:
            return None
        gas = BATCH_BASE_GAS + items * kind.gas_per_item
        if gas > self._block_gas_limit() // 2:
            return None
        try:
            return bounded_request(self.w3, call, self.sender, gas, chain_id=self.network.chain_id,
                                   block=self.config.estimate_block)
        except (ContractRevertError, TransactionRejectedError) as error:
            log.info("a %s batch of %d items failed its check with %d gas (%s); estimating it", kind.name, items,
                     gas, error)
            return None

    def _block_gas_limit(self) -> int:
        """The newest block's gas limit, read again once a minute (a permissioned chain's operators may change it)."""
        now = time.monotonic()
        if self._gas_limit_read is None or now - self._gas_limit_read[0] > 60:
            self._gas_limit_read = (now, int(self.w3.eth.get_block("latest")["gasLimit"]))
        return self._gas_limit_read[1]

    def _confirm_received(self, row: _ReceivedRow, done: DoneBefore) -> None:
        """Confirm a row whose effect the chain holds already (made by ``done``), without sending anything."""
        with transaction(self.sessions) as session:
            outbox = session.get(OutboxRow, row.id)
            if outbox is not None and outbox.state is OutboxState.RECEIVED:
                transition(session, outbox, OutboxState.CONFIRMED, tx_hash=done.tx_hash, events=done.events)
        log.warning("outbox row %s was done before by %s: confirmed without sending it again", row.id, done.tx_hash)

    def _fail_received(self, rows: Sequence[_ReceivedRow], reason: str,
                       revert: ContractRevertError | None = None) -> None:
        with transaction(self.sessions) as session:
            for row in rows:
                outbox = session.get(OutboxRow, row.id)
                if outbox is not None and outbox.state is OutboxState.RECEIVED:
                    transition(session, outbox, OutboxState.FAILED, error=reason, revert=revert)
        with bound(operation_ids=_operations(row.payload for row in rows)):
            log.info("outbox rows %s failed before sending: %s", [row.id for row in rows], reason)

    def _next_nonce(self, session: Session, chain_nonce: int) -> int:
        """One more than the highest nonce the writer stored, or the node's pending count if that is higher
        (someone else used the account)."""
        highest = session.scalar(select(func.max(ChainTransaction.nonce)).where(ChainTransaction.sender == self.sender))
        return max(chain_nonce, 0 if highest is None else highest + 1)

    def _store_signed(self, kind: OutboxKind, rows: Sequence[_ReceivedRow], request: CallRequest, fees: Fees,
                      chain_nonce: int) -> SignedRawTransaction | None:
        """Take the next nonce, sign, and commit the signed bytes with the rows' move to submitted."""
        try:
            with transaction(self.sessions) as session:
                nonce = self._next_nonce(session, chain_nonce)
                signed = sign_request(self.account, request, nonce, fees)
                tx = ChainTransaction(sender=self.sender, nonce=nonce, chain_id=request.chain_id, kind=kind.name,
                                      to_address=request.to, data=request.data, gas_limit=request.gas,
                                      state=ChainTxState.PENDING, created_at=self._clock(), updated_at=self._clock())
                session.add(tx)
                session.flush()
                self._add_attempt(session, tx.id, signed)
                submit_rows(session, [row.id for row in rows], tx_hash=signed.tx_hash, nonce=nonce)
                slots = []
                first_item = 0
                for row in rows:
                    count = self._item_count(kind, row)
                    slots.append({"outbox_id": row.id, "chain_tx_id": tx.id, "first_item": first_item,
                                  "item_count": count})
                    first_item += count
                session.execute(insert(ChainTxRow), slots)
        except IllegalTransitionError as exc:  # another writer took a row meanwhile: nothing was stored
            log.warning("outbox row changed while signing (%s); skipped", exc)
            return None
        WRITER_BATCH_ROWS.labels(kind.name).observe(len(rows))
        WRITER_BATCH_ITEMS.labels(kind.name).observe(first_item)
        with bound(tx_hash=signed.tx_hash, operation_ids=_operations(row.payload for row in rows)):
            log.info("nonce %d: %s for outbox rows %s signed as %s", nonce, kind.name, [row.id for row in rows],
                     signed.tx_hash)
        return signed

    def _add_attempt(self, session: Session, chain_tx_id: int, signed: SignedRawTransaction) -> None:
        session.add(ChainTxAttempt(chain_tx_id=chain_tx_id, tx_hash=signed.tx_hash, raw_tx=signed.raw,
                                   gas_price=signed.fees.gas_price, max_fee_per_gas=signed.fees.max_fee_per_gas,
                                   max_priority_fee_per_gas=signed.fees.max_priority_fee_per_gas,
                                   created_at=self._clock()))

    def _broadcast(self, signed: SignedRawTransaction | _Attempt) -> None:
        """Hand stored bytes to the node. A refusal is logged and left to the follow-up; an unreachable node
        raises (the follow-up broadcasts the same bytes again)."""
        try:
            result = broadcast(self.w3, signed.raw)
        except TransactionRejectedError as exc:
            log.error("the node refused %s: %s (will retry)", signed.tx_hash, exc.reason)
            return
        if result is not BroadcastResult.ACCEPTED:
            log.info("broadcast of %s: %s", signed.tx_hash, result.value)
        self._handed_over[signed.tx_hash] = self._clock()
        self._checkpoint(WriterStep.BROADCAST)

    # ------------------------------------------------------------------ following up pending transactions

    def follow_up_pending(self) -> int:
        """Look at every pending transaction (oldest nonce first); returns the rows it finished."""
        return sum(self._follow_up(tx) for tx in self._load_pending())

    def _load_pending(self) -> list[_PendingTx]:
        with self.readers() as session:
            txs = session.scalars(select(ChainTransaction).where(
                ChainTransaction.state == ChainTxState.PENDING, ChainTransaction.sender == self.sender)
                .order_by(ChainTransaction.nonce)).all()
            ids = [tx.id for tx in txs]
            attempts = session.scalars(select(ChainTxAttempt).where(ChainTxAttempt.chain_tx_id.in_(ids))
                                       .order_by(ChainTxAttempt.id)).all()
            slots = session.scalars(select(ChainTxRow).where(ChainTxRow.chain_tx_id.in_(ids))
                                    .order_by(ChainTxRow.first_item)).all()
            carried = select(OutboxRow.id, OutboxRow.payload).where(OutboxRow.id.in_([s.outbox_id for s in slots]))
            payloads = {row.id: row.payload for row in session.execute(carried)}
            return [
                _PendingTx(
                    id=tx.id, nonce=tx.nonce, kind=tx.kind,
                    request=CallRequest(chain_id=tx.chain_id, to=to_checksum_address(tx.to_address),
                                        data=tx.data, gas=tx.gas_limit),
                    attempts=tuple(_Attempt(a.tx_hash, a.raw_tx, _fees_of(a), a.created_at)
                                   for a in attempts if a.chain_tx_id == tx.id),
                    rows=tuple(_Slot(s.outbox_id, s.first_item, s.item_count, payloads[s.outbox_id])
                               for s in slots if s.chain_tx_id == tx.id),
                )
                for tx in txs
            ]

    def _follow_up(self, tx: _PendingTx) -> int:
        found = self._find_receipt(tx)
        if found is not None:
            attempt, receipt = found
            if not self._has_confirmations(receipt):
                return 0
            return self._record(tx, self._outcome(tx, attempt, receipt))
        if nonce_of(self.w3, self.sender, "latest") > tx.nonce:
            first_seen = self._nonce_passed.setdefault(tx.id, self._clock())
            if (self._clock() - first_seen).total_seconds() < self.config.displaced_after:
                return 0  # mined between our two looks, or its receipt not served yet: look again next round
            return self._record(tx, self._displaced(tx))
        if not is_known(self.w3, tx.newest.tx_hash):
            log.info("nonce %d: the node does not know %s; broadcasting the stored bytes again", tx.nonce,
                     tx.newest.tx_hash)
            self._broadcast(tx.newest)
        elif self._is_stuck(tx) and len(tx.attempts) <= self.config.max_replacements:
            self._replace(tx)
        return 0

    def _find_receipt(self, tx: _PendingTx) -> tuple[_Attempt, TxReceipt] | None:
        """The receipt of whichever version of the transaction was mined, if one was."""
        for attempt in reversed(tx.attempts):
            receipt = receipt_of(self.w3, attempt.tx_hash)
            if receipt is not None:
                return attempt, receipt
        return None

    def _has_confirmations(self, receipt: TxReceipt) -> bool:
        return is_confirmed(int(receipt["blockNumber"]), block_number(self.w3), self.config.confirmations)

    def _is_stuck(self, tx: _PendingTx) -> bool:
        """The newest version has waited ``stuck_after`` since it was signed or last handed to the node."""
        since = max(tx.newest.created_at, self._handed_over.get(tx.newest.tx_hash, tx.newest.created_at))
        return (self._clock() - since).total_seconds() >= self.config.stuck_after

    def _outcome(self, tx: _PendingTx, attempt: _Attempt, receipt: TxReceipt) -> _Outcome:
        mined_at = int(receipt["blockNumber"])
        kind = self.kinds.get(tx.kind)
        if receipt["status"] != 1:
            error = revert_of(self.w3, attempt.tx_hash, receipt)
            reason = str(error)
            if len(tx.rows) > 1:  # a batch reverted as a whole changed nothing: each row goes again, alone
                return _Outcome(ChainTxState.REVERTED, attempt.tx_hash, mined_at, reason, {},
                                send_alone=tuple(slot.outbox_id for slot in tx.rows))
            done = self._done_before(kind, tx.rows, {0: error})
            failed = [slot.outbox_id for slot in tx.rows if slot.outbox_id not in done]
            return _Outcome(ChainTxState.REVERTED, attempt.tx_hash, mined_at, reason,
                            dict.fromkeys(failed, reason), done_before=done, row_reverts=dict.fromkeys(failed, error))
        events = ReceiptEvents(self.network, receipt)
        failures = kind.item_failures(self.context, events) if kind else {}
        done = self._done_before(kind, tx.rows, failures)
        failures = {i: e for i, e in failures.items()
                    if not any(slot.first_item == i and slot.outbox_id in done for slot in tx.rows)}
        return _Outcome(ChainTxState.MINED, attempt.tx_hash, mined_at, None, self._row_errors(tx.rows, failures),
                        events, done_before=done, row_reverts=self._row_reverts(tx.rows, failures))

    def _done_before(self, kind: OutboxKind | None, slots: Sequence[_Slot],
                     failures: Mapping[int, ContractRevertError]) -> dict[int, DoneBefore]:
        """The rows of one item whose refusal says their own effect was made before, and what made it."""
        done: dict[int, DoneBefore] = {}
        for slot in slots:
            error = failures.get(slot.first_item)
            if kind is None or error is None or slot.item_count != 1:
                continue
            found = kind.done_before(self.context, slot.payload, error)
            if found is not None:
                done[slot.outbox_id] = found
        return done

    @staticmethod
    def _row_errors(slots: Sequence[_Slot], failures: Mapping[int, ContractRevertError]) -> dict[int, str]:
        """Which rows of a batch failed, and why (a row fails if any of its items failed)."""
        errors: dict[int, str] = {}
        for slot in slots:
            own = {i - slot.first_item: failures[i] for i in range(slot.first_item, slot.first_item + slot.item_count)
                   if i in failures}
            if not own:
                continue
            if slot.item_count == 1:
                errors[slot.outbox_id] = str(own[0])
            else:
                reasons = "; ".join(f"item {i}: {e}" for i, e in sorted(own.items()))
                done = slot.item_count - len(own)
                errors[slot.outbox_id] = reasons + (f" ({done} other item(s) went through)" if done else "")
        return errors

    @staticmethod
    def _row_reverts(slots: Sequence[_Slot], failures: Mapping[int, ContractRevertError]
                     ) -> dict[int, ContractRevertError]:
        """The refusal of each one-item row whose item failed (a row of several items has no single reason)."""
        return {slot.outbox_id: failures[slot.first_item] for slot in slots
                if slot.item_count == 1 and slot.first_item in failures}

    def _displaced(self, tx: _PendingTx) -> _Outcome:
        reason = (f"nonce {tx.nonce} was used by a transaction this writer did not sign; none of its "
                  f"{len(tx.attempts)} version(s) was mined")
        log.error("%s (outbox rows %s)", reason, [slot.outbox_id for slot in tx.rows])
        return _Outcome(ChainTxState.DISPLACED, None, None, reason, {slot.outbox_id: reason for slot in tx.rows})

    def _record(self, tx: _PendingTx, outcome: _Outcome) -> int:
        """Commit the final state of a transaction and of its rows (once: a second look finds it done); returns
        the rows that became final."""
        with transaction(self.sessions) as session:
            stored = session.get(ChainTransaction, tx.id, with_for_update=True)
            if stored is None or stored.state is not ChainTxState.PENDING:
                return 0
            stored.state = outcome.state
            stored.mined_hash = outcome.mined_hash
            stored.block_number = outcome.block_number
            stored.error = outcome.error
            stored.updated_at = self._clock()
            whole = outcome.state is ChainTxState.MINED and outcome.mined_hash is not None \
                and not (outcome.row_errors or outcome.done_before or outcome.send_alone)
            if not (whole and confirm_batch(session, {slot.outbox_id: slot.payload for slot in tx.rows},
                                            outcome.mined_hash or "")):  # every row confirmed: at once if it may
                _finish_rows(session, tx, outcome)
            session.flush()
            self._checkpoint(WriterStep.RECEIPT_SEEN)
        for attempt in tx.attempts:
            self._handed_over.pop(attempt.tx_hash, None)
        self._nonce_passed.pop(tx.id, None)
        with bound(tx_hash=outcome.mined_hash or tx.newest.tx_hash,
                   operation_ids=_operations(slot.payload for slot in tx.rows)):
            log.info("nonce %d: %s %s; %d row(s) confirmed (%d done before), %d failed, %d to send again alone",
                     tx.nonce, outcome.state.value, outcome.mined_hash or "",
                     len(tx.rows) - len(outcome.row_errors) - len(outcome.send_alone), len(outcome.done_before),
                     len(outcome.row_errors), len(outcome.send_alone))
        return len(tx.rows) - len(outcome.send_alone)

    def _replace(self, tx: _PendingTx) -> None:
        """Sign the same call with the same nonce and higher fees, store it, then broadcast it."""
        fees = tx.newest.fees.bumped(self.config.fee_bump_percent).at_least(fee_quote(self.w3))
        signed = sign_request(self.account, tx.request, tx.nonce, fees)
        with transaction(self.sessions) as session:
            stored = session.get(ChainTransaction, tx.id, with_for_update=True)
            if stored is None or stored.state is not ChainTxState.PENDING:
                return
            self._add_attempt(session, tx.id, signed)
            for slot in tx.rows:
                row = session.get(OutboxRow, slot.outbox_id)
                assert row is not None
                transition(session, row, OutboxState.SUBMITTED, tx_hash=signed.tx_hash, nonce=tx.nonce)
        with bound(tx_hash=signed.tx_hash, operation_ids=_operations(slot.payload for slot in tx.rows)):
            log.warning("nonce %d: %s not mined after %.0fs; replaced by %s with higher fees", tx.nonce,
                        tx.newest.tx_hash, self.config.stuck_after, signed.tx_hash)
        self._checkpoint(WriterStep.SIGNED_COMMITTED)
        self._broadcast(signed)


# ------------------------------------------------------------------ set-up


def writer_web3(rpc_url: str, *, timeout: float = 30.0) -> Web3:
    """A Web3 for the writer: web3's own retries off, so an unreachable node surfaces at once and the
    writer's backoff decides what happens next."""
    return Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None))


def _operations(payloads: Iterable[Payload]) -> list[str]:
    """The operations the rows of these payloads belong to (``"operation"``, node/outbox.py), for the log."""
    return [str(payload["operation"]) for payload in payloads
            if isinstance(payload, Mapping) and payload.get("operation")]


def _finish_rows(session: Session, tx: _PendingTx, outcome: _Outcome) -> None:
    """Make each row of ``tx`` final (or received again, to go alone) as ``outcome`` says, one by one."""
    loaded = _load_rows(session, [slot.outbox_id for slot in tx.rows])  # one read for the batch's rows
    final_batch(session, list(loaded.values()))  # and one for what their completions need
    for slot in tx.rows:
        row = loaded.get(slot.outbox_id)
        assert row is not None
        done = outcome.done_before.get(slot.outbox_id)
        reason = outcome.row_errors.get(slot.outbox_id)
        if slot.outbox_id in outcome.send_alone:  # it leaves the reverted batch, which did nothing
            session.delete(session.get(ChainTxRow, slot.outbox_id))
            session.flush()
            transition(session, row, OutboxState.RECEIVED, error=f"its batch reverted: {outcome.error}",
                       locked=True)
        elif done is not None:  # the transition hands the completion what the chain did (e.g. the amount a
            # closure burned): the events of the transaction that made the effect
            transition(session, row, OutboxState.CONFIRMED, tx_hash=done.tx_hash, events=done.events, locked=True)
        elif reason is None:
            transition(session, row, OutboxState.CONFIRMED, tx_hash=outcome.mined_hash, events=outcome.events,
                       locked=True)
        else:
            transition(session, row, OutboxState.FAILED, error=reason, events=outcome.events,
                       revert=outcome.row_reverts.get(slot.outbox_id), locked=True)


def _load_rows(session: Session, ids: list[int]) -> dict[int, OutboxRow]:
    """The outbox rows ``ids``, by id, read afresh and locked in one query (a batch has up to a hundred), so
    that ``transition(..., locked=True)`` need not read each again."""
    query = select(OutboxRow).where(OutboxRow.id.in_(ids)).with_for_update().execution_options(populate_existing=True)
    return {row.id: row for row in session.scalars(query)}
