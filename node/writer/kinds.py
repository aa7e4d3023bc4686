"""Outbox kinds: how the payloads of outbox rows of one kind become one contract call.

The calls themselves are built by the SDK's encoder (:mod:`wallet_sdk.chain.encoder`), the same that
``BankOperator`` sends with; a kind only reads its rows' JSON payloads into the encoder's typed arguments (and
writes them: :func:`relay_payload`, :func:`redeem_payload`, ...), says how rows batch, which items of a mined
batch failed, and whether a refusal means the row was done before.

A kind is registered once (:func:`register_kind`) and the writer looks rows up by their ``kind``. Rows of a
batchable kind that follow each other in the outbox go into one call, as long as their items fit in
``max_items``; ``item_failures`` then tells which items of the mined call failed, so that exactly their rows
are marked failed. Built in:

``mint``
    ``{"wallet": "0x...", "amount": 1234, "ref": "CASH-IN-0001"}``: ``DigitalCash.mint``; ``ref`` is text
    of at most 32 bytes or 0x + 64 hex digits. One row per transaction (the contract has no batch mint).
``relay_transfers``
    ``{"transfers": [item, ...]}`` of signed RelayedTransfers (:func:`relay_item` makes an item): many
    rows go into one ``DigitalCash.relayTransfers``; a failing item is reported in a RelayFailed event and
    fails its row only.
``open_wallet``
    ``{"wallet": "0x...", "tier": 1, "wallet_kind": "personal", "account_hash": "0x..."}`` (tier,
    wallet_kind and account_hash optional): ``WalletRegistry.openWallet``, or ``openWallets`` for several
    rows. That batch reverts as a whole on one bad item; the writer then submits its rows one by one.
``set_tier`` / ``bind_account`` / ``freeze`` / ``unfreeze`` / ``close_wallet``
    ``{"wallet": "0x...", "tier": 2}``, ``{"wallet", "account_hash": "0x..."}``, ``{"wallet", "reason": 7}``,
    ``{"wallet"}``, ``{"wallet", "ref"}``: the WalletRegistry call of that name (closing burns the rest).
``redeem``
    :func:`redeem_payload`: ``DigitalCash.redeemWithAuthorization`` of a signed Redemption, with ``ref``
    and ``amount`` (= the authorization's value, for reconciliation).
``place_hold`` / ``capture_hold`` / ``release_hold``
    :func:`hold_payload` (a signed HoldAuthorization), ``{"hold_id", "ref", "amount"}``, ``{"hold_id"}``:
    the DigitalCash hold calls of an ATM cash-out.
``register_merchant`` / ``set_fee_wallet``
    :func:`merchant_terms_payload`, ``{"wallet"}``: the MerchantSettlement calls of that name.
``merchant_pay``
    :func:`merchant_pay_payload` (a payer's signed MerchantPayment): many rows go into one
    ``MerchantSettlement.payBatch``; a refused payment is reported in a PaymentFailed event and fails its
    row only (an order already paid, an expired authorization ...).
``refund_order`` / ``settle_merchant``
    ``{"merchant_id", "order_id", "amount", "ref"}``, ``{"merchant_id", "ref"}``: ``refund`` and ``settle``.

Payloads may carry more fields than their kind reads (``operation`` and ``step`` name the flow a row
belongs to; see :mod:`node.operations.models`).

A kind may recognise its own effect in a refusal (``done_before``): a ``mint``, ``redeem``, ``refund_order`` or
``settle_merchant`` row whose ref the contract says was used already, or a one-transfer ``relay_transfers``
row whose nonce was, is done if the chain holds that very effect (:mod:`node.writer.evidence`); the writer
then confirms the row with the transaction that made it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

from eth_typing import ChecksumAddress
from web3.contract.contract import ContractFunction

from node.errors import NodeError
from node.writer.evidence import (
    DoneBefore,
    burned_before,
    minted_before,
    refunded_before,
    relayed_before,
    settled_before,
)
from wallet_sdk.authorizations import (
    HoldAuthorization,
    MerchantPayment,
    Redemption,
    RelayedTransfer,
    SignedAuthorization,
    split_signature,
)
from wallet_sdk.chain import encoder
from wallet_sdk.chain.args import to_address, to_bytes32
from wallet_sdk.chain.encoder import PaymentItem, RelayItem
from wallet_sdk.chain.events import Event
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.types import BurnReason, PayoutMode, WalletKind, WalletOpening
from wallet_sdk.exceptions import ContractRevertError
from wallet_sdk.reverts import (
    NotBankOperator,
    RefAlreadyBurned,
    RefAlreadyMinted,
    RefAlreadyRefunded,
    RefAlreadySettled,
    UnorderedNonceUsed,
)

__all__ = [
    "BATCH_BASE_GAS",
    "KINDS",
    "InvalidPayloadError",
    "OutboxKind",
    "Payload",
    "WriterContext",
    "hold_payload",
    "merchant_pay_payload",
    "merchant_terms_payload",
    "redeem_payload",
    "register_kind",
    "relay_item",
    "relay_payload",
]

Payload = Mapping[str, Any]
_HEX32: Final = re.compile(r"0x[0-9a-fA-F]{64}")


class InvalidPayloadError(NodeError, ValueError):
    """An outbox row's payload cannot become a contract call (a service wrote something wrong: internal)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"payload field {field!r}: {reason}")


class WriterContext:
    """What encoders may need besides the payloads: the network and the writer's operator (and its bank)."""

    def __init__(self, network: Network, operator: ChecksumAddress) -> None:
        self.network = network
        self.operator = operator

    @cached_property
    def bank_id(self) -> bytes:
        """The operator's bank (read from the Consortium once)."""
        bank = self.network.bank_of_operator(self.operator)
        if bank is None:
            raise NotBankOperator(caller=self.operator)
        return bank


Builder = Callable[[WriterContext, Sequence[Payload]], ContractFunction]
"""``build(context, payloads)``: the contract call that writes the rows' payloads on chain."""


def _one_item(_payload: Payload) -> int:
    return 1


def _no_item_failures(_context: WriterContext, _events: Sequence[Event]) -> dict[int, ContractRevertError]:
    return {}


def _never_done(_context: WriterContext, _payload: Payload, _error: ContractRevertError) -> DoneBefore | None:
    return None


@dataclass(frozen=True)
class OutboxKind:
    """How rows of kind ``name`` are written on chain.

    ``build(context, payloads)`` returns the contract call carrying the payloads' items in order (raise
    :class:`InvalidPayloadError` for a bad payload); ``count_items(payload)`` says how many items of that
    call a payload makes; ``max_items`` caps the items of one call (1: no batching);
    ``item_failures(context, events)`` maps the index of each failed item of a mined call to its typed error;
    ``done_before(context, payload, error)`` gives the transaction that already made the row's own effect
    when ``error`` (a refusal of the row, or of its only item) says it was done, else None.

    ``gas_per_item``: an upper bound of the gas one item costs (tests/node/test_node_writer_gas.py checks it
    against the costliest item). A kind that has one sends a call of several items with that much gas per item
    (plus :data:`BATCH_BASE_GAS`), checked by running it once (``eth_call``) instead of asking the node for an
    estimate, which runs a call several times over while it searches for the least gas that works.
    """

    name: str
    build: Builder
    max_items: int = 1
    count_items: Callable[[Payload], int] = field(default=_one_item)
    item_failures: Callable[[WriterContext, Sequence[Event]], dict[int, ContractRevertError]] = field(
        default=_no_item_failures)
    done_before: Callable[[WriterContext, Payload, ContractRevertError], DoneBefore | None] = field(
        default=_never_done)
    gas_per_item: int | None = None


BATCH_BASE_GAS: Final = 100_000
"""Gas of a batch call besides its items (the transaction's 21,000, calldata, the operator check)."""

KINDS: dict[str, OutboxKind] = {}
"""The registry the writer uses by default: kind name -> :class:`OutboxKind`."""


def register_kind(kind: OutboxKind, *, replace: bool = False) -> OutboxKind:
    """Add ``kind`` to :data:`KINDS` (a second kind of the same name is refused unless ``replace``)."""
    if kind.name in KINDS and not replace:
        raise ValueError(f"outbox kind {kind.name!r} is already registered")
    if kind.max_items < 1:
        raise ValueError("max_items must be at least 1")
    KINDS[kind.name] = kind
    return kind


# ------------------------------------------------------------------ payload fields


def _field(payload: Payload, name: str) -> Any:
    if not isinstance(payload, Mapping):
        raise InvalidPayloadError("$", "expected a JSON object")
    if name not in payload:
        raise InvalidPayloadError(name, "missing")
    return payload[name]


def _address(payload: Payload, name: str) -> ChecksumAddress:
    value = _field(payload, name)
    try:
        return to_address(value, name)
    except ValueError as exc:
        raise InvalidPayloadError(name, str(exc)) from None


def _uint(value: object, name: str, *, positive: bool = False, bits: int = 256) -> int:
    """An int, or a decimal string for values JSON readers may not keep exact (256-bit nonces)."""
    if isinstance(value, str) and value.isdecimal():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
        raise InvalidPayloadError(name, f"expected an integer from 0 to 2**{bits} - 1, got {value!r}")
    if positive and value == 0:
        raise InvalidPayloadError(name, "must be positive")
    return value


def _bytes32(value: object, name: str) -> bytes:
    """0x + 64 hex digits, or a text id of 1-32 UTF-8 bytes (as the SDK makes order ids)."""
    if isinstance(value, str) and _HEX32.fullmatch(value):
        return bytes.fromhex(value[2:])
    try:
        return to_bytes32(value, name)
    except ValueError as exc:
        raise InvalidPayloadError(name, str(exc)) from None


def _vrs(payload: Payload) -> tuple[int, bytes, bytes]:
    """The holder's signature of a signed-authorization payload."""
    return (_uint(_field(payload, "v"), "v", bits=8), _bytes32(_field(payload, "r"), "r"),
            _bytes32(_field(payload, "s"), "s"))


_Reader = Callable[[Payload], Any]
"""Reads one argument of a contract call from a row's payload (raising :class:`InvalidPayloadError`)."""


def _address_at(name: str) -> _Reader:
    return lambda payload: _address(payload, name)


def _uint_at(name: str, *, bits: int = 256) -> _Reader:
    return lambda payload: _uint(_field(payload, name), name, bits=bits)


def _bytes32_at(name: str) -> _Reader:
    return lambda payload: _bytes32(_field(payload, name), name)


def _one_call(encode: Callable[..., ContractFunction], *arguments: _Reader) -> Builder:
    """The ``build`` of a kind whose row is one payload, one call: ``encode(network, *arguments read from it)``."""

    def build(context: WriterContext, payloads: Sequence[Payload]) -> ContractFunction:
        (payload,) = payloads
        return encode(context.network, *(read(payload) for read in arguments))

    return build


# ------------------------------------------------------------------ mint


def _build_mint(context: WriterContext, payloads: Sequence[Payload]) -> ContractFunction:
    """One row: ``mint``; several (a round's ATM cash-ins and top-ups): one ``mintBatch``, all or nothing, so
    a refused item makes the writer send the rows one by one and only that row fails."""
    items = [(_address(p, "wallet"), _uint(_field(p, "amount"), "amount", positive=True),
              _bytes32(_field(p, "ref"), "ref")) for p in payloads]
    if len(items) == 1:
        return encoder.mint(context.network, *items[0])
    return encoder.mint_batch(context.network, items)


def _own_ref(context: WriterContext, payload: Payload, bank_id: bytes, ref: bytes) -> bool:
    """The refusal names this writer's bank and the row's own ref."""
    return bank_id == context.bank_id and ref == _bytes32(_field(payload, "ref"), "ref")


def _mint_done_before(context: WriterContext, payload: Payload, error: ContractRevertError) -> DoneBefore | None:
    if not isinstance(error, RefAlreadyMinted) or not _own_ref(context, payload, error.bankId, error.ref):
        return None
    return minted_before(context.network, error.bankId, error.ref, _address(payload, "wallet"),
                         _uint(_field(payload, "amount"), "amount"))


# ------------------------------------------------------------------ relay_transfers


def relay_item(signed: SignedAuthorization[RelayedTransfer]) -> dict[str, Any]:
    """A signed RelayedTransfer as a JSON item of a ``relay_transfers`` payload (the nonce as a decimal
    string: it is a 256-bit number)."""
    auth = signed.authorization
    if not isinstance(auth, RelayedTransfer):
        raise TypeError("expected a signed RelayedTransfer")
    return {"from": auth.from_, "to": auth.to, "value": auth.value, "valid_before": auth.valid_before,
            "nonce": str(auth.nonce), "v": signed.v, "r": "0x" + signed.r.hex(), "s": "0x" + signed.s.hex()}


def relay_payload(transfers: Sequence[SignedAuthorization[RelayedTransfer]]) -> dict[str, Any]:
    """The payload of a ``relay_transfers`` outbox row."""
    return {"transfers": [relay_item(t) for t in transfers]}


def _relay_items(payload: Payload) -> list[Mapping[str, Any]]:
    items = _field(payload, "transfers")
    if not isinstance(items, list) or not items:
        raise InvalidPayloadError("transfers", "expected a non-empty list")
    if not all(isinstance(item, Mapping) for item in items):
        raise InvalidPayloadError("transfers", "items must be objects")
    return items


def _relay_item(item: Mapping[str, Any], where: str) -> RelayItem:
    """An item of a ``relay_transfers`` payload, read back (:func:`relay_item` wrote it)."""
    return RelayItem(_address(item, "from"), _address(item, "to"), _uint(_field(item, "value"), f"{where}.value"),
                     _uint(_field(item, "valid_before"), f"{where}.valid_before"),
                     _uint(_field(item, "nonce"), f"{where}.nonce"), _uint(_field(item, "v"), f"{where}.v", bits=8),
                     _bytes32(_field(item, "r"), f"{where}.r"), _bytes32(_field(item, "s"), f"{where}.s"))


def _build_relay(context: WriterContext, payloads: Sequence[Payload]) -> ContractFunction:
    items = [_relay_item(item, f"transfers[{i}]") for payload in payloads
             for i, item in enumerate(_relay_items(payload))]
    return encoder.relay_transfers(context.network, items)


def _relay_failures(_context: WriterContext, events: Sequence[Event]) -> dict[int, ContractRevertError]:
    return encoder.relay_failures(events)


def _relay_done_before(context: WriterContext, payload: Payload, error: ContractRevertError) -> DoneBefore | None:
    """A one-transfer row whose nonce was used: done if that nonce went to this very transfer (another bank,
    or anyone, relayed the customer's signed transfer first)."""
    items = _relay_items(payload)
    if not isinstance(error, UnorderedNonceUsed) or len(items) != 1:
        return None
    item = _relay_item(items[0], "transfers[0]")
    if (error.owner, error.nonce) != (item.from_, item.nonce):
        return None
    return relayed_before(context.network, item.from_, item.to, item.value, item.nonce)


# ------------------------------------------------------------------ open_wallet


def _opening(payload: Payload) -> WalletOpening:
    kind_name = payload.get("wallet_kind", "personal") if isinstance(payload, Mapping) else None
    try:
        kind = WalletKind[str(kind_name).upper()]
    except KeyError:
        raise InvalidPayloadError("wallet_kind", f"expected personal or merchant, got {kind_name!r}") from None
    if kind is WalletKind.SYSTEM:
        raise InvalidPayloadError("wallet_kind", "system wallets are opened by the network operator")
    tier = _uint(payload.get("tier", 1), "tier", bits=8)
    account_hash = _bytes32(payload.get("account_hash", "0x" + "00" * 32), "account_hash")
    return WalletOpening(_address(payload, "wallet"), tier, kind, account_hash)


def _build_open_wallet(context: WriterContext, payloads: Sequence[Payload]) -> ContractFunction:
    openings = [_opening(p) for p in payloads]
    if len(openings) == 1:
        (one,) = openings
        return encoder.open_wallet(context.network, one.wallet, context.bank_id, tier=one.tier, kind=one.kind,
                                   account_hash=one.account_hash)
    return encoder.open_wallets(context.network, context.bank_id, openings)


# gas_per_item: the costliest item measured (tests/node/test_node_writer_gas.py) was about 51,000 gas for a mint
# to a wallet that never held money, 47,000 for a payer's first relayed payment to such a wallet, 100,000 for an
# opening bound to a bank account; each bound leaves a margin
register_kind(OutboxKind("mint", _build_mint, max_items=100, done_before=_mint_done_before, gas_per_item=100_000))
register_kind(OutboxKind("relay_transfers", _build_relay, max_items=100, gas_per_item=100_000,
                         count_items=lambda payload: len(_relay_items(payload)), item_failures=_relay_failures,
                         done_before=_relay_done_before))
register_kind(OutboxKind("open_wallet", _build_open_wallet, max_items=250, gas_per_item=120_000))


# ------------------------------------------------------------------ wallet administration


_WALLET: Final = _address_at("wallet")

for _kind in (OutboxKind("set_tier", _one_call(encoder.set_tier, _WALLET, _uint_at("tier", bits=8))),
              OutboxKind("bind_account", _one_call(encoder.bind_account, _WALLET, _bytes32_at("account_hash"))),
              OutboxKind("freeze", _one_call(encoder.freeze, _WALLET, _uint_at("reason", bits=16))),
              OutboxKind("unfreeze", _one_call(encoder.unfreeze, _WALLET)),
              OutboxKind("close_wallet", _one_call(encoder.close_wallet, _WALLET, _bytes32_at("ref")))):
    register_kind(_kind)


# ------------------------------------------------------------------ redemption and holds


def _signature(signed: SignedAuthorization[Any]) -> dict[str, Any]:
    return {"v": signed.v, "r": "0x" + signed.r.hex(), "s": "0x" + signed.s.hex()}


def redeem_payload(signed: SignedAuthorization[Redemption], ref: str) -> dict[str, Any]:
    """The payload of a ``redeem`` row: the signed Redemption, the ref the burn carries, and its amount."""
    auth = signed.authorization
    if not isinstance(auth, Redemption):
        raise TypeError("expected a signed Redemption")
    return {"holder": auth.holder, "value": auth.value, "valid_before": auth.valid_before,
            "nonce": "0x" + auth.nonce.hex(), **_signature(signed), "ref": ref, "amount": auth.value}


def _build_redeem(context: WriterContext, payloads: Sequence[Payload]) -> ContractFunction:
    (p,) = payloads
    return encoder.redeem_with_authorization(
        context.network, _address(p, "holder"), _uint(_field(p, "value"), "value", positive=True),
        _uint(_field(p, "valid_before"), "valid_before"), _bytes32(_field(p, "nonce"), "nonce"),
        _bytes32(_field(p, "ref"), "ref"), *_vrs(p))


def _redeem_done_before(context: WriterContext, payload: Payload, error: ContractRevertError) -> DoneBefore | None:
    if not isinstance(error, RefAlreadyBurned) or not _own_ref(context, payload, error.bankId, error.ref):
        return None
    return burned_before(context.network, error.bankId, error.ref, _address(payload, "holder"),
                         _uint(_field(payload, "value"), "value"), BurnReason.REDEMPTION)


def hold_payload(signed: SignedAuthorization[HoldAuthorization]) -> dict[str, Any]:
    """The payload of a ``place_hold`` row: the signed HoldAuthorization."""
    auth = signed.authorization
    if not isinstance(auth, HoldAuthorization):
        raise TypeError("expected a signed HoldAuthorization")
    return {"holder": auth.holder, "value": auth.value, "hold_id": "0x" + auth.hold_id.hex(),
            "expires_at": auth.expires_at, **_signature(signed)}


def _build_place_hold(context: WriterContext, payloads: Sequence[Payload]) -> ContractFunction:
    (p,) = payloads
    return encoder.place_hold(context.network, _address(p, "holder"), _uint(_field(p, "value"), "value", positive=True),
                              _bytes32(_field(p, "hold_id"), "hold_id"), _uint(_field(p, "expires_at"), "expires_at"),
                              *_vrs(p))


for _kind in (OutboxKind("place_hold", _build_place_hold),
              OutboxKind("capture_hold", _one_call(encoder.capture_hold, _bytes32_at("hold_id"), _bytes32_at("ref"))),
              OutboxKind("release_hold", _one_call(encoder.release_hold, _bytes32_at("hold_id")))):
    register_kind(_kind)
register_kind(OutboxKind("redeem", _build_redeem, done_before=_redeem_done_before))


# ------------------------------------------------------------------ merchants


def merchant_terms_payload(merchant_id: str, wallet: str, *, fee_bps: int, mcc: int, account_hash: str,
                           payout_mode: str) -> dict[str, Any]:
    """The payload of a ``register_merchant`` row (``payout_mode``: ``wallet`` or ``bank_account``)."""
    return {"merchant_id": merchant_id, "wallet": wallet, "fee_bps": fee_bps, "mcc": mcc,
            "account_hash": account_hash, "payout_mode": payout_mode}


def _payout_mode(payload: Payload) -> PayoutMode:
    name = _field(payload, "payout_mode")
    try:
        return PayoutMode[str(name).upper()]
    except KeyError:
        raise InvalidPayloadError("payout_mode", f"expected wallet or bank_account, got {name!r}") from None


def _build_register_merchant(context: WriterContext, payloads: Sequence[Payload]) -> ContractFunction:
    (p,) = payloads
    return encoder.register_merchant(
        context.network, _bytes32(_field(p, "merchant_id"), "merchant_id"), _address(p, "wallet"),
        fee_bps=_uint(_field(p, "fee_bps"), "fee_bps", bits=16), mcc=_uint(_field(p, "mcc"), "mcc", bits=16),
        settlement_account_hash=_bytes32(_field(p, "account_hash"), "account_hash"), payout_mode=_payout_mode(p))


def merchant_pay_payload(signed: SignedAuthorization[MerchantPayment]) -> dict[str, Any]:
    """The payload of a ``merchant_pay`` row: one payer's signed MerchantPayment with its acquirer's request
    signature (no ``ref``: the order is its chain id, and reconciliation finds the row by its receipt)."""
    auth = signed.authorization
    if not isinstance(auth, MerchantPayment):
        raise TypeError("expected a signed MerchantPayment")
    if auth.request_signature is None:
        raise ValueError("the payment carries no request signature of its acquirer")
    request_v, request_r, request_s = split_signature(auth.request_signature)
    return {"acquirer": "0x" + auth.acquirer.hex(), "merchant_id": "0x" + auth.merchant_id.hex(),
            "order_id": "0x" + auth.order_id.hex(), "payer": auth.payer, "amount": auth.amount,
            "valid_after": auth.valid_after, "valid_before": auth.valid_before, **_signature(signed),
            "request_v": request_v, "request_r": "0x" + request_r.hex(), "request_s": "0x" + request_s.hex()}


def _payment_item(p: Payload) -> PaymentItem:
    """A ``merchant_pay`` payload, read back (:func:`merchant_pay_payload` wrote it)."""
    return PaymentItem(_bytes32(_field(p, "acquirer"), "acquirer"), _bytes32(_field(p, "merchant_id"), "merchant_id"),
                       _bytes32(_field(p, "order_id"), "order_id"), _address(p, "payer"),
                       _uint(_field(p, "amount"), "amount", positive=True),
                       _uint(_field(p, "valid_after"), "valid_after"), _uint(_field(p, "valid_before"), "valid_before"),
                       *_vrs(p), _uint(_field(p, "request_v"), "request_v", bits=8),
                       _bytes32(_field(p, "request_r"), "request_r"), _bytes32(_field(p, "request_s"), "request_s"))


PAY_GAS_PER_ITEM: Final = 200_000
"""A merchant payment in ``payBatch`` (both signatures checked, the order recorded, the merchant and fee credited):
the costliest measured about 107,000 gas (tests/node/test_node_writer_gas.py); the bound leaves a margin."""


def _build_merchant_pay(context: WriterContext, payloads: Sequence[Payload]) -> ContractFunction:
    return encoder.pay_batch(context.network, [_payment_item(p) for p in payloads])


def _payment_failures(_context: WriterContext, events: Sequence[Event]) -> dict[int, ContractRevertError]:
    return encoder.payment_failures(events)


def _build_refund_order(context: WriterContext, payloads: Sequence[Payload]) -> ContractFunction:
    (p,) = payloads
    return encoder.refund(context.network, _bytes32(_field(p, "merchant_id"), "merchant_id"),
                          _bytes32(_field(p, "order_id"), "order_id"),
                          _uint(_field(p, "amount"), "amount", positive=True), _bytes32(_field(p, "ref"), "ref"))


def _refund_done_before(context: WriterContext, payload: Payload, error: ContractRevertError) -> DoneBefore | None:
    if not isinstance(error, RefAlreadyRefunded) or not _own_ref(context, payload, error.acquirer, error.ref):
        return None
    return refunded_before(context.network, error.acquirer, _bytes32(_field(payload, "merchant_id"), "merchant_id"),
                           _bytes32(_field(payload, "order_id"), "order_id"), error.ref,
                           _uint(_field(payload, "amount"), "amount", positive=True))


def _build_settle_merchant(context: WriterContext, payloads: Sequence[Payload]) -> ContractFunction:
    (p,) = payloads
    return encoder.settle(context.network, _bytes32(_field(p, "merchant_id"), "merchant_id"),
                          _bytes32(_field(p, "ref"), "ref"))


def _settle_done_before(context: WriterContext, payload: Payload, error: ContractRevertError) -> DoneBefore | None:
    if not isinstance(error, RefAlreadySettled) or not _own_ref(context, payload, error.acquirer, error.ref):
        return None
    return settled_before(context.network, error.acquirer, _bytes32(_field(payload, "merchant_id"), "merchant_id"),
                          error.ref)


register_kind(OutboxKind("merchant_pay", _build_merchant_pay, max_items=100, item_failures=_payment_failures,
                         gas_per_item=PAY_GAS_PER_ITEM))
for _kind in (OutboxKind("register_merchant", _build_register_merchant),
              OutboxKind("set_fee_wallet", _one_call(encoder.set_fee_wallet, _WALLET)),
              OutboxKind("set_request_signer", _one_call(encoder.set_request_signer, _address_at("signer")))):
    register_kind(_kind)
register_kind(OutboxKind("refund_order", _build_refund_order, done_before=_refund_done_before))
register_kind(OutboxKind("settle_merchant", _build_settle_merchant, done_before=_settle_done_before))
