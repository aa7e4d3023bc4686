"""The chain writer in-process, against the real anvil, on SQLite and PostgreSQL: kinds, batching, per-item
failures, reverts (a batch mined reverted goes again row by row; a refusal saying the row's own effect was made
before confirms it), nonces, replacement of stuck transactions. The crash tests are in
test_node_writer_crash.py (a real subprocess killed with SIGKILL)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner
from web3 import Web3
from writer_support import (
    FAST,
    TcpProxy,
    assert_all_written_once,
    chain_txs,
    enqueue_rows,
    mint_row,
    minted_refs,
    nonce_bit,
    open_wallets,
    relay,
    relay_row,
    rows_by_key,
)

from node.db import utcnow
from node.outbox import OutboxState
from node.writer import (
    KINDS,
    ChainTxState,
    ChainWriter,
    OutboxKind,
    WriterConfig,
    WriterStep,
    register_kind,
    writer_web3,
)
from tools.cli import app
from wallet_sdk import rawtx
from wallet_sdk._tx import send_tx
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator
from wallet_sdk.chain.types import WalletKind, WalletStatus
from wallet_sdk.keys import WalletKey

# ------------------------------------------------------------------ fixtures


@pytest.fixture
def writer(sessions: sessionmaker[Session], network: Network, operator: LocalAccount) -> ChainWriter:
    return ChainWriter(sessions, network, operator, FAST)


@pytest.fixture
def manual_mining(system: Any) -> Iterator[None]:
    """Transactions wait in anvil's pool until the test mines a block (``evm_mine``)."""
    system.rpc("evm_setAutomine", False)
    try:
        yield
    finally:
        system.rpc("evm_setAutomine", True)


def _start(network: Network, operator: LocalAccount) -> tuple[int, int]:
    """The first block and the writer's first nonce of what the test does next."""
    return network.block_number + 1, rawtx.nonce_of(network.w3, operator.address)


# ------------------------------------------------------------------ mint: one row alone, a round's rows in one batch


def test_mint_rows_of_a_round_go_in_one_batch_written_once_each(
        writer: ChainWriter, sessions: sessionmaker[Session], network: Network, operator: LocalAccount,
        bank: BankOperator) -> None:
    alice, bob = open_wallets(bank, 2)
    block, nonce = _start(network, operator)
    enqueue_rows(sessions, [mint_row("CASH-1", alice, 1_000), mint_row("CASH-2", bob, 2_500),
                            mint_row("CASH-3", alice, 7)])

    writer.run(until_idle=True)

    rows = rows_by_key(sessions)
    assert {k: r.state for k, r in rows.items()} == dict.fromkeys(("CASH-1", "CASH-2", "CASH-3"), OutboxState.CONFIRMED)
    assert [rows[k].nonce for k in ("CASH-1", "CASH-2", "CASH-3")] == [nonce] * 3  # one mintBatch
    ((tx, _),) = chain_txs(sessions)
    assert tx.kind == "mint" and tx.state is ChainTxState.MINED
    assert minted_refs(network, block) == {"CASH-1": 1, "CASH-2": 1, "CASH-3": 1}
    assert (network.balance(alice), network.balance(bob)) == (1_007, 2_500)
    assert_all_written_once(network, sessions, operator.address, nonce)
    enqueue_rows(sessions, [mint_row("CASH-4", bob, 1)])
    writer.run(until_idle=True)  # a row alone goes as a plain mint, in the next transaction
    assert rows_by_key(sessions)["CASH-4"].nonce == nonce + 1 and network.balance(bob) == 2_501
    writer.run(until_idle=True)  # nothing left: running again sends nothing
    assert rawtx.nonce_of(network.w3, operator.address) == nonce + 2


def test_a_mint_batch_mined_reverted_is_sent_again_row_by_row(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator,
        system: Any) -> None:
    """One wallet of a round's mints is frozen between the estimate and the mining: the batch changes nothing,
    its rows go again one by one, and only the frozen wallet's row fails."""
    alice, bob = open_wallets(bank, 2)
    block, _ = _start(network, operator)
    enqueue_rows(sessions, [mint_row("CASH-A", alice, 100), mint_row("CASH-B", bob, 200)])
    frozen: list[bool] = []

    def freeze_before_broadcast(point: WriterStep) -> None:
        if point is WriterStep.SIGNED_COMMITTED and not frozen:
            network.regulator(system.regulator).freeze(bob, 7)
            frozen.append(True)

    ChainWriter(sessions, network, operator, FAST, checkpoint=freeze_before_broadcast).run(until_idle=True)

    rows = rows_by_key(sessions)
    assert rows["CASH-A"].state is OutboxState.CONFIRMED
    assert rows["CASH-B"].state is OutboxState.FAILED
    assert rows["CASH-B"].last_error == f"WalletNotActive(wallet='{bob.address}', status=2 (FROZEN))"
    assert next(tx.state for tx, _ in chain_txs(sessions)) is ChainTxState.REVERTED  # the batch
    assert minted_refs(network, block) == {"CASH-A": 1}
    assert (network.balance(alice), network.balance(bob)) == (100, 0)


def test_a_call_that_would_revert_fails_its_row_without_using_a_nonce(
        writer: ChainWriter, sessions: sessionmaker[Session], network: Network, operator: LocalAccount,
        bank: BankOperator, system: Any) -> None:
    (alice,) = open_wallets(bank, 1)
    other_bank = open_wallets(network.bank_operator(system.banks["B"].operators[0]), 1)[0]
    block, nonce = _start(network, operator)
    enqueue_rows(sessions, [mint_row("FOREIGN", other_bank, 100), mint_row("OK", alice, 100),
                            ("BAD", "mint", {"wallet": alice.address, "amount": "lots", "ref": "BAD"}),
                            ("NOREF", "mint", {"wallet": alice.address, "amount": 5})])

    writer.run(until_idle=True)

    rows = rows_by_key(sessions)
    assert rows["FOREIGN"].state is OutboxState.FAILED
    assert rows["FOREIGN"].last_error == (f"NotCustodianOperator(caller='{operator.address}', "
                                          f"wallet='{other_bank.address}')")
    assert rows["FOREIGN"].nonce is None and rows["FOREIGN"].tx_hash is None
    assert rows["BAD"].state is OutboxState.FAILED
    assert rows["BAD"].last_error == ("invalid payload: payload field 'amount': expected an integer from 0 to "
                                      "2**256 - 1, got 'lots'")
    assert rows["NOREF"].last_error == "invalid payload: payload field 'ref': missing"
    assert rows["OK"].state is OutboxState.CONFIRMED and rows["OK"].nonce == nonce  # no nonce went to the failures
    assert minted_refs(network, block) == {"OK": 1}
    assert_all_written_once(network, sessions, operator.address, nonce)


def test_a_transaction_mined_with_status_0_fails_its_rows_with_the_decoded_revert(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator,
        system: Any) -> None:
    (alice,) = open_wallets(bank, 1)
    block, _ = _start(network, operator)
    enqueue_rows(sessions, [mint_row("CASH-1", alice, 1_000)])

    def freeze_before_broadcast(point: WriterStep) -> None:
        if point is WriterStep.SIGNED_COMMITTED:  # estimated while active, mined once frozen
            network.regulator(system.regulator).freeze(alice, 7)

    ChainWriter(sessions, network, operator, FAST, checkpoint=freeze_before_broadcast).run(until_idle=True)

    row = rows_by_key(sessions)["CASH-1"]
    assert row.state is OutboxState.FAILED
    assert row.last_error == f"WalletNotActive(wallet='{alice.address}', status=2 (FROZEN))"
    ((tx, _),) = chain_txs(sessions)
    assert tx.state is ChainTxState.REVERTED and tx.error == row.last_error
    receipt = rawtx.receipt_of(network.w3, row.tx_hash or "")
    assert receipt is not None and receipt["status"] == 0
    assert minted_refs(network, block) == {}


def test_confirmation_waits_for_the_configured_number_of_blocks(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator,
        system: Any) -> None:
    (alice,) = open_wallets(bank, 1)
    enqueue_rows(sessions, [mint_row("CASH-1", alice, 1_000)])
    writer = ChainWriter(sessions, network, operator, WriterConfig(confirmations=3))

    writer.run_round()  # signed, sent and mined (automine): 1 confirmation
    writer.run_round()
    assert rows_by_key(sessions)["CASH-1"].state is OutboxState.SUBMITTED
    system.rpc("evm_mine")
    writer.run_round()
    assert rows_by_key(sessions)["CASH-1"].state is OutboxState.SUBMITTED
    system.rpc("evm_mine")
    assert writer.run_round().finished == 1
    assert rows_by_key(sessions)["CASH-1"].state is OutboxState.CONFIRMED


def test_rows_wait_while_the_token_is_paused_and_go_through_after(
        writer: ChainWriter, sessions: sessionmaker[Session], network: Network, operator: LocalAccount,
        bank: BankOperator, system: Any) -> None:
    (alice,) = open_wallets(bank, 1)
    block, nonce = _start(network, operator)
    network.network_operator(system.operator).pause()
    enqueue_rows(sessions, [mint_row("CASH-1", alice, 1_000)])

    assert writer.run_round().outstanding == 1
    assert rows_by_key(sessions)["CASH-1"].state is OutboxState.RECEIVED  # not failed: paused is "not now"
    assert chain_txs(sessions) == []

    network.network_operator(system.operator).unpause()
    writer.run(until_idle=True)
    assert rows_by_key(sessions)["CASH-1"].state is OutboxState.CONFIRMED
    assert minted_refs(network, block) == {"CASH-1": 1}
    assert_all_written_once(network, sessions, operator.address, nonce)


# ------------------------------------------------------------------ relay_transfers: batches


def test_relay_rows_go_in_one_transaction_and_a_failing_item_fails_only_its_row(
        writer: ChainWriter, sessions: sessionmaker[Session], network: Network, operator: LocalAccount,
        bank: BankOperator) -> None:
    alice, carol, bob, dave = open_wallets(bank, 4, funds=[10_000, 50])
    block, nonce = _start(network, operator)
    first = relay(network, alice, bob, 100, nonce_bit(0))
    enqueue_rows(sessions, [
        relay_row("R1", first),
        relay_row("R2", relay(network, alice, dave, 200, nonce_bit(1))),
        relay_row("R3-BROKE", relay(network, carol, bob, 500, nonce_bit(0))),  # carol has 50
        relay_row("R4-TWO", relay(network, alice, bob, 10, nonce_bit(2)), relay(network, alice, bob, 20, nonce_bit(3))),
        relay_row("R5-REPLAY", relay(network, alice, dave, 1, nonce_bit(0))),  # R1 used alice's nonce 0
        relay_row("R6-HALF", relay(network, alice, dave, 30, nonce_bit(4)),
                  relay(network, carol, dave, 51, nonce_bit(1))),
    ])

    writer.run(until_idle=True)

    ((tx, attempts),) = chain_txs(sessions)  # six rows, eight items, one relayTransfers transaction
    assert tx.kind == "relay_transfers" and tx.nonce == nonce and len(attempts) == 1
    rows = rows_by_key(sessions)
    assert {k: r.state for k, r in rows.items()} == {
        "R1": OutboxState.CONFIRMED, "R2": OutboxState.CONFIRMED, "R3-BROKE": OutboxState.FAILED,
        "R4-TWO": OutboxState.CONFIRMED, "R5-REPLAY": OutboxState.FAILED, "R6-HALF": OutboxState.FAILED}
    assert rows["R3-BROKE"].last_error == (f"ERC20InsufficientBalance(sender='{carol.address}', balance=50, "
                                           "needed=500)")
    assert rows["R5-REPLAY"].last_error == f"UnorderedNonceUsed(owner='{alice.address}', nonce=0)"
    assert rows["R6-HALF"].last_error == (f"item 1: ERC20InsufficientBalance(sender='{carol.address}', balance=50, "
                                          "needed=51) (1 other item(s) went through)")
    assert {r.tx_hash for r in rows.values()} == {tx.mined_hash}
    assert network.balance(alice) == 10_000 - 100 - 200 - 10 - 20 - 30
    assert network.balance(bob) == 100 + 10 + 20
    assert network.balance(dave) == 200 + 30
    assert network.balance(carol) == 50
    assert_all_written_once(network, sessions, operator.address, nonce)
    assert minted_refs(network, block) == {}


def test_batches_keep_outbox_order_and_respect_the_item_cap(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator) -> None:
    alice, bob = open_wallets(bank, 2, funds=[1_000])
    _, nonce = _start(network, operator)
    enqueue_rows(sessions, [
        relay_row("R1", relay(network, alice, bob, 1, nonce_bit(0))),
        relay_row("R2", relay(network, alice, bob, 2, nonce_bit(1))),
        mint_row("M1", bob, 5),  # a mint between relays splits the batch: effects keep the outbox order
        relay_row("R3", relay(network, alice, bob, 3, nonce_bit(2))),
        relay_row("R4", relay(network, alice, bob, 4, nonce_bit(3)), relay(network, alice, bob, 5, nonce_bit(4))),
        relay_row("R5", relay(network, alice, bob, 6, nonce_bit(5))),
    ])
    small = {**KINDS, "relay_transfers": OutboxKind("relay_transfers", KINDS["relay_transfers"].build, max_items=3,
                                                    count_items=KINDS["relay_transfers"].count_items,
                                                    item_failures=KINDS["relay_transfers"].item_failures)}

    ChainWriter(sessions, network, operator, FAST, kinds=small).run(until_idle=True)

    rows = rows_by_key(sessions)
    assert [rows[k].nonce - nonce for k in ("R1", "R2", "M1", "R3", "R4", "R5")] == [0, 0, 1, 2, 2, 3]  # type: ignore[operator]
    assert all(r.state is OutboxState.CONFIRMED for r in rows.values())
    assert network.balance(bob) == 1 + 2 + 3 + 4 + 5 + 6 + 5
    assert_all_written_once(network, sessions, operator.address, nonce)


# ------------------------------------------------------------------ open_wallet, and pluggable kinds


def test_open_wallet_rows_batch_and_a_bad_one_is_found_by_sending_them_singly(
        writer: ChainWriter, sessions: sessionmaker[Session], network: Network, operator: LocalAccount,
        bank: BankOperator) -> None:
    (existing,) = open_wallets(bank, 1)
    _, nonce = _start(network, operator)
    a, b, c, d = (WalletKey.create() for _ in range(4))
    enqueue_rows(sessions, [("OPEN-A", "open_wallet", {"wallet": a.address, "tier": 2}),
                            ("OPEN-B", "open_wallet", {"wallet": b.address, "wallet_kind": "merchant"})])
    writer.run(until_idle=True)
    ((tx, _),) = chain_txs(sessions)
    assert tx.kind == "open_wallet"  # both in one openWallets call
    assert network.wallet(a).tier == 2 and network.wallet(b).kind is WalletKind.MERCHANT

    enqueue_rows(sessions, [("OPEN-C", "open_wallet", {"wallet": c.address}),
                            ("OPEN-AGAIN", "open_wallet", {"wallet": existing.address}),
                            ("OPEN-D", "open_wallet", {"wallet": d.address, "account_hash": "0x" + "ab" * 32})])
    writer.run(until_idle=True)

    rows = rows_by_key(sessions)
    assert rows["OPEN-AGAIN"].state is OutboxState.FAILED
    assert rows["OPEN-AGAIN"].last_error == f"WalletAlreadyRegistered(wallet='{existing.address}')"
    assert rows["OPEN-C"].state is rows["OPEN-D"].state is OutboxState.CONFIRMED
    assert network.wallet(c).status is network.wallet(d).status is WalletStatus.ACTIVE
    assert network.wallet(d).account_hash == bytes.fromhex("ab" * 32)
    assert_all_written_once(network, sessions, operator.address, nonce)
    assert len(chain_txs(sessions)) == 3


def test_kinds_are_pluggable_and_unknown_kinds_are_left_for_a_writer_that_knows_them(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator) -> None:
    (alice,) = open_wallets(bank, 1)

    def build_freeze(context: Any, payloads: Any) -> Any:
        (payload,) = payloads
        return context.network.registry.functions.freeze(payload["wallet"], payload["reason"])

    kinds = {**KINDS, "freeze": OutboxKind("freeze", build_freeze)}
    enqueue_rows(sessions, [("F-1", "freeze", {"wallet": alice.address, "reason": 3}),
                            ("LATER-1", "a_later_kind", {"merchant": "M-1"})])

    writer = ChainWriter(sessions, network, operator, FAST, kinds=kinds)
    writer.run(until_idle=True)

    rows = rows_by_key(sessions)
    assert rows["F-1"].state is OutboxState.CONFIRMED
    assert network.wallet(alice).status is WalletStatus.FROZEN
    assert rows["LATER-1"].state is OutboxState.RECEIVED  # no encoder here: untouched, and not waited for
    with pytest.raises(ValueError, match="already registered"):
        register_kind(OutboxKind("mint", build_freeze))


# ------------------------------------------------------------------ refused after the estimate (issue 18: 10b, 7)


def _before_broadcast(action: Any) -> Any:
    """A writer checkpoint that runs ``action`` once, after the first transaction is signed and stored and
    before it is broadcast (so it was estimated on the state before ``action``)."""
    done: list[bool] = []

    def checkpoint(point: WriterStep) -> None:
        if point is WriterStep.SIGNED_COMMITTED and not done:
            done.append(True)
            action()
    return checkpoint


def test_an_open_wallet_batch_mined_reverted_is_sent_again_row_by_row(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, system: Any) -> None:
    """Another bank registers one of the batch's addresses after the estimate: the openWallets batch reverts
    on chain, which changed nothing; the rows go again alone and only the taken address fails."""
    a, taken, c = (WalletKey.create() for _ in range(3))
    enqueue_rows(sessions, [(f"OPEN-{i}", "open_wallet", {"wallet": key.address})
                            for i, key in enumerate((a, taken, c))])
    other_bank = network.bank_operator(system.banks["B"].operators[0])

    writer = ChainWriter(sessions, network, operator, FAST,
                         checkpoint=_before_broadcast(lambda: other_bank.open_wallet(taken.address)))
    writer.run(until_idle=True)

    rows = rows_by_key(sessions)
    assert rows["OPEN-0"].state is rows["OPEN-2"].state is OutboxState.CONFIRMED
    assert rows["OPEN-1"].state is OutboxState.FAILED
    assert rows["OPEN-1"].last_error == f"WalletAlreadyRegistered(wallet='{taken.address}')"
    assert network.wallet(a).status is network.wallet(c).status is WalletStatus.ACTIVE
    assert network.wallet(taken).bank_id == system.banks["B"].id  # still the other bank's
    (batch, _), *alone = chain_txs(sessions)
    assert batch.state is ChainTxState.REVERTED and batch.error == rows["OPEN-1"].last_error
    assert [tx.state for tx, _ in alone] == [ChainTxState.MINED, ChainTxState.MINED]  # the bad row: refused at estimate
    assert {rows["OPEN-0"].tx_hash, rows["OPEN-2"].tx_hash} == {tx.mined_hash for tx, _ in alone}
    assert rows["OPEN-0"].attempts == rows["OPEN-2"].attempts == 2


def test_a_mint_whose_ref_was_minted_meanwhile_is_confirmed_with_that_mint(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator) -> None:
    """The same mint made under the same ref between estimate and broadcast (as a node restored from a backup
    may find): the writer's transaction reverts RefAlreadyMinted, and the row is done by the first mint."""
    (alice,) = open_wallets(bank, 1)
    block = network.block_number + 1
    enqueue_rows(sessions, [mint_row("TOPUP-SAME", alice, 1_000)])
    first: list[str] = []

    def the_same_mint() -> None:
        first.append(bank.mint(alice, 1_000, "TOPUP-SAME").tx_hash)

    writer = ChainWriter(sessions, network, operator, FAST, checkpoint=_before_broadcast(the_same_mint))
    writer.run(until_idle=True)

    row = rows_by_key(sessions)["TOPUP-SAME"]
    assert row.state is OutboxState.CONFIRMED and row.tx_hash == first[0]
    ((tx, _),) = chain_txs(sessions)
    assert tx.state is ChainTxState.REVERTED and tx.error is not None and tx.error.startswith("RefAlreadyMinted(")
    assert minted_refs(network, block) == {"TOPUP-SAME": 1}
    assert network.balance(alice) == 1_000


def test_a_ref_used_by_another_mint_fails_the_row(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator) -> None:
    (alice, bob) = open_wallets(bank, 2)
    bank.mint(bob, 5, "CASH-IN-7")  # the ref went to another effect (another wallet and amount)
    enqueue_rows(sessions, [mint_row("CASH-IN-7", alice, 1_000)])

    ChainWriter(sessions, network, operator, FAST).run(until_idle=True)

    row = rows_by_key(sessions)["CASH-IN-7"]
    assert row.state is OutboxState.FAILED
    assert row.last_error is not None and row.last_error.startswith("RefAlreadyMinted(")
    assert chain_txs(sessions) == []  # refused at the estimate: nothing signed
    assert (network.balance(alice), network.balance(bob)) == (0, 5)


# ------------------------------------------------------------------ nonces


def test_a_nonce_taken_by_someone_else_fails_the_rows_and_the_next_row_gets_a_fresh_nonce(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator) -> None:
    alice, bob = open_wallets(bank, 2)
    block, nonce = _start(network, operator)
    enqueue_rows(sessions, [mint_row("CASH-1", alice, 1_000)])

    def use_the_nonce_elsewhere(point: WriterStep) -> None:
        if point is WriterStep.SIGNED_COMMITTED:  # the same key signs elsewhere, before our broadcast
            send_tx(network.w3, operator, {"to": operator.address, "value": 0, "gas": 21_000})

    ChainWriter(sessions, network, operator, FAST, checkpoint=use_the_nonce_elsewhere).run(until_idle=True)
    row = rows_by_key(sessions)["CASH-1"]
    assert row.state is OutboxState.FAILED and row.nonce == nonce
    assert row.last_error == (f"nonce {nonce} was used by a transaction this writer did not sign; none of its "
                              "1 version(s) was mined")
    assert chain_txs(sessions)[0][0].state is ChainTxState.DISPLACED

    enqueue_rows(sessions, [mint_row("CASH-2", bob, 5)])
    ChainWriter(sessions, network, operator, FAST).run(until_idle=True)
    row = rows_by_key(sessions)["CASH-2"]
    assert row.state is OutboxState.CONFIRMED and row.nonce == nonce + 1
    assert minted_refs(network, block) == {"CASH-2": 1}


class LaggingReceipts(Web3.HTTPProvider):
    """An RPC node that counts a mined nonce before it serves the receipt (anvil under load can; so can a load
    balancer in front of nodes at different heights): its first ``hide`` receipt lookups answer null."""

    def __init__(self, url: str, hide: int) -> None:
        super().__init__(url)
        self.hide = hide

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_getTransactionReceipt" and self.hide > 0:
            self.hide -= 1
            return {"jsonrpc": "2.0", "id": 0, "result": None}
        return super().make_request(method, params)


def test_a_receipt_served_late_is_not_taken_for_a_displaced_nonce(
        sessions: sessionmaker[Session], system: Any, operator: LocalAccount, bank: BankOperator) -> None:
    (alice,) = open_wallets(bank, 1)
    provider = LaggingReceipts(system.w3.provider.endpoint_uri, hide=3)
    lagging = Network.from_web3(Web3(provider), system.deployment, verify=False)
    enqueue_rows(sessions, [mint_row("CASH-1", alice, 10)])
    ChainWriter(sessions, lagging, operator, replace(FAST, displaced_after=2.0)).run(until_idle=True)
    assert provider.hide == 0  # the writer did look while the receipt was hidden
    assert rows_by_key(sessions)["CASH-1"].state is OutboxState.CONFIRMED
    assert chain_txs(sessions)[0][0].state is ChainTxState.MINED
    assert lagging.balance(alice) == 10


def test_the_writer_starts_after_nonces_used_outside_it(
        writer: ChainWriter, sessions: sessionmaker[Session], network: Network, operator: LocalAccount,
        bank: BankOperator) -> None:
    (alice,) = open_wallets(bank, 1)
    network.bank_operator(operator).mint(alice, 1, "BY-HAND")  # the same key used by hand first
    _, nonce = _start(network, operator)
    enqueue_rows(sessions, [mint_row("CASH-1", alice, 10)])
    writer.run(until_idle=True)
    assert rows_by_key(sessions)["CASH-1"].nonce == nonce
    assert network.balance(alice) == 11


# ------------------------------------------------------------------ stuck transactions


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_a_stuck_transaction_is_replaced_with_higher_fees_and_the_replacement_is_mined(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator,
        system: Any, manual_mining: None) -> None:
    system.rpc("evm_setAutomine", True)
    (alice,) = open_wallets(bank, 1)
    system.rpc("evm_setAutomine", False)
    block, nonce = _start(network, operator)
    enqueue_rows(sessions, [mint_row("CASH-1", alice, 1_000)])
    clock = Clock()
    writer = ChainWriter(sessions, network, operator, WriterConfig(stuck_after=60), clock=clock)

    writer.run_round()
    clock.advance(59)
    writer.run_round()  # not stuck yet: nothing new
    ((_, attempts),) = chain_txs(sessions)
    assert len(attempts) == 1
    original = attempts[0]
    assert rawtx.is_known(network.w3, original.tx_hash) and rawtx.receipt_of(network.w3, original.tx_hash) is None

    clock.advance(2)
    writer.run_round()  # stuck: replaced, same nonce, higher fees

    ((_, attempts),) = chain_txs(sessions)
    assert len(attempts) == 2
    replacement = attempts[1]
    assert replacement.max_fee_per_gas is not None and original.max_fee_per_gas is not None
    assert replacement.max_fee_per_gas >= original.max_fee_per_gas * 125 // 100
    assert replacement.max_priority_fee_per_gas >= original.max_priority_fee_per_gas * 125 // 100  # type: ignore[operator]
    row = rows_by_key(sessions)["CASH-1"]
    assert (row.state, row.tx_hash, row.nonce, row.attempts) == (OutboxState.SUBMITTED, replacement.tx_hash, nonce, 2)

    system.rpc("evm_mine")
    writer.run_round()

    row = rows_by_key(sessions)["CASH-1"]
    assert (row.state, row.tx_hash) == (OutboxState.CONFIRMED, replacement.tx_hash)
    assert rawtx.receipt_of(network.w3, original.tx_hash) is None
    assert minted_refs(network, block) == {"CASH-1": 1} and network.balance(alice) == 1_000
    assert_all_written_once(network, sessions, operator.address, nonce)


def test_a_transaction_the_node_dropped_is_broadcast_again_as_the_same_bytes(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator,
        system: Any, manual_mining: None) -> None:
    system.rpc("evm_setAutomine", True)
    (alice,) = open_wallets(bank, 1)
    system.rpc("evm_setAutomine", False)
    block, nonce = _start(network, operator)
    enqueue_rows(sessions, [mint_row("CASH-1", alice, 1_000)])
    writer = ChainWriter(sessions, network, operator, FAST)
    writer.run_round()
    row = rows_by_key(sessions)["CASH-1"]
    assert row.tx_hash is not None and rawtx.is_known(network.w3, row.tx_hash)

    system.rpc("anvil_dropTransaction", row.tx_hash)  # as a restarted node with an empty pool
    assert not rawtx.is_known(network.w3, row.tx_hash)
    writer.run_round()
    assert rawtx.is_known(network.w3, row.tx_hash)  # the very same signed bytes are back in the pool
    system.rpc("evm_mine")
    writer.run_round()

    after = rows_by_key(sessions)["CASH-1"]
    assert (after.state, after.tx_hash, after.attempts) == (OutboxState.CONFIRMED, row.tx_hash, 1)
    assert minted_refs(network, block) == {"CASH-1": 1}
    assert_all_written_once(network, sessions, operator.address, nonce)


def test_when_the_original_is_mined_before_its_replacement_the_original_wins(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator,
        system: Any, manual_mining: None) -> None:
    system.rpc("evm_setAutomine", True)
    (alice,) = open_wallets(bank, 1)
    system.rpc("evm_setAutomine", False)
    block, nonce = _start(network, operator)
    enqueue_rows(sessions, [mint_row("CASH-1", alice, 1_000)])
    clock = Clock()
    signed = []

    def mine_the_original_before_the_replacement_is_sent(point: WriterStep) -> None:
        if point is WriterStep.SIGNED_COMMITTED:
            signed.append(point)
            if len(signed) == 2:
                system.rpc("evm_mine")

    writer = ChainWriter(sessions, network, operator, WriterConfig(stuck_after=60), clock=clock,
                         checkpoint=mine_the_original_before_the_replacement_is_sent)
    writer.run_round()
    clock.advance(61)
    writer.run_round()  # replacement stored, original mined meanwhile, broadcast answers "nonce too low"
    writer.run_round()

    ((tx, attempts),) = chain_txs(sessions)
    assert len(attempts) == 2
    row = rows_by_key(sessions)["CASH-1"]
    assert (row.state, row.tx_hash) == (OutboxState.CONFIRMED, attempts[0].tx_hash) == (OutboxState.CONFIRMED,
                                                                                         tx.mined_hash)
    assert rawtx.receipt_of(network.w3, attempts[1].tx_hash) is None
    assert minted_refs(network, block) == {"CASH-1": 1}
    assert_all_written_once(network, sessions, operator.address, nonce)


# ------------------------------------------------------------------ a chain node that goes away


def test_the_writer_rides_out_a_chain_node_that_goes_away_and_comes_back(
        sessions: sessionmaker[Session], network: Network, operator: LocalAccount, bank: BankOperator,
        system: Any, devnet: Any) -> None:
    alice, bob = open_wallets(bank, 2, funds=[1_000])
    block, nonce = _start(network, operator)
    enqueue_rows(sessions, [mint_row("CASH-1", alice, 10), mint_row("CASH-2", bob, 20),
                            relay_row("R1", relay(network, alice, bob, 5, nonce_bit(0))), mint_row("CASH-3", bob, 30)])
    proxy = TcpProxy(devnet.port).start()
    flaky = Network.from_web3(writer_web3(proxy.url, timeout=5), system.deployment, verify=False)
    outages: list[str] = []
    signed = 0

    def node_goes_away(when: str) -> None:
        outages.append(when)
        proxy.stop()  # connections refused, the open ones cut
        threading.Timer(0.3, proxy.start).start()

    def outage_at_checkpoints(point: WriterStep) -> None:
        nonlocal signed
        if point is WriterStep.SIGNED_COMMITTED:
            signed += 1
            if signed == 1:
                node_goes_away("stored, before the broadcast")
        elif point is WriterStep.BROADCAST and signed == 2 and len(outages) == 2:
            node_goes_away("broadcast, before the receipt")

    writer = ChainWriter(sessions, flaky, operator, FAST, checkpoint=outage_at_checkpoints)
    try:
        node_goes_away("before the writer starts")
        thread = threading.Thread(target=writer.run, kwargs={"until_idle": True}, daemon=True)
        thread.start()
        thread.join(60)
        assert not thread.is_alive(), "the writer did not finish"
    finally:
        proxy.stop()

    assert outages == ["before the writer starts", "stored, before the broadcast", "broadcast, before the receipt"]
    assert writer.retries >= 3
    rows = rows_by_key(sessions)
    assert all(r.state is OutboxState.CONFIRMED for r in rows.values()), rows
    assert minted_refs(network, block) == {"CASH-1": 1, "CASH-2": 1, "CASH-3": 1}
    assert (network.balance(alice), network.balance(bob)) == (1_000 + 10 - 5, 20 + 5 + 30)
    assert_all_written_once(network, sessions, operator.address, nonce)
    # three transactions (CASH-1 and CASH-2 in one mintBatch, R1, CASH-3), each the same bytes, never re-signed
    assert [len(attempts) for _, attempts in chain_txs(sessions)] == [1, 1, 1]


# ------------------------------------------------------------------ walletnet writer run


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("WALLETNET_"):
            monkeypatch.delenv(name)


def test_walletnet_writer_run_sends_the_outbox_with_the_operator_key_from_the_settings(
        db_url: str, sessions: sessionmaker[Session], network: Network, operator: LocalAccount,
        bank: BankOperator, system: Any, devnet: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    keystore = WalletKey.from_private_key(bytes(operator.key)).save(tmp_path / "operator.json", "s3cret",
                                                                    scrypt_n=2**10)
    deployment = tmp_path / "deployment.json"
    system.deployment.save(deployment)
    config = tmp_path / "node.toml"
    config.write_text(f'bank_id = "BANKA"\nrpc_url = "{devnet.rpc_url}"\ndeployment_file = "{deployment}"\n'
                      f'db_url = "{db_url}"\noperator_keystore = "{keystore}"\n'
                      'operator_password_env = "WALLETNET_TEST_OPERATOR_PASSWORD"\n')
    monkeypatch.setenv("WALLETNET_TEST_OPERATOR_PASSWORD", "s3cret")
    (alice,) = open_wallets(bank, 1)
    block, nonce = _start(network, operator)
    enqueue_rows(sessions, [mint_row("CASH-1", alice, 1_000), mint_row("CASH-2", alice, 1)])

    result = CliRunner().invoke(app, ["writer", "run", "--config", str(config), "--until-idle"])

    assert result.exit_code == 0, result.output
    assert f"operator {operator.address}" in result.output
    assert "writer idle: nothing left to send or confirm" in result.output
    assert {r.state for r in rows_by_key(sessions).values()} == {OutboxState.CONFIRMED}
    assert minted_refs(network, block) == {"CASH-1": 1, "CASH-2": 1}
    assert_all_written_once(network, sessions, operator.address, nonce)

    config.write_text(f'bank_id = "BANKA"\ndb_url = "{db_url}"\n')
    refused = CliRunner().invoke(app, ["writer", "run", "--config", str(config), "--until-idle"])
    assert refused.exit_code == 2
    assert "set operator_keystore" in refused.output


def test_replacement_fees_are_at_least_a_bump_over_the_last_and_the_current_quote() -> None:
    fees = rawtx.Fees(max_fee_per_gas=2_000, max_priority_fee_per_gas=3)
    assert fees.bumped(25) == rawtx.Fees(max_fee_per_gas=2_500, max_priority_fee_per_gas=4)  # rounded up
    assert rawtx.Fees(gas_price=0).bumped(25) == rawtx.Fees(gas_price=1)  # always at least 1 wei more
    assert fees.bumped(25).at_least(rawtx.Fees(max_fee_per_gas=9_000, max_priority_fee_per_gas=1)) == rawtx.Fees(
        max_fee_per_gas=9_000, max_priority_fee_per_gas=4)
    with pytest.raises(ValueError, match="gas_price alone"):
        rawtx.Fees(max_fee_per_gas=1, max_priority_fee_per_gas=1, gas_price=1)
