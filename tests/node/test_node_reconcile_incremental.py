"""Incremental reconciliation: after a clean run, it compares only what changed since (the wallets the chain or
the indexer moved, the refs booked or issued, the outbox rows changed) and still finds a fault there; a fault in
an untouched subject is left to the full run, which finds it anywhere. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import test_node_reconcile as reconciled
from sqlalchemy import func, select, update
from test_node_indexer_helpers import transfer
from test_node_reconcile import Day, added

from node.db import transaction
from node.indexer.models import ChainWallet
from node.ledger import SqlLedger
from node.reconcile.runs import ReconciliationMode, ReconciliationRun
from node.reconcile.service import Difference, DifferenceKind, ReconciliationReport, reconcile

day = reconciled.day  # the fixture: a bank's day of business, booked, done on chain and indexed
K = DifferenceKind
FULL, INCREMENTAL = ReconciliationMode.FULL, ReconciliationMode.INCREMENTAL


def run(d: Day, mode: ReconciliationMode) -> ReconciliationReport:
    """A run; a row counts as changed since the last clean run if it changed after that run's snapshot (a
    running bank looks five minutes further back: node.reconcile.runs.CHANGE_MARGIN)."""
    return reconcile(d.node.network, d.node.engine, "BANKA", confirmations=0, mode=mode,
                     change_margin=timedelta(0))


def test_an_incremental_run_compares_only_the_wallets_moved_since_and_finds_a_fault_there(day: Day) -> None:
    node, network = day.node, day.node.network
    everything = run(day, FULL)
    assert everything.ok and everything.checked["wallets"] == 5
    node.effect("RELAY-2", "transfer", {"from": day.alice.address, "to": day.bob.address, "amount": 700},
                lambda: transfer(network, node.bank, day.alice, day.bob.address, 700))
    node.index()
    with transaction(node.sessions) as session:  # the projection of a wallet nothing moved, edited by hand
        untouched = session.scalars(select(ChainWallet.address).where(
            ChainWallet.bank_id == "BANKA", ChainWallet.address.not_in([day.alice.address, day.bob.address]))).first()
        assert untouched is not None
        session.execute(update(ChainWallet).where(ChainWallet.address == untouched).values(spendable_minor=1))
        session.execute(update(ChainWallet).where(ChainWallet.address == day.bob.address)
                        .values(spendable_minor=ChainWallet.spendable_minor + 1))
    bob = network.balance(day.bob)

    since = run(day, INCREMENTAL)
    assert since.checked["wallets"] == 2  # alice and bob: the payment moved them
    assert since.checked["outbox rows"] == 1  # RELAY-2, confirmed since
    assert since.differences == (Difference(K.INDEXER_WALLET_BALANCE, day.bob.address, bob, bob + 1),)

    audit = run(day, FULL)  # the full run finds the hand-edited projection too, wherever it is
    assert {(d.kind, d.subject) for d in audit.differences} == {
        (K.INDEXER_WALLET_BALANCE, day.bob.address), (K.INDEXER_WALLET_BALANCE, untouched)}


def test_an_incremental_run_finds_a_new_booking_and_keeps_reporting_until_a_run_is_clean(day: Day) -> None:
    node = day.node
    assert run(day, INCREMENTAL).checked["wallets"] == 5  # no clean run yet: full
    with transaction(node.sessions) as session:  # booked, never sent
        SqlLedger(session).credit("chain:issued", 700, contra="suspense:wallet-funding", reference="GHOST-1")
    ghost = run(day, INCREMENTAL)
    assert ghost.differences == (Difference(K.LEDGER_ISSUANCE, "GHOST-1", 0, 700),)
    assert ghost.checked["refs"] == 1 and ghost.checked["wallets"] == 0
    # the next incremental run starts from the last clean one, so the difference is still reported
    again = run(day, INCREMENTAL)
    assert again.differences == ghost.differences
    with transaction(node.sessions) as session:
        SqlLedger(session).reverse("GHOST-1", reversal_reference="GHOST-1-REVERSED")
    assert run(day, INCREMENTAL).ok
    with node.sessions() as session:
        modes = session.execute(select(ReconciliationRun.mode, func.count()).group_by(ReconciliationRun.mode)).all()
    assert dict(modes) == {FULL: 1, INCREMENTAL: 3}  # the first incremental ran in full, and says so


def test_an_incremental_run_finds_a_mint_of_the_bank_outside_the_node(day: Day) -> None:
    node = day.node
    assert run(day, FULL).ok
    node.bank.mint(day.bob, 1_234, "ROGUE-1")
    node.index()
    rogue = run(day, INCREMENTAL)
    assert rogue.differences == (
        Difference(K.CHAIN_EFFECT_WITHOUT_OUTBOX, "ROGUE-1", 1_234, None),
        Difference(K.LEDGER_ISSUANCE, "ROGUE-1", 1_234, 0))
    assert rogue.checked["wallets"] == 1  # bob, whom the mint moved
    assert added(run(day, FULL), rogue) == []
