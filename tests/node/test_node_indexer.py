"""The indexer: events made with the SDK on the session's anvil, indexed into SQLite and PostgreSQL, give
exactly the expected rows; in scope "bank" only the bank's own; confirmations are waited for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from test_node_indexer_helpers import (
    dump,
    mine,
    mixed_activity,
    open_wallet,
    pay,
    place_hold,
    redeem,
    register_payout_merchant,
    rows,
    transfer,
)
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3RPCError

from node.indexer.models import (
    BankIssuance,
    ChainHold,
    ChainLimits,
    ChainMerchant,
    ChainWallet,
    DirectoryMerchant,
    DirectoryOrderPaid,
    DirectoryRequestSigner,
    HistoryKind,
    MerchantOrder,
    SettlementBatchRecord,
    WalletHistory,
)
from node.indexer.projection import Projection
from node.indexer.service import CheckpointMismatchError, IndexedUpTo, Indexer, IndexerConfig, IndexScope
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator
from wallet_sdk.chain.types import UNLIMITED, MerchantStatus
from wallet_sdk.keys import WalletKey

BANK_A = b"BANKA".ljust(32, b"\0")


@pytest.fixture
def network(system: Any) -> Network:
    return Network.from_web3(system.w3, system.deployment)


@pytest.fixture
def bank_a(network: Network, system: Any) -> BankOperator:
    return network.bank_operator(system.banks["A"].operators[0])


@pytest.fixture
def bank_b(network: Network, system: Any) -> BankOperator:
    return network.bank_operator(system.banks["B"].operators[0])


def indexer(network: Network, sessions: sessionmaker[Session], **config: Any) -> Indexer:
    return Indexer(network, sessions, IndexerConfig(**{"confirmations": 0, **config}))


def block_time(network: Network, number: int) -> datetime:
    return datetime.fromtimestamp(int(network.w3.eth.get_block(number)["timestamp"]), UTC)


H = HistoryKind


def test_a_wallets_history_balances_holds_orders_and_batches(network: Network, bank_a: BankOperator,
                                                            sessions: sessionmaker[Session],
                                                            session: Session) -> None:
    alice, bob = open_wallet(bank_a), open_wallet(bank_a)
    minted = bank_a.mint(alice, 30_000, "CASH-IN-1")
    sent = transfer(network, bank_a, alice, bob.address, 2_500)
    received = transfer(network, bank_a, bob, alice.address, 500)
    captured_id, placed = place_hold(network, bank_a, alice, 4_000)
    captured = bank_a.capture_hold(captured_id, "ATM-7")
    released_id, placed_again = place_hold(network, bank_a, alice, 1_000)
    released = bank_a.release_hold(released_id)
    redeemed = redeem(network, bank_a, alice, 1_200, "REDEEM-1")
    shop = register_payout_merchant(bank_a, "CAFE")
    paid = pay(network, bank_a, alice, "CAFE", "T-1", 6_000)
    refunded = bank_a.refund("CAFE", "T-1", 1_000, "RF-9")
    settled = bank_a.settle("CAFE", "PAYOUT-1")

    end = indexer(network, sessions).run_once()
    assert end is not None and end.log_index is None and end.block_number == network.block_number

    def at(result: Any, name: str) -> tuple[int, str, int]:
        event = result.event(name)
        return event.block_number, event.tx_hash, event.log_index

    settlement = network.addresses["MerchantSettlement"]
    history = rows(session, WalletHistory, "kind", "amount_minor", "spendable_delta_minor", "held_delta_minor",
                   "counterparty", "bank_id", "ref", "burn_reason", "hold_id", "block_number", "tx_hash", "log_index",
                   wallet=alice.address)
    hold_7, hold_r = "0x" + captured_id.hex(), "0x" + released_id.hex()
    assert history == [
        (H.MINT, 30_000, 30_000, 0, None, "BANKA", "CASH-IN-1", None, None, *at(minted, "Minted")),
        (H.TRANSFER_OUT, 2_500, -2_500, 0, bob.address, None, None, None, None, *at(sent, "Transfer")),
        (H.TRANSFER_IN, 500, 500, 0, bob.address, None, None, None, None, *at(received, "Transfer")),
        (H.HOLD_PLACED, 4_000, -4_000, 4_000, None, None, None, None, hold_7, *at(placed, "HoldPlaced")),
        (H.HOLD_CAPTURED, 4_000, 0, 0, None, None, "ATM-7", None, hold_7, *at(captured, "HoldCaptured")),
        (H.BURN, 4_000, 0, -4_000, None, "BANKA", "ATM-7", "hold_capture", None, *at(captured, "Burned")),
        (H.HOLD_PLACED, 1_000, -1_000, 1_000, None, None, None, None, hold_r, *at(placed_again, "HoldPlaced")),
        (H.HOLD_RELEASED, 1_000, 1_000, -1_000, None, None, None, None, hold_r, *at(released, "HoldReleased")),
        (H.BURN, 1_200, -1_200, 0, None, "BANKA", "REDEEM-1", "redemption", None, *at(redeemed, "Burned")),
        (H.TRANSFER_OUT, 6_000, -6_000, 0, settlement, None, None, None, None, *at(paid, "Transfer")),
        (H.TRANSFER_IN, 1_000, 1_000, 0, settlement, None, None, None, None, *at(refunded, "Transfer")),
    ]
    assert rows(session, WalletHistory, "block_time", tx_hash=minted.tx_hash) == [
        (block_time(network, minted.block_number),)]
    # the projection equals the chain for every wallet, and the history's sums equal the projection
    for wallet in session.scalars(select(ChainWallet)):
        assert (wallet.spendable_minor, wallet.held_minor) == (network.balance(wallet.address),
                                                               network.held_balance(wallet.address))
        deltas = rows(session, WalletHistory, "spendable_delta_minor", "held_delta_minor", wallet=wallet.address)
        assert (sum(d[0] for d in deltas), sum(d[1] for d in deltas)) == (wallet.spendable_minor, wallet.held_minor)
    assert rows(session, ChainWallet, "bank_id", "kind", "tier", "status", "spendable_minor", "held_minor",
                address=alice.address) == [("BANKA", "personal", 1, "active", 30_000 - 2_500 + 500 - 4_000 - 1_200
                                            - 6_000 + 1_000, 0)]
    assert rows(session, ChainHold, "holder", "amount_minor", "status", "capture_ref", "resolved_tx_hash") == [
        (alice.address, 4_000, "captured", "ATM-7", captured.tx_hash),
        (alice.address, 1_000, "released", None, released.tx_hash)]
    assert rows(session, ChainMerchant, "merchant_id", "acquirer", "wallet", "fee_bps", "payout_mode", "status",
                "pending_gross_minor", "pending_refunds_minor", "last_batch_id") == [
        ("CAFE", "BANKA", shop.address, 200, "bank_account", "active", 0, 0, 1)]
    assert rows(session, MerchantOrder, "merchant_id", "order_id", "payer", "paid_minor", "refunded_minor",
                "paid_tx_hash", "last_refund_ref") == [("CAFE", "T-1", alice.address, 6_000, 1_000, paid.tx_hash,
                                                        "RF-9")]
    fee = 6_000 * 200 // 10_000
    assert rows(session, SettlementBatchRecord, "merchant_id", "batch_id", "acquirer", "gross_minor",
                "refunds_minor", "fee_minor", "net_minor", "payout_mode", "ref", "tx_hash") == [
        ("CAFE", 1, "BANKA", 6_000, 1_000, fee, 6_000 - 1_000 - fee, "bank_account", "PAYOUT-1", settled.tx_hash)]
    # the payout burn counts against bank A's issuance: minted - burned == netIssued
    assert rows(session, BankIssuance, "bank_id", "minted_minor", "burned_minor") == [
        ("BANKA", 30_000, 4_000 + 1_200 + 6_000 - 1_000 - fee)]
    assert 30_000 - (4_000 + 1_200 + 6_000 - 1_000 - fee) == network.net_issued("BANKA")


def test_network_scope_indexes_every_wallet_and_bank(network: Network, bank_a: BankOperator, bank_b: BankOperator,
                                                    sessions: sessionmaker[Session], session: Session) -> None:
    who = mixed_activity(network, bank_a, bank_b)
    indexer(network, sessions).run_once()

    wallets = {w.address: w for w in session.scalars(select(ChainWallet))}
    settlement = network.addresses["MerchantSettlement"]
    assert {who.alice.address, who.bob.address, who.carol.address, who.shop.address, who.fees.address,
            who.dave.address, settlement} == set(wallets)
    assert (wallets[who.carol.address].bank_id, wallets[settlement].bank_id, wallets[settlement].kind) == (
        "BANKB", None, "system")
    for address, wallet in wallets.items():
        assert (wallet.spendable_minor, wallet.held_minor) == (network.balance(address), network.held_balance(address))
    assert (wallets[who.bob.address].tier, wallets[who.bob.address].status) == (2, "active")
    assert (wallets[who.dave.address].status, wallets[who.dave.address].spendable_minor) == ("closed", 0)
    assert rows(session, WalletHistory, "kind", "amount_minor", "ref", "burn_reason", wallet=who.dave.address) == [
        (H.MINT, 900, "MINT-D1", None), (H.BURN, 900, "CLOSE-D1", "wallet_closure")]
    issuance = {bank: minted - burned for bank, minted, burned in rows(
        session, BankIssuance, "bank_id", "minted_minor", "burned_minor")}
    assert issuance == {"BANKA": network.net_issued("BANKA"), "BANKB": network.net_issued("BANKB")}
    # a transfer between two indexed wallets is two rows of one log
    sent = rows(session, WalletHistory, "tx_hash", wallet=who.alice.address, counterparty=who.carol.address)
    assert rows(session, WalletHistory, "wallet", "kind", "amount_minor", tx_hash=sent[0][0]) == [
        (who.alice.address, H.TRANSFER_OUT, 1_000), (who.carol.address, H.TRANSFER_IN, 1_000)]
    assert rows(session, WalletHistory, "kind", "amount_minor", wallet=settlement) == [
        (H.TRANSFER_IN, 8_000), (H.TRANSFER_IN, 3_000), (H.TRANSFER_OUT, 500), (H.TRANSFER_OUT, 11_000 - 500 - 110),
        (H.TRANSFER_OUT, 110), (H.TRANSFER_IN, 1_000)]
    assert rows(session, MerchantOrder, "order_id", "paid_minor", "refunded_minor") == [
        ("O-1", 8_000, 500), ("O-2", 3_000, 0), ("O-3", 1_000, 0)]
    merchant = network.merchant("BANKA", "SHOP-1")
    assert rows(session, ChainMerchant, "pending_gross_minor", "pending_refunds_minor", "last_batch_id") == [
        (merchant.pending_gross, merchant.pending_refunds, merchant.last_batch_id)] == [(1_000, 0, 1)]
    fee = 11_000 * 100 // 10_000
    assert rows(session, SettlementBatchRecord, "gross_minor", "refunds_minor", "fee_minor", "net_minor", "ref") == [
        (11_000, 500, fee, 11_000 - 500 - fee, "ST-1")]
    assert rows(session, ChainHold, "hold_id", "status", hold_id="0x" + who.hold_left.hex()) == [
        ("0x" + who.hold_left.hex(), "held")]
    # each limit class's limits as the chain has them (None: no limit), for admitting payments locally
    limits = {row.limit_class: (row.balance_cap, row.single_payment_limit, row.daily_outflow_limit)
              for row in session.scalars(select(ChainLimits))}
    session.rollback()
    expected = {c: tuple(None if v >= UNLIMITED else v for v in (x.balance_cap, x.single_payment_limit,
                                                                   x.daily_outflow_limit))
                for c in range(1, 7) for x in [network.limits(c)]}
    assert limits == expected and expected[1][1] is not None


def test_bank_scope_keeps_only_the_banks_wallets_merchants_and_issuance(
        network: Network, bank_a: BankOperator, bank_b: BankOperator, sessions: sessionmaker[Session],
        session: Session) -> None:
    who = mixed_activity(network, bank_a, bank_b)
    register_payout_merchant(bank_b, "B-SHOP")
    pay(network, bank_b, who.carol, "B-SHOP", "B-1", 2_000, acquirer="BANKB")
    cafe = register_payout_merchant(bank_a, "CAFE")
    pay(network, bank_b, who.carol, "CAFE", "C-1", 3_000)
    bank_a.settle("CAFE", "PAYOUT-1")  # burns the net from the settlement contract, as bank A's redemption
    indexer(network, sessions, scope=IndexScope.BANK, bank_id=BANK_A).run_once()

    wallets = {w.address: w for w in session.scalars(select(ChainWallet))}
    assert set(wallets) == {who.alice.address, who.bob.address, who.shop.address, who.fees.address, who.dave.address,
                            cafe.address}
    for address, wallet in wallets.items():
        assert wallet.bank_id == "BANKA"
        assert (wallet.spendable_minor, wallet.held_minor) == (network.balance(address), network.held_balance(address))
    assert not rows(session, WalletHistory, "id", wallet=who.carol.address)
    # the cross-bank transfers keep only bank A's side
    assert rows(session, WalletHistory, "wallet", "kind", "amount_minor", counterparty=who.carol.address) == [
        (who.alice.address, H.TRANSFER_OUT, 1_000), (who.bob.address, H.TRANSFER_IN, 700)]
    payout = 3_000 - 3_000 * 200 // 10_000
    assert rows(session, BankIssuance, "bank_id", "minted_minor", "burned_minor") == [
        ("BANKA", 55_900, 4_000 + 1_200 + 900 + payout)]
    assert 55_900 - (4_000 + 1_200 + 900 + payout) == network.net_issued("BANKA")
    assert not rows(session, WalletHistory, "id", wallet=network.addresses["MerchantSettlement"])
    assert rows(session, ChainMerchant, "merchant_id") == [("SHOP-1",), ("CAFE",)]
    assert [o[0] for o in rows(session, MerchantOrder, "order_id")] == ["O-1", "O-2", "O-3", "C-1"]
    assert rows(session, SettlementBatchRecord, "merchant_id", "ref") == [("SHOP-1", "ST-1"), ("CAFE", "PAYOUT-1")]


def twin_merchants(network: Network, bank_a: BankOperator, bank_b: BankOperator) -> WalletKey:
    """Bank B registers TWIN first, bank A its own TWIN; one payer (returned) pays order O-1 at each (2,000 at B,
    3,000 at A); bank A refunds 500 of its order and bank B settles."""
    payer = open_wallet(bank_b)
    bank_b.mint(payer, 10_000, "MINT-TWIN")
    register_payout_merchant(bank_b, "TWIN")
    register_payout_merchant(bank_a, "TWIN")
    pay(network, bank_b, payer, "TWIN", "O-1", 2_000, acquirer="BANKB")
    pay(network, bank_b, payer, "TWIN", "O-1", 3_000, acquirer="BANKA")
    bank_a.refund("TWIN", "O-1", 500, "RF-TWIN")
    bank_b.settle("TWIN", "ST-TWIN")
    return payer


def test_two_banks_merchants_of_the_same_id_are_two_merchants(
        network: Network, bank_a: BankOperator, bank_b: BankOperator, sessions: sessionmaker[Session],
        session: Session) -> None:
    """Merchant ids are per acquirer (issue 18, 10(c)): bank B registers TWIN first, bank A its own TWIN; a
    network-wide index keeps both apart, and a bank's node (scope network, with its bank id) keeps its own only,
    so its statements, webhooks and daily settlement never see the other bank's orders."""
    twin_merchants(network, bank_a, bank_b)
    indexer(network, sessions, scope=IndexScope.NETWORK).run_once()
    assert rows(session, ChainMerchant, "acquirer", "merchant_id", "pending_gross_minor", "pending_refunds_minor",
                "last_batch_id") == [("BANKB", "TWIN", 0, 0, 1), ("BANKA", "TWIN", 3_000, 500, 0)]
    assert rows(session, MerchantOrder, "acquirer", "merchant_id", "order_id", "paid_minor", "refunded_minor",
                "batch_id") == [("BANKB", "TWIN", "O-1", 2_000, 0, 1), ("BANKA", "TWIN", "O-1", 3_000, 500, None)]
    assert rows(session, SettlementBatchRecord, "acquirer", "merchant_id", "gross_minor") == [("BANKB", "TWIN", 2_000)]


def test_a_banks_node_keeps_its_own_merchants_only(network: Network, bank_a: BankOperator, bank_b: BankOperator,
                                                  sessions: sessionmaker[Session], session: Session) -> None:
    payer = twin_merchants(network, bank_a, bank_b)
    signer = WalletKey.create().address
    bank_b.set_request_signer(signer)
    bank_b.set_merchant_status("TWIN", MerchantStatus.SUSPENDED)
    indexer(network, sessions, scope=IndexScope.NETWORK, bank_id=BANK_A).run_once()
    assert rows(session, ChainMerchant, "acquirer", "merchant_id") == [("BANKA", "TWIN")]
    assert rows(session, MerchantOrder, "acquirer", "paid_minor", "refunded_minor") == [("BANKA", 3_000, 500)]
    assert rows(session, SettlementBatchRecord, "merchant_id") == []
    assert rows(session, ChainWallet, "address", address=payer.address) == [(payer.address,)]  # wallets: all
    # the directory a payer's bank admits payments of any bank's merchant against: no amounts, no payers
    assert rows(session, DirectoryMerchant, "acquirer", "merchant_id", "wallet", "status") == [
        ("BANKB", "TWIN", network.merchant("BANKB", "TWIN").wallet, "suspended"),
        ("BANKA", "TWIN", network.merchant("BANKA", "TWIN").wallet, "active")]
    assert rows(session, DirectoryOrderPaid, "acquirer", "merchant_id", "order_id") == [
        ("BANKB", "TWIN", "O-1"), ("BANKA", "TWIN", "O-1")]
    assert ("BANKB", str(signer)) in rows(session, DirectoryRequestSigner, "bank_id", "signer")


def test_a_bank_scope_index_keeps_no_directory(network: Network, bank_a: BankOperator, bank_b: BankOperator,
                                              sessions: sessionmaker[Session], session: Session) -> None:
    twin_merchants(network, bank_a, bank_b)
    indexer(network, sessions, scope=IndexScope.BANK, bank_id=BANK_A).run_once()
    assert rows(session, ChainMerchant, "acquirer", "merchant_id") == [("BANKA", "TWIN")]
    assert rows(session, DirectoryMerchant, "id") == rows(session, DirectoryOrderPaid, "id") == []


def test_confirmations_keep_the_last_blocks_out(network: Network, bank_a: BankOperator,
                                               sessions: sessionmaker[Session], session: Session) -> None:
    alice = open_wallet(bank_a)
    early = bank_a.mint(alice, 1_000, "EARLY")
    mine(network, 3)
    late = bank_a.mint(alice, 2_000, "LATE")  # the head block
    waiting = indexer(network, sessions, confirmations=3)

    # The head block has 1 confirmation: with 3 required, the indexer stops two blocks below it.
    checkpoint = waiting.run_once()
    assert checkpoint == IndexedUpTo(late.block_number - 2, None, checkpoint.block_hash if checkpoint else "")
    assert [r[0] for r in rows(session, WalletHistory, "ref")] == ["EARLY"]
    assert early.block_number <= late.block_number - 2
    mine(network, 1)
    waiting.run_once()
    assert [r[0] for r in rows(session, WalletHistory, "ref")] == ["EARLY"]  # LATE has 2 confirmations: not yet
    mine(network, 1)
    assert waiting.run_once() == IndexedUpTo(late.block_number, None, waiting.checkpoint().block_hash)  # type: ignore[union-attr]
    assert [r[0] for r in rows(session, WalletHistory, "ref")] == ["EARLY", "LATE"]
    assert rows(session, ChainWallet, "spendable_minor", address=alice.address) == [(3_000,)]


def test_a_database_indexed_otherwise_is_refused(network: Network, bank_a: BankOperator,
                                                sessions: sessionmaker[Session]) -> None:
    open_wallet(bank_a)
    indexer(network, sessions).run_once()
    with pytest.raises(CheckpointMismatchError) as refused:
        indexer(network, sessions, scope=IndexScope.BANK, bank_id=BANK_A).run_once()
    assert (refused.value.what, refused.value.stored, refused.value.configured) == ("scope", "network", "bank")


def test_rerunning_when_caught_up_changes_nothing(network: Network, bank_a: BankOperator, bank_b: BankOperator,
                                                  sessions: sessionmaker[Session], engine: Engine) -> None:
    mixed_activity(network, bank_a, bank_b)
    first = indexer(network, sessions)
    end = first.run_once()
    before = dump(engine)
    assert first.run_round() is None
    assert indexer(network, sessions).run_once() == end
    assert dump(engine) == before


def test_the_database_refuses_an_event_applied_twice(network: Network, bank_a: BankOperator,
                                                     sessions: sessionmaker[Session]) -> None:
    alice = open_wallet(bank_a)
    minted = bank_a.mint(alice, 1_000, "ONCE")
    indexer(network, sessions).run_once()
    replay = Projection(sessions(), IndexScope.NETWORK, None, network.addresses["DigitalCash"], "DCASH",
                        {minted.block_number: block_time(network, minted.block_number)})
    with replay.session, pytest.raises(IntegrityError, match="wallet_history"):
        replay.apply(minted.event("Minted"))
        replay.flush()


class BatchWatchingProvider(HTTPProvider):
    """Records the JSON-RPC batches the indexer sends; with ``refuse`` answers each as a node that does not take
    batches that big does (one error object for the whole batch)."""

    def __init__(self, url: str, *, refuse: bool = False) -> None:
        super().__init__(url)
        self.refuse = refuse
        self.batches: list[list[str]] = []

    def make_batch_request(self, requests: Any) -> Any:
        self.batches.append([method for method, _ in requests])
        if self.refuse:
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32005, "message": "batch size limit exceeded"}}
        return super().make_batch_request(requests)


def test_block_times_come_in_batches_and_a_refused_batch_changes_nothing(
        network: Network, bank_a: BankOperator, bank_b: BankOperator, system: Any, sessions: sessionmaker[Session],
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    mixed_activity(network, bank_a, bank_b)
    refusing = BatchWatchingProvider(system.w3.provider.endpoint_uri, refuse=True)
    with pytest.raises(Web3RPCError, match="batch size limit"):
        indexer(Network.from_web3(Web3(refusing), system.deployment), sessions).run_round()
    assert refusing.batches
    assert indexer(network, sessions).checkpoint() is None
    assert rows(session, WalletHistory, "id") == []

    monkeypatch.setattr("node.indexer.service.BLOCKS_PER_BATCH", 3)
    watching = BatchWatchingProvider(system.w3.provider.endpoint_uri)
    end = indexer(Network.from_web3(Web3(watching), system.deployment), sessions).run_once()
    assert end is not None and end.log_index is None
    assert end.block_hash == network.w3.eth.get_block(end.block_number)["hash"].to_0x_hex()
    assert len(watching.batches) > 1
    assert all(len(b) <= 3 and set(b) == {"eth_getBlockByNumber"} for b in watching.batches)
    history = rows(session, WalletHistory, "block_number", "block_time")
    assert len({number for number, _ in history}) > 3  # more blocks than one batch holds
    assert all(when == block_time(network, number) for number, when in history)
