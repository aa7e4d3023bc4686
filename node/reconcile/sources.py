"""What reconciliation compares, read once: the node's records (one database snapshot) and the chain's facts.

:func:`read_node` takes everything from the database in one read-only transaction (REPEATABLE READ on
PostgreSQL; a WAL snapshot on SQLite); :func:`read_chain` then reads the chain at fixed blocks. Nothing here
compares or judges: that is :mod:`node.reconcile.service`.

Both read as plain rows and in JSON-RPC batches (:mod:`wallet_sdk.chain.reads`): the client's work per wallet
is what bounds a large bank's run. Given a :class:`~node.reconcile.runs.Since` (an incremental run), they read
only what can have changed after it: the bank's wallets the indexer moved since its block, the refs booked,
enqueued or issued since, and the chain's events after its blocks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, true
from sqlalchemy.orm import Session

from node.chain_ids import id_bytes, id_text
from node.db import session_factory
from node.indexer.models import BankIssuance, ChainMerchant, ChainWallet, WalletHistory
from node.indexer.service import IndexedUpTo, load_checkpoint
from node.ledger.models import JournalEntry, LedgerAccount, Posting
from node.ledger.types import AccountKind
from node.outbox import OutboxRow, OutboxState
from node.reconcile.runs import Since
from wallet_sdk.chain.events import Event, iter_events
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.reads import mined_many, wallet_balances

__all__ = [
    "ChainBalances",
    "ChainFacts",
    "IndexerView",
    "NodeRecords",
    "OutboxEffect",
    "read_balances",
    "read_chain",
    "read_node",
    "touched_wallets",
]

MOVES = ["Transfer", "HoldPlaced", "HoldCaptured", "HoldReleased"]  # the events that change a wallet's balances
REFS_PER_QUERY = 100  # refs in one eth_getLogs topic filter (an incremental run's issuance events)


# ------------------------------------------------------------------ the node's side


@dataclass(frozen=True)
class OutboxEffect:
    """An outbox row as reconciliation sees it."""

    key: str
    kind: str
    state: OutboxState
    ref: bytes | None  # payload["ref"] as bytes32 (None: no ref, or one that cannot be a bytes32)
    amount: int | None  # payload["amount"]
    tx_hash: str | None
    updated_at: datetime


@dataclass(frozen=True)
class IndexerView:
    checkpoint: IndexedUpTo
    wallets: dict[str, tuple[int, int]]  # address -> (spendable, held) of the bank's wallets
    history: dict[str, int]  # address -> sum of the history's deltas (spendable + held) (incremental: of moved)
    merchants: dict[str, int]  # merchant id -> pending (gross - refunds) of the bank's merchants
    net_issued: int  # minted - burned by the bank
    moved: frozenset[str] | None = None  # incremental: the wallets the indexer moved after the run's start


@dataclass(frozen=True)
class NodeRecords:
    indexer: IndexerView | None  # None: the indexer never ran on this database
    ledger_by_ref: dict[bytes | str, int]  # chain-issued balance booked per ref (text if not a bytes32)
    outbox: tuple[OutboxEffect, ...]
    ledger_changed: frozenset[bytes | str] = frozenset()  # incremental: refs with an entry made or posted since


def read_node(engine: Engine, bank: bytes, currency: str, since: Since | None = None) -> NodeRecords:
    """The indexer's projection for ``bank``, the ledger's chain-issued bookings and the outbox, at one instant
    (``since``: the projection of the wallets moved after its indexer block only)."""
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with session_factory(engine, read_only=True)() as session, session.begin():
        booked, changed = _ledger_by_ref(session, currency, since)
        return NodeRecords(indexer=_indexer_view(session, id_text(bank), since), ledger_by_ref=booked,
                           outbox=_outbox(session), ledger_changed=changed)


def _indexer_view(session: Session, bank: str, since: Since | None) -> IndexerView | None:
    checkpoint = load_checkpoint(session)
    if checkpoint is None:
        return None
    chosen = ChainWallet.bank_id == bank
    moved: set[str] = set()
    wallets = {}
    for address, spendable, held, block in session.execute(select(
            ChainWallet.address, ChainWallet.spendable_minor, ChainWallet.held_minor, ChainWallet.updated_block)
            .where(chosen)):
        wallets[address] = (spendable, held)
        if since is not None and block > since.indexer_block:  # the indexer stamps what an event moves
            moved.add(address)
    if since is not None:
        chosen = chosen & (ChainWallet.updated_block > since.indexer_block)
    history = {
        wallet: int(total) for wallet, total in session.execute(
            select(WalletHistory.wallet,
                   func.sum(WalletHistory.spendable_delta_minor + WalletHistory.held_delta_minor))
            .where(WalletHistory.wallet.in_(select(ChainWallet.address).where(chosen)))
            .group_by(WalletHistory.wallet))
    }
    merchants = {m.merchant_id: m.pending_gross_minor - m.pending_refunds_minor
                 for m in session.scalars(select(ChainMerchant).where(ChainMerchant.acquirer == bank))}
    issuance = session.scalars(select(BankIssuance).where(BankIssuance.bank_id == bank)).one_or_none()
    net = 0 if issuance is None else issuance.minted_minor - issuance.burned_minor
    return IndexerView(checkpoint, wallets, history, merchants, net, None if since is None else frozenset(moved))


def _ledger_by_ref(session: Session, currency: str,
                   since: Since | None) -> tuple[dict[bytes | str, int], frozenset[bytes | str]]:
    """Per ref, the balance booked on chain-issued accounts (credit-normal: a mint's booking is positive); and
    (``since``) the refs of entries made or posted after its time.

    An entry's ref is its ``correlation_id``, else (for a reversal) the ref of the entry it reverses, else its
    ``reference``."""
    rows = session.execute(
        select(JournalEntry.id, JournalEntry.reference, JournalEntry.correlation_id, JournalEntry.reverses_id,
               JournalEntry.created_at, JournalEntry.posted_at, Posting.amount_minor)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(LedgerAccount.kind == AccountKind.CHAIN_ISSUED, LedgerAccount.currency == currency,
               JournalEntry.posted == true())
    ).all()
    entries: dict[int, tuple[str, str | None, int | None]] = {
        row.id: (row.reference, row.correlation_id, row.reverses_id) for row in rows}

    def ref_of(entry_id: int) -> str:
        reference, correlation, reverses = entries[entry_id]
        if correlation:
            return correlation
        if reverses is not None and reverses in entries:
            return ref_of(reverses)
        return reference

    booked: dict[bytes | str, int] = defaultdict(int)
    changed: set[bytes | str] = set()
    for row in rows:
        text = ref_of(row.id)
        ref = id_bytes(text) or text
        booked[ref] -= row.amount_minor  # postings are debit-positive
        if since is not None and max(row.created_at, row.posted_at or row.created_at) > since.changed_after:
            changed.add(ref)
    return dict(booked), frozenset(changed)


def _outbox(session: Session) -> tuple[OutboxEffect, ...]:
    """Every row, as plain tuples (no ORM object per row: a bank has millions)."""
    effects = []
    for key, kind, state, payload, tx_hash, updated_at in session.execute(
            select(OutboxRow.idempotency_key, OutboxRow.kind, OutboxRow.state, OutboxRow.payload, OutboxRow.tx_hash,
                   OutboxRow.updated_at).order_by(OutboxRow.id)):
        fields: dict[str, Any] = payload if isinstance(payload, dict) else {}
        ref, amount = fields.get("ref"), fields.get("amount")
        effects.append(OutboxEffect(
            key=key, kind=kind, state=OutboxState(state), ref=id_bytes(ref) if isinstance(ref, str) else None,
            amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
            tx_hash=tx_hash, updated_at=updated_at))
    return tuple(effects)


# ------------------------------------------------------------------ the chain's side


@dataclass(frozen=True)
class ChainFacts:
    block: int
    total_supply: int
    net_issued_all: int  # sum of netIssued over every bank
    net_issued: int  # of this bank
    issuance_by_ref: dict[bytes, int]  # this bank's Minted (+) and Burned (-) per ref, up to ``block``
    ref_events: dict[bytes, list[Event]]  # every event of this bank carrying a ref, by ref
    wallets: dict[str, int]  # this bank's wallets -> block of their opening
    merchants: dict[str, int]  # this bank's merchants -> block of their registration
    receipts: dict[str, tuple[int, int] | None] = field(default_factory=dict)  # tx hash -> (status, block)


def _issuance(network: Network, bank: bytes, block: int, since: Since | None,
              refs: set[bytes]) -> list[Event]:
    """The bank's Minted and Burned up to ``block``: all of them; or (``since``) those of ``refs`` and of the refs
    issued after its chain block, each ref's whole history (the ref is an indexed topic: the node filters)."""
    if since is None:
        return list(iter_events(network, None, block, ["Minted", "Burned"], indexed={"bankId": bank}))
    wanted = set(refs)
    wanted.update(bytes(e["ref"]) for e in iter_events(network, since.chain_block + 1, block, ["Minted", "Burned"],
                                                       indexed={"bankId": bank}))
    ordered = sorted(wanted)
    return [event for i in range(0, len(ordered), REFS_PER_QUERY) for event in iter_events(
        network, None, block, ["Minted", "Burned"], indexed={"bankId": bank, "ref": ordered[i:i + REFS_PER_QUERY]})]


def read_chain(network: Network, bank: bytes, block: int, tx_hashes: set[str], *, since: Since | None = None,
               refs: set[bytes | str] | None = None) -> ChainFacts:
    """Facts about ``bank`` and the network up to ``block``, and the receipts of ``tx_hashes``. With ``since``
    (an incremental run): issuance of ``refs`` (a ref that is no bytes32 has none) and of what was issued after
    it only, and the wallets opened after its indexer block."""
    ids = network.bank_ids(block=block)
    issuance = _issuance(network, bank, block, since, {r for r in refs or () if isinstance(r, bytes)})
    by_ref: dict[bytes, int] = defaultdict(int)
    ref_events: dict[bytes, list[Event]] = defaultdict(list)
    for event in issuance:
        by_ref[bytes(event["ref"])] += event["amount"] if event.name == "Minted" else -event["amount"]
        ref_events[bytes(event["ref"])].append(event)
    merchants = {id_text(e["merchantId"]): e.block_number for e in iter_events(
        network, None, block, ["MerchantRegistered"], indexed={"acquirer": bank})}
    others = [*iter_events(network, None, block, ["WalletClosed"], indexed={"bankId": bank}),
              *iter_events(network, None, block, ["MerchantSettled", "OrderRefunded"], indexed={"acquirer": bank})]
    for event in others:
        ref_events[bytes(event["ref"])].append(event)
    wallets = {e["wallet"]: e.block_number for e in iter_events(
        network, None if since is None else since.indexer_block + 1, block, ["WalletOpened"],
        indexed={"bankId": bank})}
    return ChainFacts(
        block=block, total_supply=network.total_supply(block=block),
        net_issued_all=sum(network.net_issued(b, block=block) for b in ids),
        net_issued=network.net_issued(bank, block=block), issuance_by_ref=dict(by_ref),
        ref_events=dict(ref_events), wallets=wallets, merchants=merchants,
        receipts=mined_many(network, sorted(tx_hashes)))


@dataclass(frozen=True)
class ChainBalances:
    """What the indexer's projection should show at ``block``."""

    block: int
    wallets: dict[str, tuple[int, int]]  # address -> (balanceOf, heldBalance)
    merchants: dict[str, int]  # merchant id -> pendingGross - pendingRefunds
    net_issued: int


def read_balances(network: Network, bank: bytes, block: int, wallets: Iterable[str],
                  merchants: Iterable[str]) -> ChainBalances:
    pending = {}
    for merchant in sorted(merchants):
        info = network.merchant(bank, id_bytes(merchant) or merchant, block=block)
        pending[merchant] = info.pending_gross - info.pending_refunds
    return ChainBalances(block=block, wallets=wallet_balances(network, sorted(wallets), block),
                         merchants=pending, net_issued=network.net_issued(bank, block=block))


def touched_wallets(network: Network, start: int, end: int, wallets: frozenset[str]) -> set[str]:
    """Which of ``wallets`` a ``Transfer`` (payments, mints, burns) or a hold moved in blocks ``[start, end]``: the
    chain's own word on what an incremental run compares, beside the indexer's."""
    moved: set[str] = set()
    for event in iter_events(network, start, end, MOVES, contracts=["DigitalCash"]):
        moved.update(event[name] for name in ("from", "to", "holder") if name in event.args
                     and event[name] in wallets)
    return moved
