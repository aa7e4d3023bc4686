"""The contracts' Solidity enums as ``IntEnum`` with the same names and numeric values (what the ABI carries), so
they compare equal to the raw ``uint8`` a web3 call returns. They sit below both :mod:`wallet_sdk.chain` and the
generated :mod:`wallet_sdk.reverts`, whose error fields use them."""

from __future__ import annotations

from enum import IntEnum
from typing import TypeVar

__all__ = [
    "BankStatus",
    "BurnReason",
    "HoldStatus",
    "LimitClass",
    "MerchantStatus",
    "PayoutMode",
    "ProposalStatus",
    "WalletKind",
    "WalletStatus",
    "as_enum",
]

E = TypeVar("E", bound=IntEnum)


def as_enum(enum: type[E], value: int) -> E | int:
    """``enum(value)`` when the value is a member, else the int unchanged (a newer contract may add members)."""
    try:
        return enum(value)
    except ValueError:
        return int(value)


# --- Solidity enums (same names and values as contracts/interfaces) ---


class BankStatus(IntEnum):
    """IConsortium.BankStatus."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REMOVED = 3


class ProposalStatus(IntEnum):
    """IConsortium.ProposalStatus."""

    NONE = 0
    PENDING = 1
    EXECUTED = 2
    CANCELLED = 3


class WalletKind(IntEnum):
    """IWalletRegistry.WalletKind."""

    PERSONAL = 0
    MERCHANT = 1
    SYSTEM = 2


class WalletStatus(IntEnum):
    """IWalletRegistry.WalletStatus (the token's wallet state uses the same values); NONE = not registered."""

    NONE = 0
    ACTIVE = 1
    FROZEN = 2
    CLOSED = 3


class LimitClass(IntEnum):
    """The registry's limit classes: personal tiers 1-4, merchant wallets 5, system wallets 6."""

    TIER_1 = 1
    TIER_2 = 2
    TIER_3 = 3
    TIER_4 = 4
    MERCHANT = 5
    SYSTEM = 6


class HoldStatus(IntEnum):
    """IDigitalCash.HoldStatus."""

    NONE = 0
    HELD = 1
    CAPTURED = 2
    RELEASED = 3


class BurnReason(IntEnum):
    """IDigitalCash.BurnReason (the ``reason`` of a Burned event)."""

    REDEMPTION = 0
    HOLD_CAPTURE = 1
    WALLET_CLOSURE = 2
    SETTLEMENT_PAYOUT = 3


class PayoutMode(IntEnum):
    """IMerchantSettlement.PayoutMode: net paid to the merchant's wallet, or burned for a bank-account payout."""

    WALLET = 0
    BANK_ACCOUNT = 1


class MerchantStatus(IntEnum):
    """IMerchantSettlement.MerchantStatus."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
