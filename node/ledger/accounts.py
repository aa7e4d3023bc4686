"""The bank's own ledger accounts that the flows book against, by code, and opening them.

Customer deposit accounts belong to the core-banking system; the built-in ledger opens them through
``POST /v1/accounts`` (admin) for local networks and tests. The accounts below are the node's own.
"""

from __future__ import annotations

from typing import Final

from node.ledger.adapter import CoreBankingLedger
from node.ledger.types import AccountKind

__all__ = ["CHAIN_ISSUED", "EQUITY", "FEE_INCOME", "FUNDING_SUSPENSE", "SYSTEM_ACCOUNTS", "VAULT",
           "atm_account", "ensure_system_accounts"]

CHAIN_ISSUED: Final = "chain:issued"  # digital cash this bank put on chain (mirrors netIssued)
FUNDING_SUSPENSE: Final = "wallet:funding"  # money between a bank account and the chain while a flow runs
VAULT: Final = "cash:vault"  # notes in the branch vault
FEE_INCOME: Final = "income:fees"
EQUITY: Final = "equity"

SYSTEM_ACCOUNTS: Final = {
    CHAIN_ISSUED: AccountKind.CHAIN_ISSUED,
    FUNDING_SUSPENSE: AccountKind.WALLET_FUNDING_SUSPENSE,
    VAULT: AccountKind.VAULT_CASH,
    FEE_INCOME: AccountKind.FEE_INCOME,
    EQUITY: AccountKind.EQUITY,
}


def atm_account(atm_id: str) -> str:
    """The ledger account of the notes in one ATM's cassettes."""
    return f"cash:atm:{atm_id}"


def ensure_system_accounts(ledger: CoreBankingLedger, currency: str) -> None:
    """Open the node's own accounts (idempotent; a core-banking adapter maps them onto its own books)."""
    for code, kind in SYSTEM_ACCOUNTS.items():
        ledger.open_account(code, kind, currency, name=code)
