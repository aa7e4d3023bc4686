"""Finding the transaction that already made an outbox row's effect ("done before").

A row can be sent again after its effect was mined: a node restored from an older database backup has the
row as ``received`` again, and a customer's signed transfer may have been relayed by someone else first.
The contracts refuse the repeat (a bank's mint, redemption, refund and settlement refs are used once:
``RefAlreadyMinted``, ``RefAlreadyBurned``, ``RefAlreadyRefunded``, ``RefAlreadySettled``; a relay nonce once:
``UnorderedNonceUsed``). Each outbox kind that can meet such a refusal asks here for the transaction that
made the row's own effect: the same ref (or nonce) with the same wallet, amount and counterparty. Found,
the writer confirms the row with that transaction's hash and events, so the operation completes once, with
the amounts the chain recorded; not found (the ref was used by a different effect), the row fails with the
refusal as before.

The look-ups filter ``eth_getLogs`` on the events' indexed arguments from the deployment block on; they run
only after such a refusal, never on the normal path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from wallet_sdk.chain.events import Event, decode_receipt, iter_events
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.types import BurnReason
from wallet_sdk.rawtx import receipt_of

__all__ = ["DoneBefore", "burned_before", "minted_before", "refunded_before", "relayed_before", "settled_before"]

LOOKUP_CHUNK: Final = 100_000
"""Blocks per eth_getLogs request of a look-up (the SDK halves a range the node refuses as too large)."""


@dataclass(frozen=True)
class DoneBefore:
    """The mined transaction that made a row's effect: its hash, block and decoded events (what a completion
    reads, e.g. a settlement's ``MerchantSettled``)."""

    tx_hash: str
    block_number: int
    events: tuple[Event, ...]


def _done_by(network: Network, event: Event) -> DoneBefore | None:
    receipt = receipt_of(network.w3, event.tx_hash)
    if receipt is None or receipt["status"] != 1:  # a log of a reorganised-away block
        return None
    return DoneBefore(event.tx_hash, int(receipt["blockNumber"]), tuple(decode_receipt(network, receipt)))


def _events(network: Network, contract: str, name: str, indexed: Mapping[str, Any]) -> Iterator[Event]:
    return iter_events(network, names=[name], contracts=[contract], indexed=indexed, chunk_size=LOOKUP_CHUNK)


def minted_before(network: Network, bank_id: bytes, ref: bytes, wallet: ChecksumAddress,
                  amount: int) -> DoneBefore | None:
    """The mint of ``amount`` into ``wallet`` that ``bank_id`` made under ``ref``, if that is what the ref did."""
    for event in _events(network, "DigitalCash", "Minted", {"wallet": wallet, "bankId": bank_id, "ref": ref}):
        if event["amount"] == amount:
            return _done_by(network, event)
    return None


def burned_before(network: Network, bank_id: bytes, ref: bytes, wallet: ChecksumAddress, amount: int,
                  reason: BurnReason) -> DoneBefore | None:
    """The burn of ``amount`` from ``wallet`` for ``reason`` that ``bank_id`` made under ``ref``, if any."""
    for event in _events(network, "DigitalCash", "Burned", {"wallet": wallet, "bankId": bank_id, "ref": ref}):
        if event["amount"] == amount and event["reason"] == reason:
            return _done_by(network, event)
    return None


def settled_before(network: Network, acquirer: bytes, merchant_id: bytes, ref: bytes) -> DoneBefore | None:
    """The settlement of ``merchant_id`` that ``acquirer`` made under ``ref``, if any."""
    for event in _events(network, "MerchantSettlement", "MerchantSettled",
                         {"merchantId": merchant_id, "acquirer": acquirer}):
        if bytes(event["ref"]) == ref:
            return _done_by(network, event)
    return None


def refunded_before(network: Network, acquirer: bytes, merchant_id: bytes, order_id: bytes, ref: bytes,
                    amount: int) -> DoneBefore | None:
    """The refund of ``amount`` of ``merchant_id``'s order ``order_id`` that ``acquirer`` made under ``ref``, if
    that is what the ref did."""
    for event in _events(network, "MerchantSettlement", "OrderRefunded",
                         {"merchantId": merchant_id, "orderId": order_id, "acquirer": acquirer}):
        if bytes(event["ref"]) == ref and event["amount"] == amount:
            return _done_by(network, event)
    return None


def _relay_items(network: Network, tx_hash: str) -> Sequence[Mapping[str, Any]]:
    """The RelayedTransfer items of a ``relayTransfers`` transaction, by field name (empty for any other call)."""
    sent = network.w3.eth.get_transaction(HexBytes(tx_hash))
    if sent.get("to") != network.token.address:
        return ()
    try:
        function, args = network.token.decode_function_input(sent["input"])
    except ValueError:  # not a call of the token's ABI
        return ()
    return list(args["items"]) if function.fn_name == "relayTransfers" else ()


def relayed_before(network: Network, from_: ChecksumAddress, to: ChecksumAddress, value: int,
                   nonce: int) -> DoneBefore | None:
    """The relay of ``from_``'s RelayedTransfer of ``value`` to ``to`` with bitmap ``nonce``, by whichever
    relayer sent it: the ``relayTransfers`` transaction with a Transfer(from_, to, value) whose item of that
    nonce went through (a nonce is used by one item only, so that item is this transfer)."""
    seen: set[str] = set()
    for event in _events(network, "DigitalCash", "Transfer", {"from": from_, "to": to}):
        if event["value"] != value or event.tx_hash in seen:
            continue
        seen.add(event.tx_hash)
        for index, item in enumerate(_relay_items(network, event.tx_hash)):
            if (to_checksum_address(item["from"]), item["nonce"]) != (from_, nonce):
                continue
            done = _done_by(network, event)
            refused = done is None or any(e.name == "RelayFailed" and e["index"] == index for e in done.events)
            if not refused and (to_checksum_address(item["to"]), item["value"]) == (to, value):
                return done
    return None
