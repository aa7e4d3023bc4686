"""Reconciliation: the chain against the indexer, the ledger and the outbox. Differences are reported, never fixed.

The database is read first, in one snapshot (:func:`node.reconcile.sources.read_node`); then the chain at
block B, the newest block with ``confirmations`` confirmations (:func:`node.confirmations.confirmed_head`, the
writer's meaning too, so a row the writer confirmed is mined at or below B). "The bank" is the node's bank;
its wallets are those opened for it (``WalletOpened``), its merchants those it acquires (``MerchantRegistered``),
its issuance events the ``Minted``/``Burned`` carrying
its bank id. A ref is the bytes32 an issuance carries on chain; off chain it is text (at most 32 bytes of
UTF-8, the SDK's encoding) or 0x-hex.

Identities checked (each failure is one :class:`~node.reconcile.report.Difference`; ``expected`` is the chain's
value, ``actual`` the node's record):

(a) the chain against itself, at B
    ``supply_vs_net_issued``: totalSupply == sum over all banks of netIssued.

(b) the indexer's projection against the chain, at the indexer's checkpoint block C (historical reads, so a
    lagging indexer is compared with the chain as it was at C; a checkpoint in the middle of a block cannot
    be compared and is reported as ``indexer_mid_block``; no checkpoint at all as ``indexer_not_run``)
    ``indexer_wallet_balance``  per bank wallet: projected spendable == balanceOf(wallet)
    ``indexer_wallet_held``     per bank wallet: projected held == heldBalance(wallet)
    ``indexer_wallet_history``  per bank wallet: sum of its history rows' deltas == balanceOf + heldBalance
    ``indexer_merchant_pending`` per merchant of the bank: projected pending == pendingGross - pendingRefunds
    ``indexer_net_issued``      projected minted - burned of the bank == netIssued(bank)

(c) the ledger against the chain, per ref, at B
    ``ledger_issuance``: for every ref, the balance booked on the bank's ``chain_issued`` accounts (kind
    CHAIN_ISSUED, credit-normal, the node's currency) == this bank's Minted minus Burned amounts with that ref.
    Summed over all refs this is the ledger's identity chain_issued == netIssued(bank). A ledger entry's ref
    is its ``correlation_id``, else (a reversal) the ref of the entry it reverses, else its ``reference``;
    so the flows book every mint (credit chain_issued) and burn (debit chain_issued) under the ref they
    give the chain, and a failed effect's booking is reversed. Refs whose outbox row is still in flight
    (received or submitted) are skipped: their booking may precede the chain effect (booked with the
    outbox row) or follow it (booked once confirmed). The wallet-funding suspense account has no chain
    counterpart (it holds money between a bank account and the chain while flows run) and is not compared.

(d) the outbox against the chain, at B. An outbox row's chain effect is found by ``payload["ref"]`` among the
    bank's events that carry a ref (Minted, Burned, WalletClosed, MerchantSettled, OrderRefunded of its
    merchants), or, for a row without a ref, by its transaction's receipt (status 1).
    ``outbox_effect_missing``: a confirmed row whose effect is not on chain.
    ``outbox_amount_mismatch``: a confirmed row whose ``payload["amount"]`` differs from its Minted/Burned
    amount on chain.
    ``chain_effect_without_outbox``: a Minted/Burned of the bank whose ref is in no outbox row (money issued
    or destroyed with the bank's key outside the node).
    ``outbox_stuck``: a row received or submitted longer than ``stuck_after`` ago.

Full and incremental runs (:class:`~node.reconcile.runs.ReconciliationMode`). A full run compares everything
above. An incremental run compares what can have changed since the last run that found no difference
(:func:`~node.reconcile.runs.last_clean`; with none, it is a full run): (a) as always; in (b) the bank's wallets
the indexer moved after that run's indexer block or that a ``Transfer`` or hold event moved on chain since, the
wallets opened since, every merchant and the bank's net issuance; in (c) the refs with a ledger entry made or
posted since, an outbox row changed since, or a Minted/Burned since (each such ref with its whole history);
in (d) the rows changed since or still in flight. What a full run would find in an untouched subject (a
projection or a booking edited by hand) only a full run finds: run one for audits, the incremental one often.
Every run is recorded (``reconciliation_runs``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from node.chain_ids import id_bytes, id_text
from node.confirmations import confirmed_head
from node.db import session_factory, transaction
from node.db.base import utcnow
from node.outbox import OutboxState
from node.reconcile.report import Difference, DifferenceKind, ReconciliationReport
from node.reconcile.runs import CHANGE_MARGIN, ReconciliationMode, ReconciliationRun, Since, last_clean, prune_runs
from node.reconcile.sources import (
    ChainFacts,
    IndexerView,
    NodeRecords,
    read_balances,
    read_chain,
    read_node,
    touched_wallets,
)
from wallet_sdk.chain.network import Network

if TYPE_CHECKING:
    from node.settings import NodeSettings

__all__ = [
    "DEFAULT_STUCK_AFTER",
    "Difference",
    "DifferenceKind",
    "ReconciliationMode",
    "ReconciliationReport",
    "compare",
    "reconcile",
    "reconcile_node",
]

DEFAULT_STUCK_AFTER: Final = timedelta(minutes=15)
IN_FLIGHT: Final = frozenset({OutboxState.RECEIVED, OutboxState.SUBMITTED})
ISSUANCE_EVENTS: Final = frozenset({"Minted", "Burned"})

log = logging.getLogger("walletnet.reconcile")


def reconcile(network: Network, engine: Engine, bank: bytes | str, *, currency: str = "DCASH",
              confirmations: int = 1, include_indexer: bool = True, stuck_after: timedelta = DEFAULT_STUCK_AFTER,
              now: datetime | None = None, mode: ReconciliationMode = ReconciliationMode.FULL,
              change_margin: timedelta = CHANGE_MARGIN) -> ReconciliationReport:
    """Reconcile ``bank`` (its id, or its code such as "BANKA") on ``network`` with the node database of
    ``engine``, in full or incrementally; see the module docstring for what is compared. The run is recorded.
    ``change_margin``: see :data:`~node.reconcile.runs.CHANGE_MARGIN`."""
    bank_id = bank if isinstance(bank, bytes) else id_bytes(bank)
    if bank_id is None or len(bank_id) != 32:
        raise ValueError(f"not a bank id: {bank!r}")
    incremental = mode is ReconciliationMode.INCREMENTAL and include_indexer
    since = _start_of(engine, id_text(bank_id), change_margin) if incremental else None
    snapshot_at = utcnow()
    records = read_node(engine, bank_id, currency, since)
    block = max(confirmed_head(network.block_number, confirmations), 0)
    changed = None if since is None else _changed_outbox(records, since)
    hashes = {e.tx_hash for e in records.outbox
              if e.state is OutboxState.CONFIRMED and e.ref is None and e.tx_hash is not None
              and (changed is None or e.key in changed)}
    refs = None if since is None else _touched_refs(records, changed or set())  # the chain adds what it issued
    chain = read_chain(network, bank_id, block, hashes, since=since, refs=refs)
    differences = list(compare(chain, records, now=now or utcnow(), stuck_after=stuck_after, refs=refs,
                               rows=changed))
    indexer_block, compared = None, None
    if include_indexer:
        indexer_differences, indexer_block, compared = _compare_indexer(network, bank_id, chain, records.indexer,
                                                                        since)
        differences += indexer_differences
    checked = {"wallets": len(chain.wallets) if compared is None else compared, "merchants": len(chain.merchants),
               "refs": len(_compared_refs(chain, records, refs)),
               "outbox rows": len(records.outbox) if changed is None else len(changed)}
    differences.sort(key=lambda d: d.sort_key)
    report = ReconciliationReport(bank=id_text(bank_id), currency=currency, chain_block=block,
                                  indexer_block=indexer_block, differences=tuple(differences), checked=checked)
    _record(engine, report, ReconciliationMode.FULL if since is None else ReconciliationMode.INCREMENTAL, snapshot_at)
    return report


def _start_of(engine: Engine, bank: str, margin: timedelta) -> Since | None:
    with transaction(session_factory(engine, read_only=True)) as session:
        return last_clean(session, bank, margin)


def _record(engine: Engine, report: ReconciliationReport, mode: ReconciliationMode, snapshot_at: datetime) -> None:
    """Keep the run's result; the report matters more than its record, so a failure to write it is logged."""
    try:
        with transaction(session_factory(engine)) as session:
            run = ReconciliationRun(bank_id=report.bank, mode=mode, chain_block=report.chain_block,
                                    indexer_block=report.indexer_block, snapshot_at=snapshot_at,
                                    differences=len(report.differences),
                                    by_kind=dict(Counter(d.kind.value for d in report.differences)),
                                    finished_at=utcnow())
            session.add(run)
            session.flush()
            prune_runs(session, run)
    except SQLAlchemyError as exc:
        log.warning("reconciliation result not recorded (%s): is the database migrated and writable?",
                    type(exc).__name__)


def _changed_outbox(records: NodeRecords, since: Since) -> set[str]:
    """The keys of the rows an incremental run compares: changed after ``since``, or still in flight."""
    return {e.key for e in records.outbox if e.updated_at > since.changed_after or e.state in IN_FLIGHT}


def _touched_refs(records: NodeRecords, rows: set[str]) -> set[bytes | str]:
    """The refs an incremental run compares (before the chain adds those issued since): booked since, or carried
    by a row changed since."""
    return set(records.ledger_changed) | {e.ref for e in records.outbox if e.key in rows and e.ref is not None}


def _compared_refs(chain: ChainFacts, records: NodeRecords, refs: set[bytes | str] | None) -> set[bytes | str]:
    every = set(chain.issuance_by_ref) | set(records.ledger_by_ref)
    return every if refs is None else every & (refs | set(chain.issuance_by_ref))


@dataclass(frozen=True)
class _Ref:
    """A ref as reports show it."""

    value: bytes | str

    def __str__(self) -> str:
        return id_text(self.value) if isinstance(self.value, bytes) else self.value


def compare(chain: ChainFacts, records: NodeRecords, *, now: datetime,
            stuck_after: timedelta = DEFAULT_STUCK_AFTER, refs: set[bytes | str] | None = None,
            rows: set[str] | None = None) -> Iterator[Difference]:
    """The differences of (a), (c) and (d) (see the module docstring); pure: no I/O. ``refs`` and ``rows`` (an
    incremental run): compare only these refs (and those the chain facts hold) and these outbox rows."""
    if chain.total_supply != chain.net_issued_all:
        yield Difference(DifferenceKind.SUPPLY_VS_NET_ISSUED, "network", chain.net_issued_all, chain.total_supply,
                         f"totalSupply at block {chain.block} vs the sum of every bank's netIssued")
    in_flight = {e.ref for e in records.outbox if e.state in IN_FLIGHT and e.ref is not None}
    yield from _compare_ledger(chain, records, in_flight, _compared_refs(chain, records, refs))
    yield from _compare_outbox(chain, records, now, stuck_after, rows)


def _compare_ledger(chain: ChainFacts, records: NodeRecords, in_flight: set[bytes],
                    refs: set[bytes | str]) -> Iterator[Difference]:
    for ref in sorted(refs, key=lambda r: str(_Ref(r))):
        if ref in in_flight:
            continue
        on_chain = chain.issuance_by_ref.get(ref, 0) if isinstance(ref, bytes) else 0
        booked = records.ledger_by_ref.get(ref, 0)
        if on_chain != booked:
            yield Difference(DifferenceKind.LEDGER_ISSUANCE, str(_Ref(ref)), on_chain, booked,
                             "minted - burned on chain vs booked on chain_issued accounts")


def _compare_outbox(chain: ChainFacts, records: NodeRecords, now: datetime, stuck_after: timedelta,
                    rows: set[str] | None) -> Iterator[Difference]:
    for effect in records.outbox:
        if rows is not None and effect.key not in rows:
            continue
        if effect.state in IN_FLIGHT:
            age = now - effect.updated_at
            if age > stuck_after:
                yield Difference(DifferenceKind.OUTBOX_STUCK, effect.key, int(stuck_after.total_seconds()),
                                 int(age.total_seconds()), f"{effect.state.value} (seconds allowed vs taken)")
            continue
        if effect.state is not OutboxState.CONFIRMED:
            continue
        if effect.ref is None:
            receipt = chain.receipts.get(effect.tx_hash or "")
            if receipt is None or receipt[0] != 1:
                found = "no transaction" if receipt is None else f"reverted in block {receipt[1]}"
                yield Difference(DifferenceKind.OUTBOX_EFFECT_MISSING, effect.key, None, effect.amount,
                                 f"confirmed {effect.kind} tx {effect.tx_hash}: {found}")
            continue
        events = chain.ref_events.get(effect.ref, [])
        if not events:
            yield Difference(DifferenceKind.OUTBOX_EFFECT_MISSING, effect.key, None, effect.amount,
                             f"confirmed {effect.kind} with ref {_Ref(effect.ref)}: nothing on chain "
                             f"up to block {chain.block}")
            continue
        issued = [int(e["amount"]) for e in events if e.name in ISSUANCE_EVENTS]
        if issued and effect.amount is not None and sum(issued) != effect.amount:
            yield Difference(DifferenceKind.OUTBOX_AMOUNT_MISMATCH, effect.key, sum(issued), effect.amount,
                             f"{effect.kind} with ref {_Ref(effect.ref)}")
    known = {e.ref for e in records.outbox if e.ref is not None}
    for ref, amount in sorted(chain.issuance_by_ref.items()):
        if ref not in known:
            names = sorted({e.name for e in chain.ref_events[ref] if e.name in ISSUANCE_EVENTS})
            yield Difference(DifferenceKind.CHAIN_EFFECT_WITHOUT_OUTBOX, str(_Ref(ref)), amount, None,
                             f"{' and '.join(names)} with no outbox row carrying this ref")


def _compare_indexer(network: Network, bank: bytes, chain: ChainFacts, view: IndexerView | None,
                     since: Since | None) -> tuple[list[Difference], int | None, int | None]:
    """The differences of (b), the indexer's block they were compared at, and how many wallets were compared
    (None: none could be)."""
    if view is None:
        return [Difference(DifferenceKind.INDEXER_NOT_RUN, "indexer", "a checkpoint", None,
                           "run `walletnet index run` first")], None, None
    checkpoint = view.checkpoint
    if checkpoint.log_index is not None:
        return [Difference(DifferenceKind.INDEXER_MID_BLOCK, "indexer", "a whole block", str(checkpoint),
                           "the indexer stopped inside a block; reconcile once it finishes it")], None, None
    at = checkpoint.block_number
    if view.moved is None:
        wallets = {w for w, opened in chain.wallets.items() if opened <= at} | set(view.wallets)
    else:  # incremental: what moved since, as the indexer and as the chain say
        wallets = {w for w, opened in chain.wallets.items() if opened <= at} | view.moved
        if since is not None and at > since.indexer_block:
            wallets |= touched_wallets(network, since.indexer_block + 1, at, frozenset(view.wallets))
    merchants = {m for m, registered in chain.merchants.items() if registered <= at} | set(view.merchants)
    state = read_balances(network, bank, at, wallets, merchants)
    found: list[Difference] = []
    for wallet, (spendable, held) in state.wallets.items():
        projected = view.wallets.get(wallet, (0, 0))
        if projected[0] != spendable:
            found.append(Difference(DifferenceKind.INDEXER_WALLET_BALANCE, wallet, spendable, projected[0]))
        if projected[1] != held:
            found.append(Difference(DifferenceKind.INDEXER_WALLET_HELD, wallet, held, projected[1]))
        history = view.history.get(wallet, 0)
        if view.moved is not None and wallet not in view.moved:
            continue  # its history was not read (the indexer did not move it: its balance differs if it should)
        if history != spendable + held:
            found.append(Difference(DifferenceKind.INDEXER_WALLET_HISTORY, wallet, spendable + held, history,
                                    "balanceOf + heldBalance vs the sum of the wallet's history"))
    for merchant, pending in state.merchants.items():
        projected_pending = view.merchants.get(merchant, 0)
        if projected_pending != pending:
            found.append(Difference(DifferenceKind.INDEXER_MERCHANT_PENDING, merchant, pending, projected_pending))
    if view.net_issued != state.net_issued:
        found.append(Difference(DifferenceKind.INDEXER_NET_ISSUED, id_text(bank), state.net_issued, view.net_issued))
    return found, at, len(wallets)


def reconcile_node(settings: NodeSettings, *, include_indexer: bool = True,
                   stuck_after: timedelta = DEFAULT_STUCK_AFTER,
                   mode: ReconciliationMode = ReconciliationMode.FULL) -> ReconciliationReport:
    """:func:`reconcile` for the node described by ``settings`` (chain, deployment, database, bank, currency,
    confirmations); like every run, its result is recorded (node/reconcile/runs.py)."""
    from node.db import create_engine

    network = Network.connect(settings.rpc_url, settings.deployment_path)
    engine = create_engine(settings.database_url)
    try:
        return reconcile(network, engine, settings.bank_id, currency=settings.currency,
                         confirmations=settings.confirmations, include_indexer=include_indexer,
                         stuck_after=stuck_after, mode=mode)
    finally:
        engine.dispose()
