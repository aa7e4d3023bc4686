"""The one encoder of walletnet's contract calls: typed arguments in, a web3 ``ContractFunction`` out.

Every transaction walletnet sends is built here, once: by the roles of :mod:`wallet_sdk.chain.operators`,
which only sign and send what this module builds, and by the bank node's chain writer
(``node/writer/kinds.py`` turns the JSON payloads of its outbox rows into these arguments). Each function is
one contract function, with the Solidity parameters in their order as Python values, checked before web3
encodes anything (:class:`~wallet_sdk.exceptions.InvalidArgumentError`): addresses as text or anything
with an ``address``, bytes32 ids as 32 bytes or a text id ("ORDER-1"), amounts as ints in minor units or
:class:`~wallet_sdk.amount.Amount`. Holders' signed authorizations come in as their fields and ``v, r, s``.

The structs of batches are :class:`RelayItem`, :class:`PaymentItem` and
:class:`~wallet_sdk.chain.types.WalletOpening`; :func:`relay_failures` and :func:`payment_failures` read which
items of a mined batch failed.

A built call is not sent: ``TransactionSender.send(call)`` sends it, ``wallet_sdk._sender.calldata(call)`` is its
calldata.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

from web3.contract import Contract
from web3.contract.contract import ContractFunction

from wallet_sdk.amount import Amount
from wallet_sdk.authorizations import Authorization, SignedAuthorization
from wallet_sdk.chain.args import AddressLike, to_address, to_bank_id, to_bytes32, to_merchant_id, to_uint
from wallet_sdk.chain.events import Event
from wallet_sdk.chain.types import Limits, MerchantStatus, PayoutMode, WalletKind, WalletOpening
from wallet_sdk.exceptions import ContractRevertError, InvalidArgumentError
from wallet_sdk.revert_decoding import decode_revert

__all__ = [
    "Deployed",
    "PaymentItem",
    "Ref",
    "RelayItem",
    "approve",
    "bind_account",
    "cancel",
    "cancel_authorization",
    "capture_hold",
    "close_wallet",
    "execute",
    "freeze",
    "mint",
    "mint_batch",
    "open_wallet",
    "open_wallets",
    "pause",
    "pay",
    "pay_batch",
    "payment_failures",
    "place_hold",
    "propose",
    "redeem_with_authorization",
    "refund",
    "register_merchant",
    "relay_failures",
    "relay_transfers",
    "release_hold",
    "set_fee_wallet",
    "set_limits",
    "set_merchant_status",
    "set_quota",
    "set_request_signer",
    "set_tier",
    "settle",
    "signed_as",
    "transfer_with_authorization",
    "unfreeze",
    "unpause",
    "update_merchant",
]

Ref = bytes | str
"""An off-chain reference (ATM event id, redemption id...): 32 bytes, or text of at most 32 bytes."""

_ZERO_ADDRESS = "0x" + "00" * 20
_A = TypeVar("_A", bound=Authorization)


class Deployed(Protocol):
    """What the encoder needs of a :class:`~wallet_sdk.chain.network.Network`: the deployment's four contracts
    and its token's minor units (for amounts given as :class:`~wallet_sdk.amount.Amount`)."""

    @property
    def consortium(self) -> Contract: ...

    @property
    def registry(self) -> Contract: ...

    @property
    def token(self) -> Contract: ...

    @property
    def settlement(self) -> Contract: ...

    def to_minor(self, value: int | Amount, what: str = "amount") -> int: ...


def signed_as(signed: object, kind: type[_A], what: str) -> SignedAuthorization[Any]:
    """``signed`` if it is a SignedAuthorization of a ``kind``, else InvalidArgumentError naming ``what``."""
    if not isinstance(signed, SignedAuthorization) or not isinstance(signed.authorization, kind):
        raise InvalidArgumentError(what, signed, f"expected a SignedAuthorization of a {kind.__name__}")
    return signed


def _vrs(v: int, r: bytes, s: bytes) -> tuple[int, bytes, bytes]:
    return to_uint(v, "v", bits=8), to_bytes32(r, "r"), to_bytes32(s, "s")


class RelayItem(NamedTuple):
    """One ``IDigitalCash.RelayedTransfer`` of :func:`relay_transfers`: the fields of a holder's signed
    :class:`~wallet_sdk.authorizations.RelayedTransfer` and its signature, taken as they are (make it from a
    checked authorization, or from values you checked)."""

    from_: str
    to: str
    value: int
    valid_before: int
    nonce: int
    v: int
    r: bytes
    s: bytes


class PaymentItem(NamedTuple):
    """One ``IMerchantSettlement.Payment`` of :func:`pay` / :func:`pay_batch`: the fields of a payer's signed
    :class:`~wallet_sdk.authorizations.MerchantPayment`, its signature and its acquirer's request signature, taken
    as they are (make it from a checked authorization, or from values you checked)."""

    acquirer: bytes
    merchant_id: bytes
    order_id: bytes
    payer: str
    amount: int
    valid_after: int
    valid_before: int
    v: int
    r: bytes
    s: bytes
    request_v: int
    request_r: bytes
    request_s: bytes


def _items(items: Sequence[Any], kind: type[tuple[Any, ...]], what: str) -> list[tuple[Any, ...]]:
    """The items as the plain tuples web3 encodes structs from."""
    for item in items:
        if not isinstance(item, kind):
            raise InvalidArgumentError(what, item, f"expected {kind.__name__} items")
    return [tuple(item) for item in items]


# --- Consortium: governance and quotas ---


def approve(c: Deployed, proposal_id: int) -> ContractFunction:
    """Consortium.approve: the sender's bank approves a proposal."""
    return c.consortium.functions.approve(to_uint(proposal_id, "proposal_id"))


def execute(c: Deployed, proposal_id: int) -> ContractFunction:
    """Consortium.execute: run a proposal with enough approvals."""
    return c.consortium.functions.execute(to_uint(proposal_id, "proposal_id"))


def propose(c: Deployed, target: AddressLike, data: bytes, description: str) -> ContractFunction:
    """Consortium.propose: a call of ``target`` with calldata ``data`` for the banks to approve."""
    if not isinstance(data, bytes) or not isinstance(description, str):
        raise InvalidArgumentError("data", data, "expected calldata bytes and a str description")
    return c.consortium.functions.propose(to_address(target, "target"), data, description)


def cancel(c: Deployed, proposal_id: int) -> ContractFunction:
    """Consortium.cancel: drop a pending proposal."""
    return c.consortium.functions.cancel(to_uint(proposal_id, "proposal_id"))


def set_quota(c: Deployed, bank: bytes | str, quota: int | Amount) -> ContractFunction:
    """Consortium.setQuota: a bank's issuance quota in minor units."""
    return c.consortium.functions.setQuota(to_bank_id(bank), c.to_minor(quota))


# --- WalletRegistry: wallets and limits ---


def _opening_row(opening: object) -> tuple[Any, ...]:
    if not isinstance(opening, WalletOpening):
        raise InvalidArgumentError("openings", opening, "expected WalletOpening items")
    return (to_address(opening.wallet, "wallet"), to_uint(opening.tier, "tier", bits=8), int(WalletKind(opening.kind)),
            to_bytes32(opening.account_hash, "account_hash"))


def open_wallet(c: Deployed, wallet: AddressLike, bank_id: bytes | str, *, tier: int = 1,
                kind: WalletKind = WalletKind.PERSONAL, account_hash: bytes = bytes(32)) -> ContractFunction:
    """WalletRegistry.openWallet: one wallet of the sender's bank ``bank_id``."""
    return c.registry.functions.openWallet(to_address(wallet, "wallet"), to_bank_id(bank_id),
                                           to_uint(tier, "tier", bits=8), int(WalletKind(kind)),
                                           to_bytes32(account_hash, "account_hash"))


def open_wallets(c: Deployed, bank_id: bytes | str, openings: Sequence[WalletOpening]) -> ContractFunction:
    """WalletRegistry.openWallets: many wallets of bank ``bank_id`` at once (the call reverts on one bad item)."""
    rows = [_opening_row(opening) for opening in openings]
    return c.registry.functions.openWallets(to_bank_id(bank_id), rows)


def set_tier(c: Deployed, wallet: AddressLike, tier: int) -> ContractFunction:
    """WalletRegistry.setTier: move a personal wallet to tier 1-4."""
    return c.registry.functions.setTier(to_address(wallet, "wallet"), to_uint(tier, "tier", bits=8))


def bind_account(c: Deployed, wallet: AddressLike, account_hash: bytes | str) -> ContractFunction:
    """WalletRegistry.bindAccount: bind a wallet to a bank account by its salted hash."""
    return c.registry.functions.bindAccount(to_address(wallet, "wallet"), to_bytes32(account_hash, "account_hash"))


def freeze(c: Deployed, wallet: AddressLike, reason: int) -> ContractFunction:
    """WalletRegistry.freeze, with a reason code (by the custodian bank or the regulator)."""
    return c.registry.functions.freeze(to_address(wallet, "wallet"), to_uint(reason, "reason", bits=16))


def unfreeze(c: Deployed, wallet: AddressLike) -> ContractFunction:
    """WalletRegistry.unfreeze."""
    return c.registry.functions.unfreeze(to_address(wallet, "wallet"))


def close_wallet(c: Deployed, wallet: AddressLike, ref: Ref) -> ContractFunction:
    """WalletRegistry.closeWallet: the balance is burned with ``ref`` for payout to the bound account."""
    return c.registry.functions.closeWallet(to_address(wallet, "wallet"), to_bytes32(ref, "ref"))


def set_limits(c: Deployed, limit_class: int, limits: Limits) -> ContractFunction:
    """WalletRegistry.setLimits: the limits of a limit class (tier 1-4, 5 merchant, 6 system)."""
    if not isinstance(limits, Limits):
        raise InvalidArgumentError("limits", limits, "expected a Limits")
    return c.registry.functions.setLimits(to_uint(limit_class, "limit_class", bits=8),
                                          tuple(to_uint(v, "limit") for v in limits.as_tuple()))


# --- DigitalCash: issuance, relays, holds, redemptions ---


def mint(c: Deployed, wallet: AddressLike, amount: int | Amount, ref: Ref) -> ContractFunction:
    """DigitalCash.mint: issue ``amount`` into a wallet of the sender's bank."""
    return c.token.functions.mint(to_address(wallet, "wallet"), c.to_minor(amount), to_bytes32(ref, "ref"))


def mint_batch(c: Deployed, items: Sequence[tuple[AddressLike, int | Amount, Ref]]) -> ContractFunction:
    """DigitalCash.mintBatch: several mints, ``(wallet, amount, ref)`` each, in one call; all or nothing."""
    return c.token.functions.mintBatch([
        (to_address(wallet, "wallet"), c.to_minor(amount), to_bytes32(ref, "ref")) for wallet, amount, ref in items])


def transfer_with_authorization(c: Deployed, from_: AddressLike, to: AddressLike, value: int, valid_after: int,
                                valid_before: int, nonce: bytes, v: int, r: bytes, s: bytes) -> ContractFunction:
    """DigitalCash.transferWithAuthorization: a holder's signed EIP-3009 transfer."""
    return c.token.functions.transferWithAuthorization(
        to_address(from_, "from"), to_address(to, "to"), to_uint(value, "value"), to_uint(valid_after, "valid_after"),
        to_uint(valid_before, "valid_before"), to_bytes32(nonce, "nonce"), *_vrs(v, r, s))


def cancel_authorization(c: Deployed, authorizer: AddressLike, nonce: bytes, v: int, r: bytes,
                         s: bytes) -> ContractFunction:
    """DigitalCash.cancelAuthorization: a holder's signed cancellation of an unused nonce."""
    return c.token.functions.cancelAuthorization(to_address(authorizer, "authorizer"), to_bytes32(nonce, "nonce"),
                                                 *_vrs(v, r, s))


def relay_transfers(c: Deployed, items: Sequence[RelayItem]) -> ContractFunction:
    """DigitalCash.relayTransfers: many signed transfers; a failing one is reported (:func:`relay_failures`)."""
    return c.token.functions.relayTransfers(_items(items, RelayItem, "transfers"))


def place_hold(c: Deployed, holder: AddressLike, value: int, hold_id: bytes, expires_at: int, v: int, r: bytes,
               s: bytes) -> ContractFunction:
    """DigitalCash.placeHold: set money aside for an ATM cash-out on the holder's signed Hold."""
    return c.token.functions.placeHold(to_address(holder, "holder"), to_uint(value, "value"),
                                       to_bytes32(hold_id, "hold_id"), to_uint(expires_at, "expires_at"),
                                       *_vrs(v, r, s))


def capture_hold(c: Deployed, hold_id: bytes | str, ref: Ref) -> ContractFunction:
    """DigitalCash.captureHold: burn held money once the ATM dispensed it."""
    return c.token.functions.captureHold(to_bytes32(hold_id, "hold_id"), to_bytes32(ref, "ref"))


def release_hold(c: Deployed, hold_id: bytes | str) -> ContractFunction:
    """DigitalCash.releaseHold: give held money back to the holder."""
    return c.token.functions.releaseHold(to_bytes32(hold_id, "hold_id"))


def redeem_with_authorization(c: Deployed, holder: AddressLike, value: int, valid_before: int, nonce: bytes,
                              ref: Ref, v: int, r: bytes, s: bytes) -> ContractFunction:
    """DigitalCash.redeemWithAuthorization: burn on the holder's signed Redemption, for payout to their account."""
    return c.token.functions.redeemWithAuthorization(
        to_address(holder, "holder"), to_uint(value, "value"), to_uint(valid_before, "valid_before"),
        to_bytes32(nonce, "nonce"), to_bytes32(ref, "ref"), *_vrs(v, r, s))


def pause(c: Deployed) -> ContractFunction:
    """DigitalCash.pause: stop every movement of money."""
    return c.token.functions.pause()


def unpause(c: Deployed) -> ContractFunction:
    """DigitalCash.unpause."""
    return c.token.functions.unpause()


# --- MerchantSettlement: merchants, payments, refunds, settlement ---


def _terms(merchant: bytes | str, wallet: AddressLike, fee_bps: int, mcc: int, account_hash: bytes,
           payout_mode: PayoutMode) -> tuple[Any, ...]:
    return (to_merchant_id(merchant), to_address(wallet, "wallet"), to_uint(fee_bps, "fee_bps", bits=16),
            to_uint(mcc, "mcc", bits=16), to_bytes32(account_hash, "settlement_account_hash"),
            int(PayoutMode(payout_mode)))


def register_merchant(c: Deployed, merchant: bytes | str, wallet: AddressLike, *, fee_bps: int, mcc: int,
                      settlement_account_hash: bytes = bytes(32),
                      payout_mode: PayoutMode = PayoutMode.WALLET) -> ContractFunction:
    """MerchantSettlement.registerMerchant: a merchant acquired by the sender's bank."""
    return c.settlement.functions.registerMerchant(*_terms(merchant, wallet, fee_bps, mcc, settlement_account_hash,
                                                           payout_mode))


def update_merchant(c: Deployed, merchant: bytes | str, wallet: AddressLike, *, fee_bps: int, mcc: int,
                    settlement_account_hash: bytes = bytes(32),
                    payout_mode: PayoutMode = PayoutMode.WALLET) -> ContractFunction:
    """MerchantSettlement.updateMerchant: a merchant's new wallet, fee, category code, account hash, payout mode."""
    return c.settlement.functions.updateMerchant(*_terms(merchant, wallet, fee_bps, mcc, settlement_account_hash,
                                                         payout_mode))


def set_merchant_status(c: Deployed, merchant: bytes | str, status: MerchantStatus) -> ContractFunction:
    """MerchantSettlement.setMerchantStatus: suspend a merchant or make it active again."""
    return c.settlement.functions.setMerchantStatus(to_merchant_id(merchant), int(MerchantStatus(status)))


def set_fee_wallet(c: Deployed, wallet: AddressLike) -> ContractFunction:
    """MerchantSettlement.setFeeWallet: the wallet receiving the sender's bank's acquiring fees."""
    return c.settlement.functions.setFeeWallet(to_address(wallet, "wallet"))


def set_request_signer(c: Deployed, signer: AddressLike | None) -> ContractFunction:
    """MerchantSettlement.setRequestSigner: the key signing the bank's payment requests (None: remove it)."""
    return c.settlement.functions.setRequestSigner(_ZERO_ADDRESS if signer is None else to_address(signer, "signer"))


def pay(c: Deployed, item: PaymentItem) -> ContractFunction:
    """MerchantSettlement.pay: one payment (anyone may relay it)."""
    (row,) = _items([item], PaymentItem, "payments")
    return c.settlement.functions.pay(row)


def pay_batch(c: Deployed, items: Sequence[PaymentItem]) -> ContractFunction:
    """MerchantSettlement.payBatch: many payments; a refused one is reported (:func:`payment_failures`)."""
    return c.settlement.functions.payBatch(_items(items, PaymentItem, "payments"))


def refund(c: Deployed, merchant: bytes | str, order: bytes | str, amount: int | Amount, ref: Ref) -> ContractFunction:
    """MerchantSettlement.refund: part or all of an order back to its payer."""
    return c.settlement.functions.refund(to_merchant_id(merchant), to_bytes32(order, "order_id"), c.to_minor(amount),
                                         to_bytes32(ref, "ref"))


def settle(c: Deployed, merchant: bytes | str, ref: Ref) -> ContractFunction:
    """MerchantSettlement.settle: everything pending for a merchant, net to it and the fee to its acquirer."""
    return c.settlement.functions.settle(to_merchant_id(merchant), to_bytes32(ref, "ref"))


# --- outcomes of batches ---


def _failures(events: Iterable[Event], contract: str, name: str) -> dict[int, ContractRevertError]:
    return {int(e["index"]): decode_revert(e["reason"]) for e in events if e.name == name and e.contract == contract}


def relay_failures(events: Iterable[Event]) -> dict[int, ContractRevertError]:
    """The failed items of a mined :func:`relay_transfers`: item index -> its typed revert (RelayFailed events)."""
    return _failures(events, "DigitalCash", "RelayFailed")


def payment_failures(events: Iterable[Event]) -> dict[int, ContractRevertError]:
    """The refused payments of a mined :func:`pay_batch`: item index -> its typed revert (PaymentFailed events)."""
    return _failures(events, "MerchantSettlement", "PaymentFailed")
