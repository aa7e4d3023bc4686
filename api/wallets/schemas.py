"""Response bodies of the wallet endpoints."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["Money", "WalletOut"]


class Money(BaseModel):
    amount: int = Field(description="integer amount in minor units of `currency`")
    currency: str


class WalletOut(BaseModel):
    address: str = Field(description="EIP-55 checksummed wallet address")
    bank: str = Field(description="code of the custodian bank (empty for system wallets)")
    tier: int
    status: str = Field(description="active, frozen or closed")
    balance: Money = Field(description="spendable balance (money on hold excluded)")
