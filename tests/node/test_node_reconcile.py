"""Reconciliation: a bank's day (top-up and cash-in minted, transfers, an ATM cash-out, a redemption, merchant
payments, a refund and two settlements, one paid out to a bank account) booked in the ledger and the outbox and
done on chain reconciles to zero differences; each fault put in on purpose is then reported once, with the
chain's number as expected and the node's as actual. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker
from test_node_indexer_helpers import (
    open_wallet,
    pay,
    place_hold,
    redeem,
    register_payout_merchant,
    transfer,
)
from typer.testing import CliRunner

from node.db import transaction
from node.db.base import utcnow
from node.indexer.models import BankIssuance, ChainMerchant, ChainWallet, IndexerCheckpoint, WalletHistory
from node.indexer.service import Indexer, IndexerConfig
from node.ledger import Leg, SqlLedger
from node.outbox import OutboxRow, OutboxState, enqueue, transition
from node.reconcile.service import Difference, DifferenceKind, ReconciliationReport, compare, reconcile
from node.reconcile.sources import ChainFacts, NodeRecords
from tools.cli import app
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator, TxResult
from wallet_sdk.chain.types import WalletKind
from wallet_sdk.keys import WalletKey

K = DifferenceKind


@dataclass
class Node:
    """Bank A's node as the flows and the chain writer would leave it: every on-chain effect is an outbox row
    (with its ledger booking under the same ref), sent, and marked confirmed with its transaction."""

    network: Network
    bank: BankOperator
    sessions: sessionmaker[Session]
    engine: Engine

    def effect(self, key: str, kind: str, payload: dict[str, Any], send: Callable[[], TxResult] | None,
               legs: list[Leg] | None = None, *, book_after: Callable[[TxResult], list[Leg]] | None = None,
               ) -> TxResult | None:
        """Book ``legs`` (under the payload's ref) and enqueue the row in one transaction, ``send`` it, mark it
        confirmed; ``book_after`` books what only the mined transaction tells (a payout's net)."""
        ref = payload.get("ref", key)
        with transaction(self.sessions) as session:
            if legs:
                SqlLedger(session).transfer(legs, reference=ref)
            row_id = enqueue(session, key, kind, payload).id
        if send is None:
            return None
        result = send()
        nonce = int(self.network.w3.eth.get_transaction(result.tx_hash)["nonce"])  # type: ignore[arg-type]
        with transaction(self.sessions) as session:
            row = session.get(OutboxRow, row_id)
            assert row is not None
            transition(session, row, OutboxState.SUBMITTED, tx_hash=result.tx_hash, nonce=nonce)
            transition(session, row, OutboxState.CONFIRMED)
            if book_after is not None:
                SqlLedger(session).transfer(book_after(result), reference=ref)
        return result

    def mint(self, wallet: WalletKey, amount: int, ref: str, funded_from: str) -> None:
        """A top-up (from a deposit account) or a cash-in (from an ATM): book and mint."""
        self.effect(ref, "mint", {"wallet": wallet.address, "amount": amount, "ref": ref},
                    lambda: self.bank.mint(wallet, amount, ref),
                    [Leg.debit(funded_from, amount), Leg.credit("chain:issued", amount)])

    def index(self) -> None:
        Indexer(self.network, self.sessions, IndexerConfig(confirmations=0)).run_once()

    def reconcile(self, **options: Any) -> ReconciliationReport:
        return reconcile(self.network, self.engine, "BANKA", confirmations=0, **options)


@dataclass
class Day:
    node: Node
    alice: WalletKey
    bob: WalletKey
    carol: WalletKey  # bank B's customer
    open_hold: bytes


@pytest.fixture
def day(system: Any, sessions: sessionmaker[Session], engine: Engine, ledger: SqlLedger) -> Day:
    network = Network.from_web3(system.w3, system.deployment)
    bank = network.bank_operator(system.banks["A"].operators[0])
    bank_b = network.bank_operator(system.banks["B"].operators[0])
    node = Node(network, bank, sessions, engine)
    with transaction(sessions) as session:
        book = SqlLedger(session)
        book.credit("deposit:alice", 100_000, contra="vault", reference="OPEN-ALICE")
        book.credit("deposit:bob", 20_000, contra="vault", reference="OPEN-BOB")
        book.transfer([Leg.debit("atm:0001", 30_000), Leg.credit("vault", 30_000)], reference="ATM-LOAD")

    alice, bob = open_wallet(bank), open_wallet(bank)
    carol = open_wallet(bank_b)
    shop = open_wallet(bank, kind=WalletKind.MERCHANT)
    register_payout_merchant(bank, "CAFE")  # also sets bank A's fee wallet
    bank.register_merchant("SHOP-1", shop, fee_bps=150, mcc=5411)
    bank_b.mint(carol, 20_000, "B-CASH-IN")  # bank B's business: not bank A's to reconcile

    node.mint(alice, 60_000, "TOPUP-1", funded_from="deposit:alice")
    node.mint(bob, 8_000, "CASHIN-1", funded_from="atm:0001")
    node.effect("RELAY-1", "transfer", {"from": alice.address, "to": bob.address, "amount": 5_000},
                lambda: transfer(network, bank, alice, bob.address, 5_000))
    cash_out, _ = place_hold(network, bank, alice, 3_000)
    node.effect("ATM-OUT-1", "capture_hold", {"hold_id": "0x" + cash_out.hex(), "amount": 3_000, "ref": "ATM-OUT-1"},
                lambda: bank.capture_hold(cash_out, "ATM-OUT-1"),
                [Leg.debit("chain:issued", 3_000), Leg.credit("atm:0001", 3_000)])
    open_hold, _ = place_hold(network, bank, bob, 500)
    node.effect("REDEEM-1", "redeem", {"wallet": bob.address, "amount": 2_000, "ref": "REDEEM-1"},
                lambda: redeem(network, bank, bob, 2_000, "REDEEM-1"),
                [Leg.debit("chain:issued", 2_000), Leg.credit("deposit:bob", 2_000)])
    node.effect("PAY-O-1", "pay", {"merchant": "SHOP-1", "order": "O-1", "amount": 10_000},
                lambda: pay(network, bank, alice, "SHOP-1", "O-1", 10_000))
    node.effect("REFUND-1", "refund", {"merchant": "SHOP-1", "order": "O-1", "amount": 1_000, "ref": "REFUND-1"},
                lambda: bank.refund("SHOP-1", "O-1", 1_000, "REFUND-1"))
    node.effect("SETTLE-1", "settle", {"merchant": "SHOP-1", "ref": "SETTLE-1"},
                lambda: bank.settle("SHOP-1", "SETTLE-1"))
    pay(network, bank_b, carol, "CAFE", "C-1", 4_000)  # relayed by the payer's bank
    pay(network, bank_b, carol, "SHOP-1", "O-2", 700)  # left pending

    def payout(result: TxResult) -> list[Leg]:
        net = int(result.event("MerchantSettled")["net"])
        return [Leg.debit("chain:issued", net), Leg.credit("merchant:m1", net)]

    node.effect("SETTLE-2", "settle", {"merchant": "CAFE", "ref": "SETTLE-2"},
                lambda: bank.settle("CAFE", "SETTLE-2"), book_after=payout)
    node.index()
    return Day(node, alice, bob, carol, open_hold)


def added(before: ReconciliationReport, after: ReconciliationReport) -> list[Difference]:
    return sorted(set(after.differences) - set(before.differences), key=lambda d: d.sort_key)


def test_a_day_of_business_reconciles_to_zero(day: Day) -> None:
    network = day.node.network
    report = day.node.reconcile()
    assert report.differences == ()
    assert report.ok and report.bank == "BANKA" and report.indexer_block == report.chain_block
    assert dict(report.checked) == {"wallets": 5, "merchants": 2, "refs": 5, "outbox rows": 9}
    # the day really moved money: netIssued is what the ledger's chain_issued account says
    payout_net = 4_000 - 4_000 * 200 // 10_000
    assert network.net_issued("BANKA") == 60_000 + 8_000 - 3_000 - 2_000 - payout_net
    with day.node.sessions() as session:
        assert SqlLedger(session).balance("chain:issued").amount_minor == network.net_issued("BANKA")
    assert network.held_balance(day.bob) == 500
    assert network.merchant("BANKA", "SHOP-1").pending_gross == 700


def test_ledger_faults(day: Day) -> None:
    node, network = day.node, day.node.network
    clean = node.reconcile()

    with transaction(node.sessions) as session:  # booked, never sent
        SqlLedger(session).credit("chain:issued", 700, contra="suspense:wallet-funding", reference="GHOST-1")
    ghost = node.reconcile()
    assert added(clean, ghost) == [Difference(K.LEDGER_ISSUANCE, "GHOST-1", 0, 700)]

    # sent through the outbox, but its booking got lost
    node.effect("LOST-1", "mint", {"wallet": day.alice.address, "amount": 900, "ref": "LOST-1"},
                lambda: node.bank.mint(day.alice, 900, "LOST-1"))
    lost = node.reconcile()
    assert added(ghost, lost) == [Difference(K.LEDGER_ISSUANCE, "LOST-1", 900, 0)]
    assert [d.kind for d in lost.differences] == [K.LEDGER_ISSUANCE] * 2  # the indexer lags: compared as it was

    # a reversal cancels its entry, under the same ref
    with transaction(node.sessions) as session:
        SqlLedger(session).reverse("GHOST-1", reversal_reference="GHOST-1-REVERSED")
    assert node.reconcile().differences == (Difference(K.LEDGER_ISSUANCE, "LOST-1", 900, 0),)
    with node.sessions() as session:
        assert SqlLedger(session).balance("chain:issued").amount_minor == network.net_issued("BANKA") - 900


def test_outbox_faults(day: Day) -> None:
    node = day.node
    clean = node.reconcile()

    node.bank.mint(day.bob, 1_234, "ROGUE-1")  # the bank's key used outside the node: no outbox row, no booking
    rogue = node.reconcile()
    assert added(clean, rogue) == [Difference(K.CHAIN_EFFECT_WITHOUT_OUTBOX, "ROGUE-1", 1_234, None),
                                   Difference(K.LEDGER_ISSUANCE, "ROGUE-1", 1_234, 0)]

    node.effect("PHANTOM-1", "mint", {"wallet": day.bob.address, "amount": 800, "ref": "PHANTOM-1"}, None)
    with transaction(node.sessions) as session:  # a writer that marks a row confirmed with nothing on chain
        row = session.query(OutboxRow).filter_by(idempotency_key="PHANTOM-1").one()
        transition(session, row, OutboxState.SUBMITTED, tx_hash="0x" + "ab" * 32, nonce=10_000)
        transition(session, row, OutboxState.CONFIRMED)
    phantom = node.reconcile()
    assert added(rogue, phantom) == [Difference(K.OUTBOX_EFFECT_MISSING, "PHANTOM-1", None, 800)]

    node.effect("RELAY-X", "transfer", {"amount": 1}, None)  # no ref: found by its receipt, and there is none
    with transaction(node.sessions) as session:
        row = session.query(OutboxRow).filter_by(idempotency_key="RELAY-X").one()
        transition(session, row, OutboxState.SUBMITTED, tx_hash="0x" + "cd" * 32, nonce=10_001)
        transition(session, row, OutboxState.CONFIRMED)
    relay = node.reconcile()
    assert added(phantom, relay) == [Difference(K.OUTBOX_EFFECT_MISSING, "RELAY-X", None, 1)]

    # the row says 1,000, the chain minted 1,100 (and the ledger booked 1,100)
    node.effect("MINT-X", "mint", {"wallet": day.bob.address, "amount": 1_000, "ref": "MINT-X"},
                lambda: node.bank.mint(day.bob, 1_100, "MINT-X"),
                [Leg.debit("deposit:bob", 1_100), Leg.credit("chain:issued", 1_100)])
    mismatch = node.reconcile()
    assert added(relay, mismatch) == [Difference(K.OUTBOX_AMOUNT_MISMATCH, "MINT-X", 1_100, 1_000)]

    # booked and queued, never sent: in flight is fine, stuck is reported
    node.effect("STUCK-1", "mint", {"wallet": day.bob.address, "amount": 50, "ref": "STUCK-1"}, None,
                [Leg.debit("deposit:bob", 50), Leg.credit("chain:issued", 50)])
    assert node.reconcile().differences == mismatch.differences
    later = utcnow() + timedelta(hours=1)
    stuck = node.reconcile(now=later)
    [difference] = added(mismatch, stuck)
    assert (difference.kind, difference.subject, difference.expected) == (K.OUTBOX_STUCK, "STUCK-1", 900)
    assert 3_600 <= int(difference.actual or 0) <= 3_700 and difference.detail.startswith("received")


def test_indexer_faults(day: Day) -> None:
    node, network = day.node, day.node.network
    alice, bob = day.alice.address, day.bob.address
    clean = node.reconcile()

    def tamper(*statements: Any) -> ReconciliationReport:
        with transaction(node.sessions) as session:
            for statement in statements:
                session.execute(statement)
        return node.reconcile()

    spendable = network.balance(alice)
    balance = tamper(update(ChainWallet).where(ChainWallet.address == alice)
                     .values(spendable_minor=ChainWallet.spendable_minor + 1))
    assert added(clean, balance) == [Difference(K.INDEXER_WALLET_BALANCE, alice, spendable, spendable + 1)]

    held = tamper(update(ChainWallet).where(ChainWallet.address == bob).values(held_minor=0))
    assert added(balance, held) == [Difference(K.INDEXER_WALLET_HELD, bob, 500, 0)]

    owned = network.balance(bob) + 500
    history = tamper(update(WalletHistory).where(WalletHistory.wallet == bob, WalletHistory.ref == "CASHIN-1")
                     .values(spendable_delta_minor=7_000))
    assert added(held, history) == [Difference(K.INDEXER_WALLET_HISTORY, bob, owned, owned - 1_000)]

    pending = tamper(update(ChainMerchant).where(ChainMerchant.merchant_id == "SHOP-1")
                     .values(pending_gross_minor=0))
    assert added(history, pending) == [Difference(K.INDEXER_MERCHANT_PENDING, "SHOP-1", 700, 0)]

    net = network.net_issued("BANKA")
    issuance = tamper(update(BankIssuance).where(BankIssuance.bank_id == "BANKA")
                      .values(minted_minor=BankIssuance.minted_minor + 5))
    assert added(pending, issuance) == [Difference(K.INDEXER_NET_ISSUED, "BANKA", net, net + 5)]
    assert len(issuance.differences) == 5  # each fault once, nothing else


def test_an_indexer_that_lags_is_compared_as_the_chain_was_and_one_never_run_is_reported(day: Day) -> None:
    node = day.node
    node.mint(day.alice, 2_500, "TOPUP-2", funded_from="deposit:alice")  # after the indexer's last round
    report = node.reconcile()
    assert report.ok and report.indexer_block is not None and report.indexer_block < report.chain_block
    node.index()
    assert node.reconcile().indexer_block == node.reconcile().chain_block

    with transaction(node.sessions) as session:  # a database the indexer never ran on
        session.execute(update(ChainWallet).values(spendable_minor=0))
        session.execute(update(BankIssuance).values(minted_minor=0))
        session.query(IndexerCheckpoint).delete()
    assert node.reconcile().differences == (
        Difference(K.INDEXER_NOT_RUN, "indexer", "a checkpoint", None),)
    assert node.reconcile(include_indexer=False).ok


def test_the_cli_prints_a_table_or_json_and_exits_1_on_differences(day: Day, devnet: Any, system: Any,
                                                                   db_url: str, tmp_path: Path) -> None:
    deployment = tmp_path / "deployment.json"
    system.deployment.save(deployment)
    env = {"WALLETNET_RPC_URL": devnet.rpc_url, "WALLETNET_DEPLOYMENT_FILE": str(deployment),
           "WALLETNET_DB_URL": db_url, "WALLETNET_BANK_ID": "BANKA", "WALLETNET_CONFIRMATIONS": "0",
           "WALLETNET_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    runner = CliRunner()
    indexed = runner.invoke(app, ["index", "run", "--once"], env=env)
    assert indexed.exit_code == 0, indexed.output
    assert f"indexed up to block {day.node.network.block_number}" in indexed.output
    clean = runner.invoke(app, ["reconcile"], env=env)
    assert clean.exit_code == 0, clean.output
    assert "0 differences" in clean.output

    with transaction(day.node.sessions) as session:
        SqlLedger(session).credit("chain:issued", 700, contra="suspense:wallet-funding", reference="GHOST-1")
    table = runner.invoke(app, ["reconcile"], env=env)
    assert table.exit_code == 1
    assert "ledger_issuance" in table.output and "GHOST-1" in table.output and "1 difference" in table.output
    as_json = runner.invoke(app, ["reconcile", "--json"], env=env)
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert (report["bank"], report["ok"], report["indexer_block"]) == ("BANKA", False, report["chain_block"])
    assert report["differences"] == [{"kind": "ledger_issuance", "subject": "GHOST-1", "expected": 0,
                                      "actual": 700, "detail": "minted - burned on chain vs booked on "
                                                               "chain_issued accounts"}]
    refused = runner.invoke(app, ["reconcile"], env={**env, "WALLETNET_BANK_ID": "nope"})
    assert refused.exit_code == 2


def test_total_supply_must_equal_the_sum_of_net_issued() -> None:
    now = utcnow()
    facts = ChainFacts(block=9, total_supply=1_000, net_issued_all=1_000, net_issued=400, issuance_by_ref={},
                       ref_events={}, wallets={}, merchants={})
    nothing = NodeRecords(indexer=None, ledger_by_ref={}, outbox=())
    assert list(compare(facts, nothing, now=now)) == []
    broken = replace(facts, total_supply=1_001)
    assert list(compare(broken, nothing, now=now)) == [Difference(K.SUPPLY_VS_NET_ISSUED, "network", 1_000, 1_001)]
