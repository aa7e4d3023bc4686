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
# A Solidity enum numbers its members in the order declared, from 0: so do these (``start=0``), each member named
# once. LimitClass is no Solidity enum but the registry's uint8 limit classes, numbered from 1.

BankStatus = IntEnum("BankStatus", "NONE ACTIVE SUSPENDED REMOVED", start=0, module=__name__)
"""IConsortium.BankStatus."""
ProposalStatus = IntEnum("ProposalStatus", "NONE PENDING EXECUTED CANCELLED", start=0, module=__name__)
"""IConsortium.ProposalStatus."""
WalletKind = IntEnum("WalletKind", "PERSONAL MERCHANT SYSTEM", start=0, module=__name__)
"""IWalletRegistry.WalletKind."""
WalletStatus = IntEnum("WalletStatus", "NONE ACTIVE FROZEN CLOSED", start=0, module=__name__)
"""IWalletRegistry.WalletStatus (the token's wallet state uses the same values); NONE = not registered."""
LimitClass = IntEnum("LimitClass", "TIER_1 TIER_2 TIER_3 TIER_4 MERCHANT SYSTEM", start=1, module=__name__)
"""The registry's limit classes: personal tiers 1-4, merchant wallets 5, system wallets 6."""
HoldStatus = IntEnum("HoldStatus", "NONE HELD CAPTURED RELEASED", start=0, module=__name__)
"""IDigitalCash.HoldStatus."""
BurnReason = IntEnum("BurnReason", "REDEMPTION HOLD_CAPTURE WALLET_CLOSURE SETTLEMENT_PAYOUT", start=0,
                     module=__name__)
"""IDigitalCash.BurnReason (the ``reason`` of a Burned event)."""
PayoutMode = IntEnum("PayoutMode", "WALLET BANK_ACCOUNT", start=0, module=__name__)
"""IMerchantSettlement.PayoutMode: net paid to the merchant's wallet, or burned for a bank-account payout."""
MerchantStatus = IntEnum("MerchantStatus", "NONE ACTIVE SUSPENDED", start=0, module=__name__)
"""IMerchantSettlement.MerchantStatus."""
