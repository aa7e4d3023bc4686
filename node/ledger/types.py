"""Values the ledger interface speaks in; no database types here, so another adapter can return them too.

Amounts are ``int`` minor units. A :class:`Leg` is signed the accounting way: positive debits the account,
negative credits it. For a customer's deposit account (a liability of the bank) a debit takes money out and
a credit puts money in, which is also what a bank statement says; for cash (an asset) a debit adds notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["AccountInfo", "AccountKind", "Balance", "Entry", "Hold", "HoldState", "Leg", "NormalSide"]


class NormalSide(StrEnum):
    DEBIT = "debit"  # assets: a debit increases the balance
    CREDIT = "credit"  # liabilities, income, equity: a credit increases the balance


class AccountKind(StrEnum):
    """What an account stands for. It fixes the account's normal side, whether its balance may go below zero,
    and whether it takes holds."""

    CUSTOMER_DEPOSIT = "customer_deposit"  # a customer's current account (a liability of the bank)
    VAULT_CASH = "vault_cash"  # notes in the branch vault (asset)
    ATM_CASH = "atm_cash"  # notes in one ATM's cassettes (asset; one account per ATM)
    WALLET_FUNDING_SUSPENSE = "wallet_funding_suspense"  # money between the bank ledger and the chain
    MERCHANT_SETTLEMENT = "merchant_settlement"  # what the bank owes an acquired merchant (liability)
    FEE_INCOME = "fee_income"  # fees earned (income)
    CHAIN_ISSUED = "chain_issued"  # digital cash this bank has put on chain: mirrors netIssued (liability)
    EQUITY = "equity"  # the bank's own funds; opening balances are booked against it
    DIGITAL_CASH = "digital_cash"  # digital cash the bank itself holds on chain, e.g. its fee wallet (asset)

    @property
    def normal_side(self) -> NormalSide:
        debit_normal = (AccountKind.VAULT_CASH, AccountKind.ATM_CASH, AccountKind.DIGITAL_CASH)
        return NormalSide.DEBIT if self in debit_normal else NormalSide.CREDIT

    @property
    def may_go_negative(self) -> bool:
        """Cash cannot be negative and no customer or merchant may be overdrawn. Clearing, income, equity and
        the chain position may (netIssued is negative when a bank redeemed more than it issued)."""
        return self in (
            AccountKind.WALLET_FUNDING_SUSPENSE,
            AccountKind.FEE_INCOME,
            AccountKind.CHAIN_ISSUED,
            AccountKind.EQUITY,
        )

    @property
    def takes_holds(self) -> bool:
        return self is AccountKind.CUSTOMER_DEPOSIT


class HoldState(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    CAPTURED = "captured"


@dataclass(frozen=True, order=True)
class Leg:
    """One side of an entry: ``amount_minor`` > 0 debits ``account`` (a code), < 0 credits it."""

    account: str
    amount_minor: int

    @classmethod
    def debit(cls, account: str, amount_minor: int) -> Leg:
        return cls(account, amount_minor)

    @classmethod
    def credit(cls, account: str, amount_minor: int) -> Leg:
        return cls(account, -amount_minor)


@dataclass(frozen=True)
class AccountInfo:
    code: str
    kind: AccountKind
    currency: str
    name: str = ""
    owner_ref: str | None = None


@dataclass(frozen=True)
class Balance:
    """An account's balance on its normal side (a customer's deposit of 100.00 is +10000, not -10000)."""

    account: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Entry:
    """A posted journal entry."""

    id: int
    reference: str
    legs: tuple[Leg, ...]
    currency: str  # of the legs; an entry mixing currencies gives them comma-separated
    memo: str = ""
    correlation_id: str | None = None
    reverses: str | None = None  # the reference of the entry this one reverses
    posted_at: datetime | None = None


@dataclass(frozen=True)
class Hold:
    reference: str
    account: str
    amount_minor: int
    currency: str
    state: HoldState
    expires_at: datetime | None = None
    captured_minor: int | None = None
    capture_reference: str | None = None
