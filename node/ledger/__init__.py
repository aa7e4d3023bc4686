"""The bank's core-banking ledger: a double-entry book behind an adapter interface.

``open_ledger(session)`` gives the configured :class:`CoreBankingLedger` (the built-in :class:`SqlLedger`
unless the ``ledger_adapter`` setting names another).
"""

from node.ledger.adapter import BUILTIN, CoreBankingLedger, LedgerFactory, open_ledger
from node.ledger.builtin import SqlLedger
from node.ledger.errors import (
    AccountConflictError,
    AccountNotFoundError,
    BalanceOverflowError,
    CaptureExceedsHoldError,
    EntryAlreadyReversedError,
    EntryNotFoundError,
    HoldExpiredError,
    HoldNotActiveError,
    HoldNotAllowedError,
    HoldNotFoundError,
    InsufficientFundsError,
    InvalidAmountError,
    LedgerError,
    ReferenceConflictError,
    UnbalancedEntryError,
)
from node.ledger.types import AccountInfo, AccountKind, Balance, Entry, Hold, HoldState, Leg, NormalSide

__all__ = [
    "BUILTIN",
    "AccountConflictError",
    "AccountInfo",
    "AccountKind",
    "AccountNotFoundError",
    "Balance",
    "BalanceOverflowError",
    "CaptureExceedsHoldError",
    "CoreBankingLedger",
    "Entry",
    "EntryAlreadyReversedError",
    "EntryNotFoundError",
    "Hold",
    "HoldExpiredError",
    "HoldNotActiveError",
    "HoldNotAllowedError",
    "HoldNotFoundError",
    "HoldState",
    "InsufficientFundsError",
    "InvalidAmountError",
    "LedgerError",
    "LedgerFactory",
    "Leg",
    "NormalSide",
    "ReferenceConflictError",
    "SqlLedger",
    "UnbalancedEntryError",
    "open_ledger",
]
