"""Build, sign locally and send a transaction, then wait for its receipt.

Kept private: the public surface (chain bindings with nonce management) comes with the SDK.
"""

from __future__ import annotations

from typing import Any, cast

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import TxParams, TxReceipt

from wallet_sdk.exceptions import TransactionFailedError


def send_call(w3: Web3, account: LocalAccount, call: ContractFunction, *, gas: int | None = None,
              timeout: float = 60.0) -> TxReceipt:
    """Send a contract call signed by ``account``. Reverts raise web3's ContractCustomError at estimation."""
    params: dict[str, Any] = {"from": account.address}
    if gas is not None:
        params["gas"] = gas
    tx = call.build_transaction(cast(TxParams, params))  # estimates gas: a revert surfaces here with its data
    return send_tx(w3, account, tx, timeout=timeout)


def send_tx(w3: Web3, account: LocalAccount, tx: dict[str, Any] | Any, *, timeout: float = 60.0) -> TxReceipt:
    tx = dict(tx)
    tx.setdefault("from", account.address)
    tx.setdefault("chainId", w3.eth.chain_id)
    tx.setdefault("nonce", w3.eth.get_transaction_count(account.address, "pending"))
    if "gas" not in tx:
        tx["gas"] = w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
    if "gasPrice" not in tx and "maxFeePerGas" not in tx:
        tx["gasPrice"] = w3.eth.gas_price
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
    if receipt["status"] != 1:
        raise TransactionFailedError(tx_hash.to_0x_hex(), receipt)
    return receipt


def deploy_bytecode(w3: Web3, account: LocalAccount, abi: list[dict[str, Any]], bytecode: str,
                    *args: Any) -> str:
    """Deploy a contract; return its address."""
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    tx = factory.constructor(*args).build_transaction({"from": account.address})
    receipt = send_tx(w3, account, tx)
    address = receipt["contractAddress"]
    assert address is not None
    return str(address)
