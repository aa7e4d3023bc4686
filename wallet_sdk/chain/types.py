"""The contracts' enums (defined in :mod:`wallet_sdk.enums`, re-exported here) and the typed records that
:class:`~wallet_sdk.chain.Network` reads return.

Enums are ``IntEnum`` with the Solidity enum's numeric values (what the ABI carries), so they compare
equal to the raw ``uint8`` a web3 call returns. Records are frozen dataclasses; amounts are ints of minor
units; ids are 32 raw bytes; addresses are EIP-55 checksummed strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from eth_typing import ChecksumAddress

from wallet_sdk.authorizations import id_to_text
from wallet_sdk.enums import (
    BankStatus,
    BurnReason,
    HoldStatus,
    LimitClass,
    MerchantStatus,
    PayoutMode,
    ProposalStatus,
    WalletKind,
    WalletStatus,
)

__all__ = [
    "UNLIMITED",
    "BankInfo",
    "BankPosition",
    "BankStatus",
    "BurnReason",
    "HoldInfo",
    "HoldStatus",
    "LimitClass",
    "Limits",
    "MerchantInfo",
    "MerchantStatus",
    "OrderInfo",
    "OrderState",
    "PayoutMode",
    "Positions",
    "ProposalInfo",
    "ProposalStatus",
    "SettlementBatch",
    "TokenInfo",
    "WalletInfo",
    "WalletKind",
    "WalletOpening",
    "WalletStatus",
]

UNLIMITED: Final = 2**256 - 1
"""A limit of ``type(uint256).max`` means "no limit" (merchant and system wallets)."""

class OrderState(StrEnum):
    """Where an order stands, derived from its on-chain record (not a Solidity enum)."""

    UNPAID = "unpaid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


# --- records ---


@dataclass(frozen=True)
class TokenInfo:
    """The token's name, symbol and decimals (the EIP-712 domain name is ``name``)."""

    address: ChecksumAddress
    name: str
    symbol: str
    decimals: int


@dataclass(frozen=True)
class WalletInfo:
    """A wallet's registry record. ``status`` is NONE for an address that was never registered."""

    address: ChecksumAddress
    bank_id: bytes  # custodian bank; zero for system wallets and unregistered addresses
    tier: int
    kind: WalletKind
    status: WalletStatus
    frozen_by_regulator: bool
    freeze_reason: int
    account_hash: bytes  # salted hash of the bound bank account; zero if none

    @property
    def registered(self) -> bool:
        return self.status != WalletStatus.NONE

    @property
    def active(self) -> bool:
        return self.status == WalletStatus.ACTIVE

    @property
    def bank_code(self) -> str:
        """The custodian bank's id as text ("BANKA"), or 0x-hex if it is not a text id."""
        return id_to_text(self.bank_id)


@dataclass(frozen=True)
class Limits:
    """Limits of one limit class in minor units; :data:`UNLIMITED` means no limit."""

    balance_cap: int
    single_payment_limit: int
    daily_outflow_limit: int

    def as_tuple(self) -> tuple[int, int, int]:
        """The ``IWalletRegistry.Limits`` struct as the ABI takes it."""
        return (self.balance_cap, self.single_payment_limit, self.daily_outflow_limit)


@dataclass(frozen=True)
class WalletOpening:
    """One wallet of a bulk enrolment (``BankOperator.open_wallets``)."""

    wallet: str
    tier: int = 1
    kind: WalletKind = WalletKind.PERSONAL
    account_hash: bytes = bytes(32)


@dataclass(frozen=True)
class HoldInfo:
    """An ATM cash-out hold. ``status`` NONE means no such hold."""

    hold_id: bytes
    holder: ChecksumAddress
    amount: int
    expires_at: int
    status: HoldStatus


@dataclass(frozen=True)
class MerchantInfo:
    """A merchant's record. ``pending`` is what the next settlement will split into fee and net."""

    merchant_id: bytes
    acquirer: bytes  # acquiring bank id
    wallet: ChecksumAddress
    fee_bps: int
    mcc: int
    payout_mode: PayoutMode
    status: MerchantStatus
    settlement_account_hash: bytes
    pending_gross: int
    pending_refunds: int
    last_batch_id: int

    @property
    def pending(self) -> int:
        return self.pending_gross - self.pending_refunds

    @property
    def registered(self) -> bool:
        return self.status != MerchantStatus.NONE


@dataclass(frozen=True)
class OrderInfo:
    """An order's payment record (payer zero address and amount 0 if never paid)."""

    acquirer: bytes  # the merchant's acquiring bank: merchant ids are per acquirer
    merchant_id: bytes
    order_id: bytes
    payer: ChecksumAddress
    amount: int
    refunded: int
    paid_at: int  # block timestamp of the payment, 0 if unpaid

    @property
    def refundable(self) -> int:
        return self.amount - self.refunded

    @property
    def state(self) -> OrderState:
        if self.amount == 0:
            return OrderState.UNPAID
        if self.refunded == 0:
            return OrderState.PAID
        if self.refunded < self.amount:
            return OrderState.PARTIALLY_REFUNDED
        return OrderState.REFUNDED


@dataclass(frozen=True)
class SettlementBatch:
    """One MerchantSettled event: ``gross == refunds + fee + net`` to the cent."""

    merchant_id: bytes
    batch_id: int
    acquirer: bytes
    gross: int
    refunds: int
    fee: int
    net: int
    payout_mode: PayoutMode
    ref: bytes
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class BankPosition:
    """A bank's interbank position: what it issued net of redemptions (``net_issued`` = minted - burned, may be
    negative), against its quota."""

    bank_id: bytes
    name: str
    status: BankStatus
    quota: int
    net_issued: int

    @property
    def code(self) -> str:
        return id_to_text(self.bank_id)


@dataclass(frozen=True)
class BankInfo(BankPosition):
    """A member bank: its status, issuance quota and position, and its operators and enodes."""

    operators: tuple[ChecksumAddress, ...]
    enodes: tuple[str, ...]


@dataclass(frozen=True)
class Positions:
    """Every bank's ``net_issued`` read at one block; they sum to the token's total supply."""

    block_number: int
    banks: tuple[BankPosition, ...]
    total_supply: int

    @property
    def net_issued_total(self) -> int:
        return sum(b.net_issued for b in self.banks)

    @property
    def balanced(self) -> bool:
        """True when the banks' positions add up to the total supply (the network's books balance)."""
        return self.net_issued_total == self.total_supply

    def of(self, bank_id: bytes) -> BankPosition:
        for position in self.banks:
            if position.bank_id == bank_id:
                return position
        raise KeyError(id_to_text(bank_id))


@dataclass(frozen=True)
class ProposalInfo:
    """A governance proposal."""

    proposal_id: int
    proposer: ChecksumAddress
    target: ChecksumAddress
    data: bytes
    description: str
    status: ProposalStatus
    approvals: int
