"""Ledger errors, each named after the invariant it protects and carrying the values that broke it.

Each is a :class:`~node.errors.NodeError` and declares the problem (and HTTP status) the API reports it as.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from node.errors import NodeError, NotFoundError

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


class LedgerError(NodeError):
    """Root of every ledger error."""


class InvalidAmountError(LedgerError, ValueError):
    """An amount that is not a non-zero integer of minor units within 64 bits (floats and bools included)."""

    problem = "validation"
    status = 422

    def __init__(self, amount: object, reason: str) -> None:
        self.amount = amount
        self.reason = reason
        super().__init__(f"invalid amount {amount!r}: {reason}")


class UnbalancedEntryError(LedgerError, ValueError):
    """Debits and credits of an entry differ (per currency), or it has fewer than two legs."""

    problem = "validation"
    status = 422

    def __init__(self, reference: str, imbalance_minor: Mapping[str, int]) -> None:
        self.reference = reference
        self.imbalance_minor = dict(imbalance_minor)
        shown = ", ".join(f"{cur} {amt:+d}" for cur, amt in sorted(self.imbalance_minor.items())) or "too few legs"
        super().__init__(f"entry {reference!r} does not balance: {shown}")


class AccountNotFoundError(LedgerError, NotFoundError):
    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"no ledger account {code!r}")


class AccountConflictError(LedgerError):
    """An account with this code exists with another kind or currency."""

    problem = "conflict"
    status = 409

    def __init__(self, code: str, existing: str, requested: str) -> None:
        self.code = code
        self.existing = existing
        self.requested = requested
        super().__init__(f"account {code!r} exists as {existing}, not {requested}")


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


class BalanceOverflowError(LedgerError):
    """The posting would take the account's balance past what 64 bits hold (the database sums postings in
    64-bit integers: SQLite fails the sum, and every reading of the account with it)."""

    problem = "conflict"
    status = 409

    def __init__(self, account: str, currency: str, balance_minor: int, change_minor: int) -> None:
        self.account = account
        self.currency = currency
        self.balance_minor = balance_minor
        self.change_minor = change_minor
        super().__init__(f"account {account!r} holds {balance_minor} {currency}: {change_minor:+d} would take it "
                         f"past 64 bits", account=account)


class ReferenceConflictError(LedgerError):
    """The reference was already used for an entry or hold with other legs or amounts."""

    problem = "conflict"
    status = 409

    def __init__(self, reference: str) -> None:
        self.reference = reference
        super().__init__(f"reference {reference!r} was already used with different accounts or amounts")


class EntryNotFoundError(LedgerError, NotFoundError):
    def __init__(self, reference: str) -> None:
        self.reference = reference
        super().__init__(f"no posted entry {reference!r}")


class EntryAlreadyReversedError(LedgerError):
    """An entry is reversed at most once."""

    problem = "conflict"
    status = 409

    def __init__(self, reference: str, reversed_by: str) -> None:
        self.reference = reference
        self.reversed_by = reversed_by
        super().__init__(f"entry {reference!r} was already reversed by {reversed_by!r}")


class HoldNotFoundError(LedgerError, NotFoundError):
    def __init__(self, reference: str) -> None:
        self.reference = reference
        super().__init__(f"no hold {reference!r}")


class HoldNotActiveError(LedgerError):
    """The hold was already released or captured (differently)."""

    problem = "invalid-state"
    status = 409

    def __init__(self, reference: str, state: str) -> None:
        self.reference = reference
        self.state = state
        super().__init__(f"hold {reference!r} is {state}")


class HoldExpiredError(HoldNotActiveError):
    """The hold's time ran out: it no longer reserves money and cannot be captured."""

    def __init__(self, reference: str, expires_at: datetime) -> None:
        super().__init__(reference, "expired")
        self.expires_at = expires_at
        self.args = (f"hold {reference!r} expired at {expires_at.isoformat()}",)


class HoldNotAllowedError(LedgerError):
    """Only customer deposit accounts take holds."""

    problem = "validation"
    status = 422

    def __init__(self, account: str, kind: str) -> None:
        self.account = account
        self.kind = kind
        super().__init__(f"account {account!r} ({kind}) does not take holds")


class CaptureExceedsHoldError(LedgerError, ValueError):
    problem = "validation"
    status = 422

    def __init__(self, reference: str, held_minor: int, requested_minor: int) -> None:
        self.reference = reference
        self.held_minor = held_minor
        self.requested_minor = requested_minor
        super().__init__(f"hold {reference!r} holds {held_minor}, capture of {requested_minor} requested")
