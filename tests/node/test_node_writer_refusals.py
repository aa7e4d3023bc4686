"""The chain writer when the chain refuses a row that its estimate let through, on SQLite and PostgreSQL (anvil):
a batch mined reverted sends its rows again one by one (issue 18, finding 10b); a refusal that says the row's
own effect was made already confirms the row with the transaction that made it, and any other use of the ref
fails it (finding 7)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy.orm import Session, sessionmaker
from writer_support import FAST, chain_txs, enqueue_rows, mint_row, minted_refs, open_wallets, rows_by_key

from node.outbox import OutboxState
from node.writer import ChainTxState, ChainWriter, Checkpoint
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator
from wallet_sdk.chain.types import WalletStatus
from wallet_sdk.keys import WalletKey


@pytest.fixture
def network(system: Any) -> Network:
    return Network.from_web3(system.w3, system.deployment, verify=False)


@pytest.fixture
def operator(system: Any) -> LocalAccount:
    """The writer's key: bank A's first operator."""
    account: LocalAccount = system.banks["A"].operators[0]
    return account


@pytest.fixture
def bank(network: Network, system: Any) -> BankOperator:
    """Bank A's second operator: what happens on chain between the writer's estimate and its broadcast."""
    return network.bank_operator(system.banks["A"].operators[1])


def _before_broadcast(action: Any) -> Any:
    """A writer checkpoint that runs ``action`` once, after the first transaction is signed and stored and
    before it is broadcast (so it was estimated on the state before ``action``)."""
    done: list[bool] = []

    def checkpoint(point: Checkpoint) -> None:
        if point is Checkpoint.SIGNED_COMMITTED and not done:
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
