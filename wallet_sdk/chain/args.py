"""Checks of the arguments of contract reads and calls: addresses, bytes32 ids, bounded ints.

Shared by :class:`~wallet_sdk.chain.network.Network` (reads) and :mod:`wallet_sdk.chain.encoder` (calls), so
both refuse the same bad input with the same :class:`~wallet_sdk.exceptions.InvalidArgumentError`
before anything reaches the node. A leaf module: it imports nothing else of ``wallet_sdk.chain``.
"""

from __future__ import annotations

from typing import Protocol, cast

from eth_typing import ChecksumAddress
from eth_utils.address import is_address

from wallet_sdk.addresses import checksummed
from wallet_sdk.authorizations import merchant_id, order_id
from wallet_sdk.exceptions import AuthorizationError, InvalidArgumentError

__all__ = ["AddressLike", "to_address", "to_bank_id", "to_bytes32", "to_merchant_id", "to_uint"]


class _HasAddress(Protocol):
    @property
    def address(self) -> str: ...


AddressLike = str | _HasAddress
"""An address as text, or anything with an ``address`` (a WalletKey, a LocalAccount)."""


def to_address(value: object, what: str = "address") -> ChecksumAddress:
    """A checksummed address from text (all-lowercase, or correctly checksummed) or an object's ``.address``."""
    candidate = getattr(value, "address", value)
    proper = checksummed(candidate) if isinstance(candidate, str) else None
    if proper is not None:
        return cast("ChecksumAddress", proper)
    if not isinstance(candidate, str) or not candidate.startswith("0x") or not is_address(candidate):
        raise InvalidArgumentError(what, value, "expected a 0x address (20 bytes)")
    raise InvalidArgumentError(what, value, "mixed-case address with a wrong EIP-55 checksum")


def to_bytes32(value: object, what: str) -> bytes:
    """32 raw bytes, or text made into an id the SDK way (UTF-8 right-padded with zeros, as ``order_id``)."""
    if isinstance(value, bytes):
        if len(value) != 32:
            raise InvalidArgumentError(what, value, "expected 32 bytes")
        return bytes(value)
    if isinstance(value, str):
        try:
            return order_id(value)
        except AuthorizationError:
            raise InvalidArgumentError(what, value, "text ids are 1-32 bytes of UTF-8 without NUL") from None
    raise InvalidArgumentError(what, value, "expected 32 bytes or a text id")


def to_uint(value: object, what: str, *, bits: int = 256) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
        raise InvalidArgumentError(what, value, f"expected an int from 0 to 2**{bits} - 1")
    return value


def to_bank_id(bank: object) -> bytes:
    """A bank id: 32 bytes, or its text code ("BANKA")."""
    return to_bytes32(bank, "bank id")


def to_merchant_id(merchant: object) -> bytes:
    """A merchant id: 32 bytes, or its text code as :func:`~wallet_sdk.authorizations.merchant_id` makes it."""
    if isinstance(merchant, str):
        try:
            return merchant_id(merchant)
        except AuthorizationError:
            raise InvalidArgumentError(
                "merchant id", merchant, "text ids are 1-32 bytes of UTF-8 without NUL") from None
    return to_bytes32(merchant, "merchant id")
