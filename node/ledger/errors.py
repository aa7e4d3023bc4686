"""Ledger errors, each named after the invariant it protects and carrying the values that broke it.

Each is a :class:`~node.errors.NodeError` and declares the problem (and HTTP status) the API reports it as.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from node.errors import ConflictProblem, InvalidStateProblem, NodeError, NotFoundError, ValidationProblem
from wallet_sdk.exceptions import DeclaredError, error_message

__all__ = [
    "AccountConflictError",
    "AccountNotFoundError",
    "BalanceOverflowError",
    "CaptureExceedsHoldError",
    "EntryAlreadyReversedError",
    "EntryNotFoundError",
    "HoldExpiredError",
    "HoldNotActiveError",
    "HoldNotAllowedError",
    "HoldNotFoundError",
    "InsufficientFundsError",
    "InvalidAmountError",
    "LedgerError",
    "ReferenceConflictError",
    "UnbalancedEntryError",
]


class LedgerError(DeclaredError, NodeError):
    """Root of every ledger error (declared: see :class:`~wallet_sdk.exceptions.DeclaredError`)."""


@error_message("invalid amount {amount!r}: {reason}")
class InvalidAmountError(LedgerError, ValidationProblem, ValueError):
    """An amount that is not a non-zero integer of minor units within 64 bits (floats and bools included)."""

    amount: object
    reason: str


class UnbalancedEntryError(LedgerError, ValidationProblem, ValueError):
    """Debits and credits of an entry differ (per currency), or it has fewer than two legs."""

    def __init__(self, reference: str, imbalance_minor: Mapping[str, int]) -> None:
        self.reference = reference
        self.imbalance_minor = dict(imbalance_minor)
        shown = ", ".join(f"{cur} {amt:+d}" for cur, amt in sorted(self.imbalance_minor.items())) or "too few legs"
        super().__init__(f"entry {reference!r} does not balance: {shown}")


@error_message("no ledger account {code!r}")
class AccountNotFoundError(LedgerError, NotFoundError):
    code: str


@error_message("account {code!r} exists as {existing}, not {requested}")
class AccountConflictError(LedgerError, ConflictProblem):
    """An account with this code exists with another kind or currency."""

    code: str
    existing: str
    requested: str


class InsufficientFundsError(LedgerError):
    """The posting or hold would take the account's available balance below zero."""

    problem = "insufficient-funds"
    status = 422

    def __init__(self, account: str, currency: str, available_minor: int, requested_minor: int) -> None:
        self.account = account
        self.currency = currency
        self.available_minor = available_minor
        self.requested_minor = requested_minor
        super().__init__(f"the bank account has {available_minor} available, {requested_minor} requested",
                         message=f"account {account!r} has {available_minor} {currency} available, "
                                 f"{requested_minor} requested")

    def members(self) -> dict[str, Any]:
        return {"available": self.available_minor, "requested": self.requested_minor}


@error_message("account {account!r} holds {balance_minor} {currency}: {change_minor:+d} would take it past 64 bits")
class BalanceOverflowError(LedgerError, ConflictProblem):
    """The posting would take the account's balance past what 64 bits hold (the database sums postings in
    64-bit integers: SQLite fails the sum, and every reading of the account with it)."""

    account: str
    currency: str
    balance_minor: int
    change_minor: int

    def members(self) -> dict[str, Any]:
        return {"account": self.account}


@error_message("reference {reference!r} was already used with different accounts or amounts")
class ReferenceConflictError(LedgerError, ConflictProblem):
    """The reference was already used for an entry or hold with other legs or amounts."""

    reference: str


@error_message("no posted entry {reference!r}")
class EntryNotFoundError(LedgerError, NotFoundError):
    reference: str


@error_message("entry {reference!r} was already reversed by {reversed_by!r}")
class EntryAlreadyReversedError(LedgerError, ConflictProblem):
    """An entry is reversed at most once."""

    reference: str
    reversed_by: str


@error_message("no hold {reference!r}")
class HoldNotFoundError(LedgerError, NotFoundError):
    reference: str


@error_message("hold {reference!r} is {state}")
class HoldNotActiveError(LedgerError, InvalidStateProblem):
    """The hold was already released or captured (differently)."""

    reference: str
    state: str


class HoldExpiredError(HoldNotActiveError):
    """The hold's time ran out: it no longer reserves money and cannot be captured."""

    def __init__(self, reference: str, expires_at: datetime) -> None:
        super().__init__(reference, "expired")
        self.expires_at = expires_at
        self.args = (f"hold {reference!r} expired at {expires_at.isoformat()}",)


@error_message("account {account!r} ({kind}) does not take holds")
class HoldNotAllowedError(LedgerError, ValidationProblem):
    """Only customer deposit accounts take holds."""

    account: str
    kind: str


@error_message("hold {reference!r} holds {held_minor}, capture of {requested_minor} requested")
class CaptureExceedsHoldError(LedgerError, ValidationProblem, ValueError):
    reference: str
    held_minor: int
    requested_minor: int
