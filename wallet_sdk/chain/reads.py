"""Reads of many wallets (or many transactions) at once, for reconciliation: hand-encoded ``eth_call``s in
JSON-RPC batches (:func:`~wallet_sdk.chain.rpc.raw_batch`).

Read one at a time through web3, a wallet's two balances cost about 3 ms of client CPU (web3's call path,
formatters and one HTTP round trip each), which at ten million wallets is hours. Here the call data is the
four-byte selector and the address word, and the answer one 32-byte word: the client's work per wallet is a
few string operations, and a batch of a thousand calls is one HTTP request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from eth_utils.crypto import keccak

from wallet_sdk.chain.rpc import raw_batch
from wallet_sdk.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from wallet_sdk.chain.network import Network

__all__ = ["CALLS_PER_BATCH", "mined_many", "wallet_balances"]

CALLS_PER_BATCH: Final = 1_000
"""JSON-RPC calls per HTTP request: big enough that the round trip is noise, small enough for any node's limit."""


def _selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


_BALANCE_OF: Final = _selector("balanceOf(address)")
_HELD_BALANCE: Final = _selector("heldBalance(address)")


def _address_word(wallet: str) -> str:
    """The ABI word of a 0x-hex address (as the chain's events and the node's tables give them: no checksum is
    computed, which would cost more than the call)."""
    if not isinstance(wallet, str) or len(wallet) != 42 or not wallet.startswith("0x"):
        raise InvalidArgumentError("wallet", wallet, "expected a 0x-hex address")
    return "000000000000000000000000" + wallet[2:].lower()


def _word(result: Any, what: str) -> int:
    if not isinstance(result, str) or not result.startswith("0x") or len(result) != 66:
        raise ValueError(f"{what}: expected one 32-byte word, the node answered {result!r}")
    return int(result, 16)


def wallet_balances(network: Network, wallets: Iterable[str], block: int, *,
                    per_batch: int = CALLS_PER_BATCH) -> dict[str, tuple[int, int]]:
    """``{wallet: (balanceOf, heldBalance)}`` of every wallet at ``block``, two calls a wallet, ``per_batch``
    calls a request."""
    token = network.addresses["DigitalCash"]
    at = hex(block)
    ordered = list(wallets)
    found: dict[str, tuple[int, int]] = {}
    step = max(1, per_batch // 2)
    for start in range(0, len(ordered), step):
        chunk = ordered[start:start + step]
        requests: list[tuple[str, list[Any]]] = []
        for wallet in chunk:
            word = _address_word(wallet)
            requests.append(("eth_call", [{"to": token, "data": _BALANCE_OF + word}, at]))
            requests.append(("eth_call", [{"to": token, "data": _HELD_BALANCE + word}, at]))
        results = raw_batch(network.w3, requests)
        for i, wallet in enumerate(chunk):
            found[wallet] = (_word(results[2 * i], f"balanceOf({wallet})"),
                             _word(results[2 * i + 1], f"heldBalance({wallet})"))
    return found


def mined_many(network: Network, tx_hashes: Sequence[str], *,
               per_batch: int = CALLS_PER_BATCH) -> dict[str, tuple[int, int] | None]:
    """``{tx hash: (status, block number)}`` of each mined transaction (status 1 succeeded, 0 reverted); None for
    one the node has no receipt of. The raw receipts: only these two fields are read."""
    found: dict[str, tuple[int, int] | None] = {}
    for start in range(0, len(tx_hashes), per_batch):
        chunk = list(tx_hashes[start:start + per_batch])
        results = raw_batch(network.w3, [("eth_getTransactionReceipt", [h]) for h in chunk])
        for tx_hash, receipt in zip(chunk, results, strict=True):
            found[tx_hash] = None if not receipt or receipt.get("blockNumber") is None else (
                int(receipt["status"], 16), int(receipt["blockNumber"], 16))
    return found
