"""The gas bounds outbox kinds declare (``OutboxKind.gas_per_item``), against the real anvil: a batch of the
costliest items of each kind (openings, mints, relayed transfers, merchant payments) fits the gas the writer
gives it without an estimate, and the writer does send batches with that gas (checked by one ``eth_call``),
while a lone row is still estimated."""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy.orm import Session, sessionmaker
from writer_support import FAST, assert_all_written_once, chain_txs, enqueue_rows, mint_row, relay, relay_row

from node.writer import KINDS, ChainWriter
from node.writer.kinds import BATCH_BASE_GAS, merchant_pay_payload
from wallet_sdk import rawtx
from wallet_sdk.authorizations import MerchantPayment, merchant_id, order_id, relay_nonce
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator
from wallet_sdk.chain.types import WalletKind, WalletOpening, WalletStatus
from wallet_sdk.deploy import bank_id
from wallet_sdk.keys import WalletKey

ITEMS = 12


@pytest.fixture
def other_bank(network: Network, system: Any) -> BankOperator:
    return network.bank_operator(system.banks["B"].operators[1])


def _fresh(bank: BankOperator, count: int, *, tier: int = 1) -> list[WalletKey]:
    keys = [WalletKey.create() for _ in range(count)]
    bank.open_wallets([WalletOpening(k.address, tier=tier) for k in keys])
    return keys


def _run_and_check_bound(sessions: sessionmaker[Session], network: Network, operator: LocalAccount, kind: str,
                         rows: list[tuple[str, str, dict[str, Any]]]) -> int:
    """Write ``rows`` (one batch of ``kind``), and return its gas used after checking it was sent with the
    declared bound, not an estimate, and used no more."""
    bound = KINDS[kind].gas_per_item
    assert bound is not None, f"{kind} declares no gas bound"
    first_nonce = rawtx.nonce_of(network.w3, operator.address)
    enqueue_rows(sessions, rows)
    ChainWriter(sessions, network, operator, FAST).run(until_idle=True)
    assert_all_written_once(network, sessions, operator.address, first_nonce)
    (tx,) = [tx for tx, _ in chain_txs(sessions) if tx.kind == kind]
    assert tx.gas_limit == BATCH_BASE_GAS + ITEMS * bound  # the bound, not an estimate plus a margin
    used = int(network.w3.eth.get_transaction_receipt(tx.mined_hash)["gasUsed"])
    assert used <= tx.gas_limit, f"{kind}: {used:,} gas used, bound {tx.gas_limit:,}"
    return used


def test_a_batch_of_the_costliest_openings_fits_the_declared_bound(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount) -> None:
    """Merchant wallets and personal ones of the top tier, each bound to a bank account (one more storage word)."""
    keys = [WalletKey.create() for _ in range(ITEMS)]
    rows = [(f"OPEN-{i}", "open_wallet", {"wallet": k.address, "tier": 4 if i % 2 else 1,
                                          "wallet_kind": "merchant" if i % 2 == 0 else "personal",
                                          "account_hash": "0x" + secrets.token_hex(32)})
            for i, k in enumerate(keys)]
    _run_and_check_bound(sessions, network, operator, "open_wallet", rows)
    assert all(network.wallet(k).status is WalletStatus.ACTIVE for k in keys)
    assert network.wallet(keys[0]).kind is WalletKind.MERCHANT


def test_a_batch_of_the_costliest_mints_fits_the_declared_bound(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator) -> None:
    """Each to a wallet that never held money (a new balance word, a new daily counter)."""
    wallets = _fresh(bank, ITEMS)
    _run_and_check_bound(sessions, network, operator, "mint",
                         [mint_row(f"MINT-GAS-{i}", w, 1_000 + i) for i, w in enumerate(wallets)])
    assert [network.balance(w) for w in wallets] == [1_000 + i for i in range(ITEMS)]


def test_a_batch_of_the_costliest_relayed_transfers_fits_the_declared_bound(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator,
        other_bank: BankOperator) -> None:
    """Each payer's first relayed payment (a new nonce word, a new daily outflow counter) to a payee of another
    bank and another tier that never held money."""
    payers = _fresh(bank, ITEMS)
    for i, payer in enumerate(payers):
        bank.mint(payer, 10_000, f"GAS-FUND-{i}")
    payees = _fresh(other_bank, ITEMS, tier=3)
    rows = [relay_row(f"RELAY-GAS-{i}", relay(network, payer, payee, 500, relay_nonce(secrets.randbelow(2**200), 0)))
            for i, (payer, payee) in enumerate(zip(payers, payees, strict=True))]
    _run_and_check_bound(sessions, network, operator, "relay_transfers", rows)
    assert [network.balance(p) for p in payees] == [500] * ITEMS


def test_a_batch_of_the_costliest_merchant_payments_fits_the_declared_bound(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator,
        other_bank: BankOperator, system: Any) -> None:
    """Each payer's first payment (a new daily outflow counter) at another bank than the acquirer, each to a new
    order of a merchant whose wallet never held money, with the acquirer's request signature."""
    shop = WalletKey.create()
    bank.open_wallet(shop, kind=WalletKind.MERCHANT)
    bank.register_merchant("GAS-SHOP", shop, fee_bps=200, mcc=5411)
    signer = WalletKey.create()
    bank.set_request_signer(signer)
    payers = _fresh(other_bank, ITEMS)
    for i, payer in enumerate(payers):
        other_bank.mint(payer, 10_000, f"GAS-PAYER-{i}")
    deadline = network.now() + 600
    rows = []
    for i, payer in enumerate(payers):
        unsigned = MerchantPayment(acquirer=bank_id("BANKA"), merchant_id=merchant_id("GAS-SHOP"),
                                   order_id=order_id(f"GAS-ORDER-{i}"), payer=payer.address, amount=700 + i,
                                   valid_before=deadline, settlement=system.settlement.address)
        signed = unsigned.with_request_signature(unsigned.request_terms().sign(signer, network.settlement_domain()))
        rows.append((f"PAY-GAS-{i}", "merchant_pay", merchant_pay_payload(signed.sign(payer, network.domain()))))
    _run_and_check_bound(sessions, network, operator, "merchant_pay", rows)
    assert network.order("BANKA", "GAS-SHOP", "GAS-ORDER-0").amount == 700


def test_a_lone_row_is_still_estimated(sessions: sessionmaker[Session], network: Network,
                                       operator: LocalAccount) -> None:
    (key,) = [WalletKey.create()]
    enqueue_rows(sessions, [("OPEN-ALONE", "open_wallet", {"wallet": key.address})])
    ChainWriter(sessions, network, operator, FAST).run(until_idle=True)
    ((tx, _),) = chain_txs(sessions)
    bound = KINDS["open_wallet"].gas_per_item
    assert bound is not None and tx.gas_limit < BATCH_BASE_GAS + bound  # an estimate plus its margin
    assert network.wallet(key).status is WalletStatus.ACTIVE
    assert tx.state.value == "mined"


def test_a_batch_that_would_revert_is_refused_before_it_is_signed(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator) -> None:
    """The bounded batch is checked by running it once: one taken address refuses it with nothing signed; its
    rows go alone and only the taken one fails."""
    (taken,) = _fresh(bank, 1)
    fresh = [WalletKey.create() for _ in range(3)]
    first_nonce = rawtx.nonce_of(network.w3, operator.address)
    enqueue_rows(sessions, [(f"OPEN-{i}", "open_wallet", {"wallet": k.address})
                            for i, k in enumerate([fresh[0], taken, fresh[1], fresh[2]])])
    ChainWriter(sessions, network, operator, FAST).run(until_idle=True)
    assert_all_written_once(network, sessions, operator.address, first_nonce)
    txs = chain_txs(sessions)
    assert [tx.state.value for tx, _ in txs] == ["mined"] * 3  # the three good rows alone; no reverted batch
    assert all(network.wallet(k).status is WalletStatus.ACTIVE for k in fresh)


def test_a_bound_too_low_falls_back_to_the_estimate(sessions: sessionmaker[Session], network: Network,
                                                    operator: LocalAccount) -> None:
    """A kind whose declared bound no longer covers its items (a contract upgrade made them costlier): the check
    runs out of gas, and the writer estimates the batch, which goes whole, instead of sending its rows alone."""
    kinds = {**KINDS, "open_wallet": dataclasses.replace(KINDS["open_wallet"], gas_per_item=1_000)}
    keys = [WalletKey.create() for _ in range(3)]
    first_nonce = rawtx.nonce_of(network.w3, operator.address)
    enqueue_rows(sessions, [(f"OPEN-LOW-{i}", "open_wallet", {"wallet": k.address}) for i, k in enumerate(keys)])
    ChainWriter(sessions, network, operator, FAST, kinds=kinds).run(until_idle=True)
    assert_all_written_once(network, sessions, operator.address, first_nonce)
    ((tx, _),) = chain_txs(sessions)
    assert tx.gas_limit > BATCH_BASE_GAS + 3 * 1_000  # the estimate's, in one batch
    assert all(network.wallet(k).status is WalletStatus.ACTIVE for k in keys)
