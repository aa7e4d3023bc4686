"""Signed transactions as bytes: sign a contract call with an explicit nonce and fees without sending it,
broadcast stored bytes, and read back what the chain did with them.

For callers that must record a transaction before it leaves the process: the bank node's chain writer
commits the signed bytes and their hash, then broadcasts them, and after a crash broadcasts the very same
bytes again. :class:`~wallet_sdk._sender.TransactionSender` stays the simple path for everyone else.

Every function here talks JSON-RPC through the given ``Web3``; when the node cannot be reached (connection
refused or reset, a timeout, an HTTP error from a proxy) it raises
:class:`~wallet_sdk.exceptions.NodeConnectionError`, which is always safe to retry.

>>> request = call_request(w3, token.functions.mint(wallet, 1_000, ref), operator.address)  # doctest: +SKIP
>>> signed = sign_request(operator, request, nonce=7, fees=fee_quote(w3))                  # doctest: +SKIP
>>> broadcast(w3, signed.raw)                                                                # doctest: +SKIP
<BroadcastResult.ACCEPTED: 'accepted'>
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, cast

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import BlockIdentifier, TxParams, TxReceipt

from wallet_sdk._sender import _rpc_message, calldata, replay_revert, revert_from
from wallet_sdk.chain.rpc import raw_request
from wallet_sdk.exceptions import (
    ContractRevertError,
    InvalidArgumentError,
    NodeConnectionError,
    TransactionRejectedError,
)
from wallet_sdk.keys import WalletKey

__all__ = [
    "BroadcastResult",
    "CallRequest",
    "Fees",
    "SignedRawTransaction",
    "block_number",
    "bounded_request",
    "broadcast",
    "call_request",
    "fee_quote",
    "is_known",
    "nonce_of",
    "receipt_of",
    "revert_of",
    "sign_request",
]

# How nodes (geth, Besu, anvil) word the answers to a broadcast that are not failures of the transaction.
_KNOWN: Final = ("already known", "known transaction", "already imported", "already in pool")
_NONCE_USED: Final = ("nonce too low", "nonce has already been used", "oldnonce")
_UNDERPRICED: Final = ("replacement transaction underpriced", "replacement fee too low", "underpriced")


@contextmanager
def _node(w3: Web3) -> Iterator[None]:
    """Turn "cannot talk to the node" (requests' errors are OSErrors) into NodeConnectionError."""
    try:
        yield
    except OSError as exc:
        url = str(getattr(w3.provider, "endpoint_uri", "") or "")
        raise NodeConnectionError(url, type(exc).__name__) from exc


@dataclass(frozen=True)
class Fees:
    """What a transaction pays per gas: EIP-1559 (``max_fee_per_gas`` + ``max_priority_fee_per_gas``) or
    a legacy ``gas_price``, in wei."""

    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    gas_price: int | None = None

    def __post_init__(self) -> None:
        eip1559 = self.max_fee_per_gas is not None and self.max_priority_fee_per_gas is not None
        legacy = self.gas_price is not None
        if eip1559 == legacy or (self.max_fee_per_gas is None) != (self.max_priority_fee_per_gas is None):
            raise InvalidArgumentError("fees", self, "give max_fee_per_gas and max_priority_fee_per_gas, "
                                                     "or gas_price alone")
        for value in (self.max_fee_per_gas, self.max_priority_fee_per_gas, self.gas_price):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise InvalidArgumentError("fees", self, "fees are ints of wei >= 0")

    @property
    def is_eip1559(self) -> bool:
        return self.gas_price is None

    def tx_fields(self) -> dict[str, int]:
        """The fee fields of a transaction dict."""
        if self.gas_price is not None:
            return {"gasPrice": self.gas_price}
        assert self.max_fee_per_gas is not None and self.max_priority_fee_per_gas is not None
        return {"maxFeePerGas": self.max_fee_per_gas, "maxPriorityFeePerGas": self.max_priority_fee_per_gas}

    def bumped(self, percent: int) -> Fees:
        """Every fee raised by ``percent`` (rounded up, and by at least 1 wei): a replacement's fees."""
        def up(value: int | None) -> int | None:
            return None if value is None else max(value + 1, -(-value * (100 + percent) // 100))

        return Fees(up(self.max_fee_per_gas), up(self.max_priority_fee_per_gas), up(self.gas_price))

    def at_least(self, other: Fees) -> Fees:
        """Each fee the higher of the two (``other`` of the other fee kind is ignored)."""
        if self.is_eip1559 != other.is_eip1559:
            return self
        if self.gas_price is not None:
            return Fees(gas_price=max(self.gas_price, cast(int, other.gas_price)))
        return Fees(max(cast(int, self.max_fee_per_gas), cast(int, other.max_fee_per_gas)),
                    max(cast(int, self.max_priority_fee_per_gas), cast(int, other.max_priority_fee_per_gas)))


@dataclass(frozen=True)
class CallRequest:
    """What a transaction does, before it has a nonce and fees: ``value`` wei and ``data`` sent to ``to``
    with at most ``gas`` gas on chain ``chain_id``."""

    chain_id: int
    to: ChecksumAddress
    data: bytes
    gas: int
    value: int = 0


@dataclass(frozen=True)
class SignedRawTransaction:
    """A signed transaction: the bytes to broadcast and the hash it will be mined under."""

    raw: bytes
    tx_hash: str
    nonce: int
    fees: Fees


class BroadcastResult(StrEnum):
    """How the node answered a broadcast that did not fail."""

    ACCEPTED = "accepted"  # taken into the node's pool
    ALREADY_KNOWN = "already_known"  # the node already has this very transaction
    NONCE_USED = "nonce_used"  # a transaction with this nonce was mined already (this one, or another)
    UNDERPRICED = "underpriced"  # another transaction with this nonce waits in the pool and pays as much or more


def call_request(w3: Web3, call: ContractFunction, sender: str, *, gas_margin: int = 20,
                 block: BlockIdentifier = "latest") -> CallRequest:
    """The :class:`CallRequest` of a contract call from ``sender``, with the node's gas estimate plus
    ``gas_margin`` percent. A call that would revert raises its typed
    :class:`~wallet_sdk.exceptions.ContractRevertError` (nothing is signed, no nonce is used)."""
    if call.address is None:
        raise InvalidArgumentError("call", call, "a contract call with an address")
    if isinstance(gas_margin, bool) or not isinstance(gas_margin, int) or gas_margin < 0:
        raise InvalidArgumentError("gas_margin", gas_margin, "a percentage: an int >= 0")
    to = to_checksum_address(call.address)
    data = bytes(HexBytes(calldata(call)))
    params = {"from": to_checksum_address(sender), "to": to, "data": data, "value": 0}
    with _node(w3):
        try:
            estimate = int(w3.eth.estimate_gas(cast(TxParams, params), block))
        except ContractLogicError as exc:
            raise revert_from(exc) from None
        except Web3RPCError as exc:  # e.g. the sender cannot pay for gas
            raise TransactionRejectedError(_rpc_message(exc)) from None
        chain_id = int(w3.eth.chain_id)
    return CallRequest(chain_id=chain_id, to=to, data=data, gas=estimate * (100 + gas_margin) // 100)


def bounded_request(w3: Web3, call: ContractFunction, sender: str, gas: int, *, chain_id: int,
                    block: BlockIdentifier = "latest") -> CallRequest:
    """The :class:`CallRequest` of a contract call from ``sender`` with ``gas`` given by the caller (who knows a
    bound of what it costs): the call is run once (``eth_call``) to refuse one that would revert, where an
    estimate runs it several times over (a node searches for the least gas that works). A call that would
    revert raises its typed :class:`~wallet_sdk.exceptions.ContractRevertError` (nothing is signed)."""
    if call.address is None:
        raise InvalidArgumentError("call", call, "a contract call with an address")
    to = to_checksum_address(call.address)
    data = bytes(HexBytes(calldata(call)))
    params = {"from": to_checksum_address(sender), "to": to, "data": data, "value": 0, "gas": gas}
    with _node(w3):
        try:
            w3.eth.call(cast(TxParams, params), block)
        except ContractLogicError as exc:
            raise revert_from(exc) from None
        except Web3RPCError as exc:
            raise TransactionRejectedError(_rpc_message(exc)) from None
    return CallRequest(chain_id=chain_id, to=to, data=data, gas=gas)


def fee_quote(w3: Web3) -> Fees:
    """Fees for a transaction now: EIP-1559 (twice the latest base fee plus the node's suggested tip) when
    blocks have a base fee, else the node's legacy gas price."""
    with _node(w3):
        base = w3.eth.get_block("latest").get("baseFeePerGas")
        if base is None:
            return Fees(gas_price=int(w3.eth.gas_price))
        try:
            tip = int(w3.eth.max_priority_fee)
        except (Web3RPCError, ValueError):  # nodes without eth_maxPriorityFeePerGas
            tip = 0
    return Fees(max_fee_per_gas=2 * int(base) + tip, max_priority_fee_per_gas=tip)


def sign_request(account: LocalAccount | WalletKey, request: CallRequest, nonce: int,
                 fees: Fees) -> SignedRawTransaction:
    """Sign ``request`` with ``nonce`` and ``fees``, locally; nothing is sent."""
    if isinstance(nonce, bool) or not isinstance(nonce, int) or nonce < 0:
        raise InvalidArgumentError("nonce", nonce, "an int >= 0")
    tx: dict[str, Any] = {"chainId": request.chain_id, "to": request.to, "data": request.data,
                          "value": request.value, "gas": request.gas, "nonce": nonce, **fees.tx_fields()}
    if fees.is_eip1559:
        tx["type"] = 2
    signed = account.sign_transaction(tx)
    return SignedRawTransaction(raw=bytes(signed.raw_transaction), tx_hash=HexBytes(signed.hash).to_0x_hex(),
                                nonce=nonce, fees=fees)


def broadcast(w3: Web3, raw: bytes) -> BroadcastResult:
    """Hand signed bytes to the node (``eth_sendRawTransaction``); safe to repeat with the same bytes.

    Raises:
        TransactionRejectedError: the node refused the transaction for another reason (funds for gas...).
        NodeConnectionError: the node could not be reached; it may or may not have the transaction.
    """
    with _node(w3):
        try:
            w3.eth.send_raw_transaction(raw)
        except Web3RPCError as exc:
            message = _rpc_message(exc)
            lowered = message.lower()
            if any(m in lowered for m in _KNOWN):
                return BroadcastResult.ALREADY_KNOWN
            if any(m in lowered for m in _NONCE_USED):
                return BroadcastResult.NONCE_USED
            if any(m in lowered for m in _UNDERPRICED):
                return BroadcastResult.UNDERPRICED
            raise TransactionRejectedError(message) from None
    return BroadcastResult.ACCEPTED


def receipt_of(w3: Web3, tx_hash: str) -> TxReceipt | None:
    """The receipt of a mined transaction, or None while it is not mined (or unknown). Its numbers
    (``blockNumber``, ``status``, ``gasUsed``...) are ints; its ``logs`` stay the node's raw JSON, which
    :func:`~wallet_sdk.chain.events.decode_logs` reads: web3's formatting of a batch's hundreds of logs cost more
    than the request (a bulk enrolment's batch of 200 openings has 400)."""
    with _node(w3):
        raw = raw_request(w3, "eth_getTransactionReceipt", [tx_hash])
    if not raw or raw.get("blockNumber") is None:
        return None
    numbers = {k: int(v, 16) for k, v in raw.items() if k in _RECEIPT_NUMBERS and isinstance(v, str)}
    return cast(TxReceipt, {**raw, **numbers})


_RECEIPT_NUMBERS: Final = frozenset({"blockNumber", "status", "gasUsed", "cumulativeGasUsed", "effectiveGasPrice",
                                     "transactionIndex", "type"})


def is_known(w3: Web3, tx_hash: str) -> bool:
    """True if the node has the transaction, mined or waiting in its pool."""
    with _node(w3):
        try:
            w3.eth.get_transaction(HexBytes(tx_hash))
        except TransactionNotFound:
            return False
    return True


def nonce_of(w3: Web3, address: str, block: BlockIdentifier = "latest") -> int:
    """The account's transaction count at ``block``: with "latest", the next nonce that can be mined; with
    "pending", counting the node's pool too."""
    with _node(w3):
        return int(w3.eth.get_transaction_count(to_checksum_address(address), block))


def block_number(w3: Web3) -> int:
    with _node(w3):
        return int(w3.eth.block_number)


def revert_of(w3: Web3, tx_hash: str, receipt: Mapping[str, Any]) -> ContractRevertError:
    """The typed revert of a mined transaction with status 0 (:func:`wallet_sdk._sender.replay_revert`), with
    the node's failures raised as this module's errors."""
    with _node(w3):
        return replay_revert(w3, tx_hash, cast(TxReceipt, receipt))
