"""Decoded events of walletnet's four contracts: iterate a block range, or follow new ones from a checkpoint.

Both use plain ``eth_getLogs`` over block ranges (no filters, no subscriptions), so they work on any
JSON-RPC node, and yield :class:`Event` objects in chain order (block number, then log index).

Checkpoints: every event has a :attr:`~Event.position` ``(block_number, log_index)``. Store the position
of the last event you processed; ``follow(network, position)`` resumes right after it, with no
duplicate and no gap, even when the restart happens halfway through a block. An int checkpoint means
"every event up to and including this block is done" (``on_scanned`` reports such blocks while idle).

Logs whose event this SDK's ABIs do not know (a contract upgraded beyond this SDK) are skipped: upgrade the
SDK together with the contracts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, Final, NamedTuple, Protocol, cast, overload

from eth_abi.abi import encode as abi_encode
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.types import LogReceipt, TxReceipt

from wallet_sdk._abi_words import abi_type, decode_word, decode_words
from wallet_sdk.addresses import eip55
from wallet_sdk.artifacts import load_artifact
from wallet_sdk.chain.rpc import raw_request
from wallet_sdk.chain.types import (
    BankStatus,
    BurnReason,
    MerchantStatus,
    PayoutMode,
    WalletKind,
    WalletStatus,
)
from wallet_sdk.deploy import Deployment
from wallet_sdk.exceptions import UnknownEventError

__all__ = [
    "CONTRACTS",
    "DEFAULT_CHUNK_SIZE",
    "Event",
    "EventPosition",
    "EventSource",
    "ReceiptEvents",
    "UnknownEventError",
    "decode_logs",
    "decode_receipt",
    "event_names",
    "follow",
    "iter_events",
]

CONTRACTS: Final = ("Consortium", "WalletRegistry", "DigitalCash", "MerchantSettlement")
DEFAULT_CHUNK_SIZE: Final = 2_000
"""Blocks per eth_getLogs request; a range the node refuses as too large is split in halves."""

_ENUMS: Final[dict[str, Any]] = {
    "enum IConsortium.BankStatus": BankStatus,
    "enum IWalletRegistry.WalletKind": WalletKind,
    "enum IDigitalCash.BurnReason": BurnReason,
    "enum IMerchantSettlement.PayoutMode": PayoutMode,
    "enum IMerchantSettlement.MerchantStatus": MerchantStatus,
}
# uint8 arguments that carry an enum's values without the enum type in the ABI
_ENUM_ARGS: Final[dict[tuple[str, str], Any]] = {("WalletStateSet", "status"): WalletStatus}
# how nodes say a log query is too big (geth, Besu, Erigon, hosted RPCs); other errors are raised as they are
_TOO_MUCH: Final = ("block range", "too many", "too large", "more than", "limit exceeded", "exceeds", "response size",
                    "timeout", "timed out")


class EventSource(Protocol):
    """What reading events needs of a :class:`~wallet_sdk.chain.network.Network`: its connection, its contracts'
    addresses and its deployment block. (A Protocol, so this module does not import the network module, which
    reads settlement batches through it.)"""

    @property
    def w3(self) -> Web3: ...

    @property
    def addresses(self) -> Mapping[str, ChecksumAddress]: ...

    @property
    def deployment(self) -> Deployment: ...


class EventPosition(NamedTuple):
    """Where an event sits in the chain; positions order like the chain does."""

    block_number: int
    log_index: int


@dataclass(frozen=True, eq=True)
class Event:
    """One decoded event. ``args`` are keyed by the Solidity argument names; addresses are checksummed,
    ids bytes, amounts ints, enums the SDK's IntEnums. An indexed ``string``/``bytes`` argument is its
    keccak256 hash (that is all a log keeps of it)."""

    contract: str
    name: str
    args: Mapping[str, Any] = field(hash=False)
    block_number: int
    tx_hash: str
    log_index: int
    address: ChecksumAddress
    block_hash: str = field(default="", compare=False)

    @property
    def position(self) -> EventPosition:
        return EventPosition(self.block_number, self.log_index)

    def __getitem__(self, key: str) -> Any:
        return self.args[key]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={'0x' + v.hex() if isinstance(v, bytes) else v!r}" for k, v in self.args.items())
        return f"<{self.contract}.{self.name}({shown}) block={self.block_number} log={self.log_index}>"


@dataclass(frozen=True)
class _EventAbi:
    contract: str
    name: str
    topic: bytes
    inputs: tuple[dict[str, Any], ...]

    def topic_position(self, arg: str) -> tuple[int, str] | None:
        """(topic index 1-3, ABI type) of an indexed argument."""
        position = 0
        for item in self.inputs:
            if item.get("indexed"):
                position += 1
                if item["name"] == arg:
                    return position, abi_type(item)
        return None


@cache
def _abis() -> dict[str, dict[bytes, _EventAbi]]:
    """contract name -> topic0 -> event ABI."""
    table: dict[str, dict[bytes, _EventAbi]] = {}
    for contract in CONTRACTS:
        events: dict[bytes, _EventAbi] = {}
        for item in load_artifact(contract)["abi"]:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            signature = f"{item['name']}({','.join(abi_type(p) for p in item['inputs'])})"
            topic = keccak(text=signature)
            events[topic] = _EventAbi(contract, item["name"], topic, tuple(item["inputs"]))
        table[contract] = events
    return table


def event_names(contract: str | None = None) -> list[str]:
    """The event names of one contract (or of all four), sorted."""
    contracts = CONTRACTS if contract is None else (contract,)
    return sorted({e.name for c in contracts for e in _abis()[c].values()})


@lru_cache(maxsize=65_536)
def _checksum(address: str) -> ChecksumAddress:
    """EIP-55 form of an address, remembered: the same few thousand wallets recur in every range of logs, and
    each checksum is a keccak (most of a catch-up's decoding time before this cache)."""
    return cast(ChecksumAddress, eip55(address))


def _bytes(value: Any) -> bytes:
    """A log field as bytes, whether it came raw from the node (0x-hex text) or formatted by web3 (HexBytes)."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def _int(value: Any) -> int:
    """A log field as an int, raw (0x-hex quantity) or formatted by web3 (int)."""
    return int(value, 16) if isinstance(value, str) else int(value)


def _hex(value: Any) -> str:
    """A hash as lower-case 0x-hex text, raw or formatted by web3."""
    return value.lower() if isinstance(value, str) else HexBytes(value).to_0x_hex()


def _value(item: dict[str, Any], event: str, raw: Any) -> Any:
    typ = abi_type(item)
    if typ == "address":
        return _checksum(raw)
    if typ == "address[]":
        return tuple(_checksum(v) for v in raw)
    enum = _ENUMS.get(item.get("internalType", "")) or _ENUM_ARGS.get((event, item["name"]))
    if enum is not None:
        try:
            return enum(raw)
        except ValueError:
            return int(raw)
    if isinstance(raw, list):
        return tuple(raw)
    return raw


def _decode_args(abi: _EventAbi, log: Mapping[str, Any]) -> dict[str, Any]:
    topics = [_bytes(t) for t in log["topics"][1:]]
    indexed = [i for i in abi.inputs if i.get("indexed")]
    plain = [i for i in abi.inputs if not i.get("indexed")]
    values: dict[str, Any] = {}
    for item, topic in zip(indexed, topics, strict=True):
        typ = abi_type(item)
        if typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("("):
            values[item["name"]] = topic  # a log keeps only the hash of an indexed dynamic value
        else:
            values[item["name"]] = _value(item, abi.name, decode_word(typ, topic))
    decoded = decode_words([abi_type(i) for i in plain], _bytes(log["data"]))
    for item, raw in zip(plain, decoded, strict=True):
        values[item["name"]] = _value(item, abi.name, raw)
    return {i["name"]: values[i["name"]] for i in abi.inputs}  # declaration order


def decode_logs(network: EventSource, logs: Iterable[LogReceipt | Mapping[str, Any]]) -> list[Event]:
    """Decode the logs of the deployment's four contracts (others, and unknown events, are skipped). A log may be
    web3's (a receipt's) or the node's raw JSON (:func:`iter_events` asks for those: formatting them is slow)."""
    by_address = {address.lower(): name for name, address in network.addresses.items()}
    events: list[Event] = []
    for log in logs:
        address = str(log["address"]).lower()
        contract = by_address.get(address)
        if contract is None or not log["topics"]:
            continue
        abi = _abis()[contract].get(_bytes(log["topics"][0]))
        if abi is None:
            continue
        block_hash = log.get("blockHash")
        events.append(Event(
            contract=contract, name=abi.name, args=_decode_args(abi, log), block_number=_int(log["blockNumber"]),
            tx_hash=_hex(log["transactionHash"]), log_index=_int(log["logIndex"]), address=_checksum(address),
            block_hash=_hex(block_hash) if block_hash is not None else "",
        ))
    events.sort(key=lambda e: e.position)
    return events


def decode_receipt(network: EventSource, receipt: TxReceipt) -> list[Event]:
    """The decoded events of one transaction, in log order."""
    return decode_logs(network, receipt["logs"])


class ReceiptEvents(Sequence[Event]):
    """The decoded events of one transaction, decoded when first read: a chain writer hands them to every row's
    completion, and most completions (a batch of 250 wallet openings: 500 events) never read them."""

    def __init__(self, network: EventSource, receipt: TxReceipt) -> None:
        self._network = network
        self._receipt: TxReceipt | None = receipt
        self._decoded: tuple[Event, ...] | None = None

    @property
    def _events(self) -> tuple[Event, ...]:
        if self._decoded is None:
            assert self._receipt is not None
            self._decoded = tuple(decode_receipt(self._network, self._receipt))
            self._receipt = None
        return self._decoded

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Event, ...]: ...

    def __getitem__(self, index: int | slice) -> Event | tuple[Event, ...]:
        return self._events[index]

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __repr__(self) -> str:
        return f"ReceiptEvents({'not decoded' if self._decoded is None else len(self._decoded)})"


def _selection(names: Sequence[str] | None, contracts: Sequence[str] | None) -> list[_EventAbi]:
    chosen = list(CONTRACTS if contracts is None else contracts)
    for contract in chosen:
        if contract not in CONTRACTS:
            raise UnknownEventError(contract, f"not a walletnet contract (one of {', '.join(CONTRACTS)})")
    selected = [abi for c in chosen for abi in _abis()[c].values()]
    if names is None:
        return selected
    if isinstance(names, str):
        raise UnknownEventError(names, "pass a list of event names, not one string")
    wanted = set(names)
    missing = wanted - {abi.name for abi in selected}
    if missing:
        raise UnknownEventError(sorted(missing)[0], f"no such event in {', '.join(chosen)}")
    return [abi for abi in selected if abi.name in wanted]


def _indexed_topics(selected: list[_EventAbi], indexed: Mapping[str, Any]) -> list[Any]:
    """eth_getLogs topics 1-3 for filters on indexed arguments (same slot in every selected event)."""
    slots: list[Any] = [None, None, None]
    for arg, value in indexed.items():
        places = {abi.topic_position(arg) for abi in selected}
        if None in places or len(places) != 1:
            raise UnknownEventError(arg, "filter on an argument indexed at the same position in every selected event")
        place = places.pop()
        assert place is not None
        position, typ = place
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        slots[position - 1] = [HexBytes(abi_encode([typ], [_filter_value(typ, v)])).to_0x_hex() for v in values]
    while slots and slots[-1] is None:
        slots.pop()
    return slots


def _filter_value(typ: str, value: Any) -> Any:
    address = getattr(value, "address", None)  # a WalletKey or an account
    if typ == "address":
        return to_checksum_address(address if isinstance(address, str) else value)
    return value


def _get_logs(network: EventSource, params: dict[str, Any], start: int, end: int) -> list[dict[str, Any]]:
    """eth_getLogs over [start, end] as the node's raw JSON, halving the range when the node says it is too much.

    The request goes to the provider directly and its answer is checked by web3 (an error raises
    ``Web3RPCError`` as usual) but not formatted: web3's formatting and middlewares took most of a catch-up's
    time, and :func:`decode_logs` reads the raw fields itself."""
    query = [{**params, "fromBlock": hex(start), "toBlock": hex(end)}]
    try:
        return list(raw_request(network.w3, "eth_getLogs", query))
    except (Web3RPCError, ValueError) as exc:
        if start == end or not any(word in str(exc).lower() for word in _TOO_MUCH):
            raise
    middle = (start + end) // 2
    return _get_logs(network, params, start, middle) + _get_logs(network, params, middle + 1, end)


def iter_events(network: EventSource, from_block: int | None = None, to_block: int | None = None,
                names: Sequence[str] | None = None, *, contracts: Sequence[str] | None = None,
                indexed: Mapping[str, Any] | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[Event]:
    """Decoded events in ``[from_block, to_block]`` (default: deployment block to the current head).

    ``names`` keeps only those events; ``contracts`` only those contracts' events; ``indexed`` filters on
    indexed arguments on the node's side (``{"merchantId": mid}``, or a list of accepted values). Each
    eth_getLogs call spans at most ``chunk_size`` blocks.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    selected = _selection(names, contracts)
    start = network.deployment.block if from_block is None else from_block
    end = network.w3.eth.block_number if to_block is None else to_block
    if start < 0 or end < 0:
        raise ValueError(f"block numbers must be >= 0, got {start}..{end}")
    if not selected or start > end:
        return
    addresses = sorted({network.addresses[abi.contract] for abi in selected})
    topics: list[Any] = [sorted({HexBytes(abi.topic).to_0x_hex() for abi in selected})]
    topics += _indexed_topics(selected, indexed or {})
    params = {"address": addresses, "topics": topics}
    wanted = {(abi.contract, abi.name) for abi in selected}
    for chunk_start in range(start, end + 1, chunk_size):
        chunk_end = min(chunk_start + chunk_size - 1, end)
        for event in decode_logs(network, _get_logs(network, params, chunk_start, chunk_end)):
            if (event.contract, event.name) in wanted:  # same topic in two contracts (LimitsSet, Upgraded)
                yield event


def follow(network: EventSource, checkpoint: int | EventPosition | Event, *, confirmations: int = 0,
           poll_interval: float = 2.0, names: Sequence[str] | None = None,
           contracts: Sequence[str] | None = None, indexed: Mapping[str, Any] | None = None,
           chunk_size: int = DEFAULT_CHUNK_SIZE, until: int | None = None,
           stop: threading.Event | None = None,
           on_scanned: Callable[[int], None] | None = None) -> Iterator[Event]:
    """Yield the events after ``checkpoint``, forever, by polling the node every ``poll_interval`` seconds.

    ``checkpoint`` is a block number (every event up to and including that block is done), or the
    :attr:`~Event.position` (or the :class:`Event`) last processed. Only blocks at least ``confirmations``
    deep are read, so a shallow reorganisation cannot make you process an event that then disappears.
    ``until`` stops after that block is scanned; setting ``stop`` ends the generator at its next poll.
    ``on_scanned(block)`` is called whenever every event up to ``block`` has been yielded, so an indexer
    can advance its checkpoint through quiet blocks too.
    """
    if isinstance(checkpoint, Event):
        checkpoint = checkpoint.position
    if isinstance(checkpoint, EventPosition):
        position = checkpoint
        next_block = checkpoint.block_number  # the rest of that block may still be due
    else:
        if isinstance(checkpoint, bool) or not isinstance(checkpoint, int) or checkpoint < -1:
            raise ValueError(f"checkpoint must be a block number, an EventPosition or an Event, not {checkpoint!r}")
        position = EventPosition(checkpoint, 2**63)
        next_block = checkpoint + 1
    if confirmations < 0:
        raise ValueError(f"confirmations must be >= 0, got {confirmations}")
    _selection(names, contracts)  # fail now, not at the first poll
    while True:
        head = network.w3.eth.block_number - confirmations
        if until is not None:
            head = min(head, until)
        if head >= next_block:
            for event in iter_events(network, next_block, head, names, contracts=contracts, indexed=indexed,
                                     chunk_size=chunk_size):
                if event.position <= position:
                    continue
                position = event.position
                yield event
            next_block = head + 1
            if on_scanned is not None:
                on_scanned(head)
        if until is not None and next_block > until:
            return
        if stop is not None:
            if stop.wait(poll_interval):
                return
        else:
            time.sleep(poll_interval)
