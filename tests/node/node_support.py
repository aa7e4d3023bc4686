"""Helpers shared by the node tests (fixtures are in conftest.py)."""

from __future__ import annotations

from node.ledger import AccountKind, SqlLedger

CURRENCY = "DCASH"
ACCOUNTS = {
    "equity": AccountKind.EQUITY,
    "vault": AccountKind.VAULT_CASH,
    "atm:0001": AccountKind.ATM_CASH,
    "deposit:alice": AccountKind.CUSTOMER_DEPOSIT,
    "deposit:bob": AccountKind.CUSTOMER_DEPOSIT,
    "suspense:wallet-funding": AccountKind.WALLET_FUNDING_SUSPENSE,
    "merchant:m1": AccountKind.MERCHANT_SETTLEMENT,
    "income:fees": AccountKind.FEE_INCOME,
    "chain:issued": AccountKind.CHAIN_ISSUED,
}


def deposit_cash(book: SqlLedger, account: str, amount_minor: int, reference: str) -> None:
    """A customer pays notes in at the counter: debit vault cash, credit the deposit account."""
    book.credit(account, amount_minor, contra="vault", reference=reference)
