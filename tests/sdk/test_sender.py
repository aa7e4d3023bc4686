"""TransactionSender on the real anvil: concurrent sends from one account, nonce resync, fees, gas margin,
typed reverts at estimation and from mined failures, timeouts, and refusals."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from wallet_sdk._sender import PendingTransaction, TransactionSender
from wallet_sdk.artifacts import load_artifact
from wallet_sdk.authorizations import new_nonce
from wallet_sdk.chain.network import Network
from wallet_sdk.exceptions import (
    ContractRevertError,
    InvalidArgumentError,
    TransactionRejectedError,
    TransactionTimeoutError,
    UnknownRevert,
)
from wallet_sdk.keys import WalletKey
from wallet_sdk.reverts import NotCustodianOperator, WalletAlreadyRegistered

THREADS, PER_THREAD = 20, 5


@pytest.fixture
def network(system: Any) -> Network:
    return Network.from_web3(system.w3, system.deployment)


@pytest.fixture
def bank_account(system: Any) -> LocalAccount:
    account: LocalAccount = system.banks["A"].operators[1]
    return account


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    return w3.provider.make_request(method, list(params)).get("result")  # type: ignore[arg-type]


@pytest.fixture
def manual_mining(system: Any) -> Iterator[None]:
    """Switch the chain's automine off for one test (the session chain gets it back whatever happens)."""
    system.set_automine(False)
    try:
        yield
    finally:
        system.set_automine(True)
        rpc(system.w3, "evm_mine")


def open_wallet(network: Network, sender: TransactionSender) -> str:
    wallet: str = Account.create().address
    bank = network.bank_of_operator(sender.address)
    sender.send(network.registry.functions.openWallet(wallet, bank, 1, 0, bytes(32)))
    return wallet


def test_many_threads_one_account(network: Network, bank_account: LocalAccount) -> None:
    sender = network.sender(bank_account)
    wallet = open_wallet(network, sender)
    start = network.w3.eth.get_transaction_count(sender.address)
    receipts: list[Any] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def work() -> None:
        barrier.wait()
        for _ in range(PER_THREAD):
            try:
                receipt = sender.send(network.token.functions.mint(wallet, 1, new_nonce()))
            except BaseException as exc:
                with lock:
                    failures.append(exc)
                return
            with lock:
                receipts.append(receipt)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    total = THREADS * PER_THREAD
    assert len(receipts) == total
    assert all(r["status"] == 1 for r in receipts)
    hashes = {r["transactionHash"] for r in receipts}
    assert len(hashes) == total
    nonces = sorted(network.w3.eth.get_transaction(h)["nonce"] for h in hashes)
    assert nonces == list(range(start, start + total))  # contiguous, no duplicate, no gap
    assert network.w3.eth.get_transaction_count(sender.address) == start + total
    assert sender.next_nonce == start + total
    assert network.balance(wallet) == total


def test_revert_at_estimation_is_typed_and_uses_no_nonce(network: Network, bank_account: LocalAccount) -> None:
    sender = network.sender(bank_account)
    wallet = open_wallet(network, sender)
    before = sender.next_nonce
    count = network.w3.eth.get_transaction_count(sender.address)
    with pytest.raises(WalletAlreadyRegistered) as caught:
        sender.send(network.registry.functions.openWallet(wallet, network.bank_of_operator(sender.address), 1, 0,
                                                           bytes(32)))
    assert caught.value.wallet == wallet
    assert (caught.value.tx_hash, caught.value.receipt) == (None, None)
    assert sender.next_nonce == before
    assert network.w3.eth.get_transaction_count(sender.address) == count


def test_mined_failure_is_replayed_for_its_typed_revert(network: Network, bank_account: LocalAccount) -> None:
    sender = network.sender(bank_account)
    stranger = Account.create().address
    pending = sender.submit(network.token.functions.mint(stranger, 5, new_nonce()), gas=300_000)  # no estimate
    with pytest.raises(NotCustodianOperator) as caught:
        sender.wait(pending)
    error = caught.value
    assert (error.caller, error.wallet) == (sender.address, stranger)
    assert error.tx_hash == pending.tx_hash
    assert error.receipt["status"] == 0
    assert error.receipt["transactionHash"].to_0x_hex() == pending.tx_hash
    assert network.w3.eth.get_transaction_count(sender.address) == pending.nonce + 1  # the nonce was used


def test_out_of_gas_is_an_unknown_revert_with_its_receipt(network: Network, bank_account: LocalAccount) -> None:
    sender = network.sender(bank_account)
    wallet = open_wallet(network, sender)
    with pytest.raises(UnknownRevert) as caught:
        sender.send(network.token.functions.mint(wallet, 5, new_nonce()), gas=30_000)
    assert isinstance(caught.value, ContractRevertError)
    assert caught.value.name == "Unknown"
    assert caught.value.receipt["status"] == 0
    assert caught.value.receipt["gasUsed"] <= 30_000
    assert caught.value.tx_hash is not None


def test_nonce_used_behind_the_senders_back_is_resynced(network: Network, bank_account: LocalAccount) -> None:
    sender = network.sender(bank_account)
    wallet = open_wallet(network, sender)
    stale = sender.next_nonce
    assert stale is not None
    # another process with the same key sends a transaction: the sender's counter is now too low
    other = TransactionSender(network.w3, bank_account)
    other.send(network.token.functions.mint(wallet, 1, new_nonce()))
    assert sender.next_nonce == stale
    receipt = sender.send(network.token.functions.mint(wallet, 2, new_nonce()))
    assert network.w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == stale + 1
    assert sender.next_nonce == stale + 2


@pytest.mark.anvil_only(reason="ganache 7 takes and mines a second transaction with a pending one's nonce "
                               "(trufflesuite/ganache#3794): there is no refusal to resync on")
@pytest.mark.usefixtures("manual_mining")
def test_pending_transaction_with_the_same_nonce_is_resynced(network: Network, bank_account: LocalAccount,
                                                             system: Any) -> None:
    sender = network.sender(bank_account)
    first = sender.submit({"to": system.accounts[0].address, "value": 1})
    assert network.w3.eth.get_transaction_count(sender.address) == first.nonce  # still in the mempool
    sender._nonce = first.nonce  # as if the sender had lost track (restarted)
    second = sender.submit({"to": system.accounts[0].address, "value": 2})  # replacement underpriced -> resync
    assert second.nonce == first.nonce + 1
    rpc(network.w3, "evm_mine")
    assert sender.wait(first)["status"] == 1
    assert sender.wait(second)["status"] == 1


@pytest.mark.usefixtures("manual_mining")
def test_receipt_timeout_then_wait_again(network: Network, bank_account: LocalAccount, system: Any) -> None:
    sender = network.sender(bank_account)
    pending = sender.submit({"to": system.accounts[0].address, "value": 1})
    with pytest.raises(TransactionTimeoutError) as caught:
        sender.wait(pending, timeout=0.3)
    assert caught.value.tx_hash == pending.tx_hash
    assert isinstance(caught.value, TimeoutError)
    rpc(network.w3, "evm_mine")
    assert sender.wait(pending.tx_hash)["status"] == 1


def test_fees_and_gas_margin(network: Network, bank_account: LocalAccount, system: Any) -> None:
    auto = TransactionSender(network.w3, bank_account, gas_margin=50)
    wallet = open_wallet(network, auto)
    call = network.token.functions.mint(wallet, 1, b"\x01" * 32)
    estimate = network.w3.eth.estimate_gas(dict(auto.build(call)))  # type: ignore[arg-type]
    assert auto.estimate_gas(auto.build(call)) == estimate * 150 // 100
    receipt = auto.send(call)
    sent = network.w3.eth.get_transaction(receipt["transactionHash"])
    assert sent["type"] == 2  # EIP-1559: anvil's blocks have a base fee
    assert sent["gas"] == estimate * 150 // 100
    assert sent["maxPriorityFeePerGas"] == network.w3.eth.max_priority_fee

    legacy = TransactionSender(network.w3, bank_account, fee_mode="legacy")
    sent = network.w3.eth.get_transaction(legacy.send({"to": system.accounts[0].address, "value": 1})
                                          ["transactionHash"])
    assert sent["type"] == 0
    fixed = TransactionSender(network.w3, bank_account, gas_price=3 * 10**9)
    sent = network.w3.eth.get_transaction(fixed.send({"to": system.accounts[0].address, "value": 1})
                                          ["transactionHash"])
    assert (sent["type"], sent["gasPrice"]) == (0, 3 * 10**9)


def test_refused_transaction_keeps_the_nonce(network: Network, bank_account: LocalAccount, system: Any) -> None:
    free_gas = TransactionSender(network.w3, bank_account, gas_price=0)  # below anvil's base fee
    nonce = free_gas.resync_nonce()
    with pytest.raises(TransactionRejectedError) as caught:
        free_gas.send({"to": system.accounts[0].address, "value": 1})
    assert caught.value.nonce == nonce
    assert free_gas.next_nonce == nonce  # not consumed: the next transaction takes it
    free_gas.gas_price = None
    free_gas.fee_mode = "auto"
    receipt = free_gas.send({"to": system.accounts[0].address, "value": 1})
    assert network.w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == nonce


def test_account_without_ether(network: Network, system: Any) -> None:
    broke = TransactionSender(network.w3, WalletKey.create())
    with pytest.raises(TransactionRejectedError) as caught:
        broke.send({"to": system.accounts[0].address, "value": 1})
    assert "insufficient funds" in caught.value.reason.lower()


def test_wallet_key_signs_and_deploys(network: Network, system: Any) -> None:
    key = WalletKey.create()
    TransactionSender(network.w3, system.accounts[0]).send({"to": key.address, "value": 10**18})
    sender = TransactionSender(network.w3, key)
    artifact = load_artifact("PlainToken", test=True)
    address = sender.deploy(artifact["abi"], artifact["bytecode"])
    token = network.w3.eth.contract(address=address, abi=artifact["abi"])
    assert token.functions.symbol().call() == "PLAIN"
    receipt = sender.send(token.functions.mint(key.address, 77))
    assert receipt["from"] == key.address
    assert token.functions.balanceOf(key.address).call() == 77
    assert repr(sender) == f"TransactionSender(address='{key.address}')"
    assert key.export_private_key()[2:] not in repr(sender)
    assert isinstance(sender.submit({"to": key.address, "value": 0}), PendingTransaction)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"account": "0xabc"}, "account"),
    ({"gas_margin": -1}, "gas_margin"),
    ({"gas_margin": 1.5}, "gas_margin"),
    ({"fee_mode": "cheap"}, "fee_mode"),
    ({"gas_price": -1}, "gas_price"),
])
def test_bad_options(system: Any, kwargs: dict[str, Any], field: str) -> None:
    account = kwargs.pop("account", system.accounts[0])
    with pytest.raises(InvalidArgumentError) as caught:
        TransactionSender(system.w3, account, **kwargs)
    assert caught.value.field == field
