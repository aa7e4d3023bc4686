"""What reconciliation compares, read once: the node's records (one database snapshot) and the chain's facts.

:func:`read_node` takes everything from the database in one read-only transaction (REPEATABLE READ on
PostgreSQL; a WAL snapshot on SQLite); :func:`read_chain` then reads the chain at fixed blocks. Nothing here
compares or judges: that is :mod:`node.reconcile.service`.
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
from wallet_sdk.chain.network import Network
from wallet_sdk.events import Event, iter_events

__all__ = [
    "ChainBalances",
    "ChainFacts",
    "IndexerView",
    "NodeRecords",
    "OutboxEffect",
    "read_balances",
    "read_chain",
    "read_node",
]


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
    history: dict[str, int]  # address -> sum of the history's deltas (spendable + held)
    merchants: dict[str, int]  # merchant id -> pending (gross - refunds) of the bank's merchants
    net_issued: int  # minted - burned by the bank


@dataclass(frozen=True)
class NodeRecords:
    indexer: IndexerView | None  # None: the indexer never ran on this database
    ledger_by_ref: dict[bytes | str, int]  # chain-issued balance booked per ref (text if not a bytes32)
    outbox: tuple[OutboxEffect, ...]


def read_node(engine: Engine, bank: bytes, currency: str) -> NodeRecords:
    """The indexer's projection for ``bank``, the ledger's chain-issued bookings and the outbox, at one instant."""
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with session_factory(engine, read_only=True)() as session, session.begin():
        return NodeRecords(indexer=_indexer_view(session, id_text(bank)),
                           ledger_by_ref=_ledger_by_ref(session, currency),
                           outbox=_outbox(session))


def _indexer_view(session: Session, bank: str) -> IndexerView | None:
    checkpoint = load_checkpoint(session)
    if checkpoint is None:
        return None
    wallets = {w.address: (w.spendable_minor, w.held_minor)
               for w in session.scalars(select(ChainWallet).where(ChainWallet.bank_id == bank))}
    history = {
        wallet: int(total) for wallet, total in session.execute(
            select(WalletHistory.wallet,
                   func.sum(WalletHistory.spendable_delta_minor + WalletHistory.held_delta_minor))
            .where(WalletHistory.wallet.in_(select(ChainWallet.address).where(ChainWallet.bank_id == bank)))
            .group_by(WalletHistory.wallet))
    }
    merchants = {m.merchant_id: m.pending_gross_minor - m.pending_refunds_minor
                 for m in session.scalars(select(ChainMerchant).where(ChainMerchant.acquirer == bank))}
    issuance = session.scalars(select(BankIssuance).where(BankIssuance.bank_id == bank)).one_or_none()
    net = 0 if issuance is None else issuance.minted_minor - issuance.burned_minor
    return IndexerView(checkpoint, wallets, history, merchants, net)


def _ledger_by_ref(session: Session, currency: str) -> dict[bytes | str, int]:
    """Per ref, the balance booked on chain-issued accounts (credit-normal: a mint's booking is positive).

    An entry's ref is its ``correlation_id``, else (for a reversal) the ref of the entry it reverses, else its
    ``reference``."""
    rows = session.execute(
        select(JournalEntry.id, JournalEntry.reference, JournalEntry.correlation_id, JournalEntry.reverses_id,
               Posting.amount_minor)
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
    for row in rows:
        text = ref_of(row.id)
        booked[id_bytes(text) or text] -= row.amount_minor  # postings are debit-positive
    return dict(booked)


def _outbox(session: Session) -> tuple[OutboxEffect, ...]:
    effects = []
    for row in session.scalars(select(OutboxRow).order_by(OutboxRow.id)):
        payload: dict[str, Any] = row.payload if isinstance(row.payload, dict) else {}
        ref, amount = payload.get("ref"), payload.get("amount")
        effects.append(OutboxEffect(
            key=row.idempotency_key, kind=row.kind, state=row.state,
            ref=id_bytes(ref) if isinstance(ref, str) else None,
            amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
            tx_hash=row.tx_hash, updated_at=row.updated_at))
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


def read_chain(network: Network, bank: bytes, block: int, tx_hashes: set[str]) -> ChainFacts:
    """Facts about ``bank`` and the network up to ``block``, and the receipts of ``tx_hashes``."""
    ids = network.bank_ids(block=block)
    issuance = list(iter_events(network, None, block, ["Minted", "Burned"], indexed={"bankId": bank}))
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
        network, None, block, ["WalletOpened"], indexed={"bankId": bank})}
    return ChainFacts(
        block=block, total_supply=network.total_supply(block=block),
        net_issued_all=sum(network.net_issued(b, block=block) for b in ids),
        net_issued=network.net_issued(bank, block=block), issuance_by_ref=dict(by_ref),
        ref_events=dict(ref_events), wallets=wallets, merchants=merchants,
        receipts={h: network.mined(h) for h in sorted(tx_hashes)})


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
    return ChainBalances(
        block=block,
        wallets={w: (network.balance(w, block=block), network.held_balance(w, block=block)) for w in sorted(wallets)},
        merchants=pending, net_issued=network.net_issued(bank, block=block))
