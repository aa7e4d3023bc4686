"""Helpers for the indexer and reconciliation tests (no tests here): chain activity made with the SDK on the
session's anvil, and a dump of the indexer's tables to compare two databases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from node.db import session_factory
from node.indexer.models import (
    BankIssuance,
    ChainHold,
    ChainLimits,
    ChainMerchant,
    ChainWallet,
    IndexerCheckpoint,
    MerchantOrder,
    SettlementBatchRecord,
    WalletHistory,
)
from wallet_sdk.authorizations import (
    HoldAuthorization,
    MerchantPayment,
    Redemption,
    TransferAuthorization,
    merchant_id,
    order_id,
)
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator, TxResult
from wallet_sdk.chain.types import PayoutMode, WalletKind
from wallet_sdk.keys import WalletKey

INDEXER_TABLES: tuple[Any, ...] = (IndexerCheckpoint, ChainWallet, WalletHistory, ChainHold, ChainMerchant,
                                   MerchantOrder, SettlementBatchRecord, BankIssuance, ChainLimits)


def chain_now(network: Network) -> int:
    return network.now()


def mine(network: Network, blocks: int = 1) -> None:
    for _ in range(blocks):
        network.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def open_wallet(bank: BankOperator, *, tier: int = 1, kind: WalletKind = WalletKind.PERSONAL) -> WalletKey:
    key = WalletKey.create()
    bank.open_wallet(key, tier=tier, kind=kind)
    return key


def transfer(network: Network, bank: BankOperator, payer: WalletKey, payee: str, amount: int) -> TxResult:
    auth = TransferAuthorization(from_=payer.address, to=payee, value=amount, valid_before=chain_now(network) + 600)
    return bank.transfer_with_authorization(auth.sign(payer, network.domain()))


def place_hold(network: Network, bank: BankOperator, holder: WalletKey, amount: int) -> tuple[bytes, TxResult]:
    """Place a hold; its id and the transaction."""
    auth = HoldAuthorization(holder=holder.address, value=amount, expires_at=chain_now(network) + 600)
    return auth.hold_id, bank.place_hold(auth.sign(holder, network.domain()))


def redeem(network: Network, bank: BankOperator, holder: WalletKey, amount: int, ref: str) -> TxResult:
    auth = Redemption(holder=holder.address, value=amount, valid_before=chain_now(network) + 600)
    return bank.redeem(auth.sign(holder, network.domain()), ref)


REQUEST_SIGNER = WalletKey.from_private_key("0x" + "42" * 32)  # signs every test bank's payment requests


def sign_requests_for(bank: BankOperator) -> None:
    """Register :data:`REQUEST_SIGNER` as ``bank``'s request signer (once)."""
    if bank.network.request_signer(bank.bank_id) != REQUEST_SIGNER.address:
        bank.set_request_signer(REQUEST_SIGNER)


def pay(network: Network, bank: BankOperator, payer: WalletKey, merchant: str, order: str, amount: int, *,
        acquirer: str = "BANKA") -> TxResult:
    """``bank`` relays ``payer``'s payment of a request of ``acquirer``'s ``merchant`` (signed by REQUEST_SIGNER)."""
    auth = MerchantPayment(acquirer=merchant_id(acquirer), merchant_id=merchant_id(merchant), order_id=order_id(order),
                           payer=payer.address, amount=amount, valid_before=chain_now(network) + 600,
                           settlement=network.addresses["MerchantSettlement"])
    auth = auth.with_request_signature(auth.request_terms().sign(REQUEST_SIGNER, network.settlement_domain()))
    return bank.pay(auth.sign(payer, network.domain()))


@dataclass
class Activity:
    """Who took part in :func:`mixed_activity`."""

    alice: WalletKey  # bank A
    bob: WalletKey  # bank A
    carol: WalletKey  # bank B
    shop: WalletKey  # bank A's merchant SHOP-1 (paid to its wallet)
    fees: WalletKey  # bank A's fee wallet
    hold_left: bytes  # a hold still active at the end
    dave: WalletKey  # bank A, closed with 900 on it


def mixed_activity(network: Network, bank_a: BankOperator, bank_b: BankOperator) -> Activity:
    """Every kind of event the indexer follows, on two banks: mints, transfers within and across banks, holds
    captured, released and left open, a redemption, tier/freeze changes, merchant payments, a refund and a
    settlement (and one payment after it, left pending), a wallet closed with money on it."""
    alice, bob = open_wallet(bank_a), open_wallet(bank_a)
    carol = open_wallet(bank_b)
    shop = open_wallet(bank_a, kind=WalletKind.MERCHANT)
    fees = open_wallet(bank_a, kind=WalletKind.MERCHANT)
    bank_a.set_fee_wallet(fees)
    sign_requests_for(bank_a)
    bank_a.register_merchant("SHOP-1", shop, fee_bps=100, mcc=5411)
    bank_a.mint(alice, 50_000, "MINT-A1")
    bank_a.mint(bob, 5_000, "MINT-B1")
    bank_b.mint(carol, 20_000, "MINT-C1")
    transfer(network, bank_a, alice, bob.address, 2_500)
    transfer(network, bank_a, alice, carol.address, 1_000)
    transfer(network, bank_b, carol, bob.address, 700)
    captured, _ = place_hold(network, bank_a, alice, 4_000)
    bank_a.capture_hold(captured, "ATM-1")
    released, _ = place_hold(network, bank_a, alice, 1_500)
    bank_a.release_hold(released)
    hold_left, _ = place_hold(network, bank_a, bob, 300)
    redeem(network, bank_a, bob, 1_200, "RED-1")
    bank_a.set_tier(bob, 2)
    bank_a.freeze(bob, 7)
    bank_a.unfreeze(bob)
    pay(network, bank_a, alice, "SHOP-1", "O-1", 8_000)
    pay(network, bank_b, carol, "SHOP-1", "O-2", 3_000)
    bank_a.refund("SHOP-1", "O-1", 500, "RF-1")
    bank_a.settle("SHOP-1", "ST-1")
    pay(network, bank_b, carol, "SHOP-1", "O-3", 1_000)
    dave = open_wallet(bank_a)
    bank_a.mint(dave, 900, "MINT-D1")
    bank_a.close_wallet(dave, "CLOSE-D1")
    return Activity(alice, bob, carol, shop, fees, hold_left, dave)


def register_payout_merchant(bank: BankOperator, code: str) -> WalletKey:
    """A merchant paid out to its bank account: its settlement burns the net (Burned, SettlementPayout)."""
    wallet = open_wallet(bank, kind=WalletKind.MERCHANT)
    if bank.network.fee_wallet(bank.bank_id) is None:
        bank.set_fee_wallet(open_wallet(bank, kind=WalletKind.MERCHANT))
    sign_requests_for(bank)
    bank.register_merchant(code, wallet, fee_bps=200, mcc=5812, payout_mode=PayoutMode.BANK_ACCOUNT)
    return wallet


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every indexer table's rows (without surrogate ids and wall-clock stamps), sorted: equal dumps mean
    equal contents."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    with session_factory(engine, read_only=True)() as session:
        for model in INDEXER_TABLES:
            table = model.__table__
            columns = [c for c in table.columns if c.key not in ("id", "updated_at")]
            rows = session.execute(select(*columns)).all()
            result[model.__tablename__] = sorted((tuple(row) for row in rows), key=repr)
    return result


def rows(session: Session, model: Any, *columns: Any, **where: Any) -> list[tuple[Any, ...]]:
    """``columns`` of ``model``'s rows matching ``where``, in id order. The read's transaction is ended, so the
    indexer can write next (on SQLite any open transaction holds the write lock)."""
    query = select(*(getattr(model, c) for c in columns)).filter_by(**where).order_by(model.id)
    try:
        return [tuple(r) for r in session.execute(query).all()]
    finally:
        session.rollback()
