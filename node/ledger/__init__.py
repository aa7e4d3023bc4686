"""The bank's core-banking ledger: a double-entry book behind an adapter interface.

``open_ledger(session)`` gives the configured :class:`CoreBankingLedger` (the built-in :class:`SqlLedger`
unless the ``ledger_adapter`` setting names another).
"""

from node.ledger import errors
from node.ledger.adapter import BUILTIN, CoreBankingLedger, LedgerFactory, open_ledger
from node.ledger.builtin import SqlLedger
from node.ledger.errors import *  # noqa: F403  (the ledger errors, as errors.__all__ lists them)
from node.ledger.types import AccountInfo, AccountKind, Balance, Entry, Hold, HoldState, Leg, NormalSide

__all__ = [
    "BUILTIN",
    "AccountInfo",
    "AccountKind",
    "Balance",
    "CoreBankingLedger",
    "Entry",
    "Hold",
    "HoldState",
    "LedgerFactory",
    "Leg",
    "NormalSide",
    "SqlLedger",
    "open_ledger",
    *errors.__all__,
]
