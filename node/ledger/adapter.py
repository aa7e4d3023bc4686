"""The core-banking interface the node talks to.

The node books money through a :class:`CoreBankingLedger`. The built-in one
(:class:`node.ledger.builtin.SqlLedger`) keeps a double-entry ledger in the node's own database and is the
default; a bank plugs in its real core-banking system by implementing this protocol and naming a factory
in the ``ledger_adapter`` setting (``"package.module:factory"``; the factory takes the node's database
session and returns the adapter).

Contract of every implementation:

- Amounts are ``int`` minor units. Debit/credit are meant the accounting way (see :mod:`node.ledger.types`).
- Every operation is idempotent on its ``reference``: repeating it with the same arguments returns the
  first result; the same reference with other accounts or amounts raises ``ReferenceConflictError``.
- An entry either posts whole and balanced or not at all; corrections are reversals, never edits.
- ``available`` = ``balance`` minus the active holds; a debit or hold that would take a non-overdraftable
  account's available balance below zero raises ``InsufficientFundsError``.
- ``account_info`` names the customer who owns a deposit account: the node binds a deposit account to a
  wallet only when that owner is the wallet's customer, so an adapter that cannot tell the owner cannot
  have accounts bound (there is no optional method the node would silently do without).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from node.ledger.types import AccountInfo, AccountKind, Balance, Entry, Hold, Leg

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["BUILTIN", "CoreBankingLedger", "LedgerFactory", "open_ledger"]

BUILTIN = "builtin"


@runtime_checkable
class CoreBankingLedger(Protocol):
    def account_info(self, code: str) -> AccountInfo:
        """What the core-banking system knows of account ``code``: kind, currency, name, and ``owner_ref``, the
        customer reference of the owner of a deposit account (None for the bank's own accounts, or when the
        system does not know it, which makes the account impossible to bind to a wallet).

        Raises:
            AccountNotFoundError: there is no account ``code``.
        """
        ...

    def open_account(self, code: str, kind: AccountKind, currency: str, *, name: str = "",
                     owner_ref: str | None = None) -> AccountInfo:
        """Open the node's own account ``code`` (its system accounts, each ATM's cash, the fee wallet), or return
        it when it exists with the same kind and currency (idempotent); an adapter may map the code onto an
        account of its own books. Customer deposit accounts are opened in the core-banking system, not here.

        Raises:
            AccountConflictError: ``code`` exists with another kind or currency.
        """
        ...

    def debit(self, account: str, amount_minor: int, *, contra: str, reference: str, memo: str = "",
              correlation_id: str | None = None) -> Entry:
        """Debit ``account`` (take money out of a deposit account) and credit ``contra`` by ``amount_minor``."""
        ...

    def credit(self, account: str, amount_minor: int, *, contra: str, reference: str, memo: str = "",
               correlation_id: str | None = None) -> Entry:
        """Credit ``account`` (put money into a deposit account) and debit ``contra`` by ``amount_minor``."""
        ...

    def transfer(self, legs: Sequence[Leg], *, reference: str, memo: str = "",
                 correlation_id: str | None = None) -> Entry:
        """Post one balanced entry of two or more legs (e.g. a settlement: merchant, fee income, payout)."""
        ...

    def hold(self, account: str, amount_minor: int, *, reference: str, memo: str = "",
             expires_at: datetime | None = None) -> Hold:
        """Set ``amount_minor`` aside on a deposit account; it stops being available but stays in the balance."""
        ...

    def release(self, reference: str) -> Hold:
        """Give a hold's money back to the available balance (idempotent)."""
        ...

    def capture(self, reference: str, *, contra: str, amount_minor: int | None = None,
                entry_reference: str | None = None, memo: str = "") -> Entry:
        """Turn a hold into a debit of its account (all of it, or ``amount_minor`` of it), crediting ``contra``;
        the rest of the hold is released."""
        ...

    def reverse(self, reference: str, *, reversal_reference: str, memo: str = "") -> Entry:
        """Post the mirror image of entry ``reference`` (at most once)."""
        ...

    def balance(self, account: str) -> Balance:
        """Balance on the account's normal side, derived from its postings."""
        ...

    def available(self, account: str) -> Balance:
        """``balance`` minus active holds."""
        ...


LedgerFactory = Callable[["Session"], CoreBankingLedger]


def open_ledger(session: Session, adapter: str = BUILTIN) -> CoreBankingLedger:
    """The ledger named by ``adapter``: ``"builtin"`` (default) or ``"package.module:factory"``."""
    if adapter == BUILTIN:
        from node.ledger.builtin import SqlLedger

        return SqlLedger(session)
    module_name, sep, attr = adapter.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"ledger adapter must be 'builtin' or 'package.module:factory', not {adapter!r}")
    factory = getattr(importlib.import_module(module_name), attr)
    ledger = factory(session)
    if not isinstance(ledger, CoreBankingLedger):
        raise TypeError(f"{adapter} returned {type(ledger).__name__}, which does not implement CoreBankingLedger")
    return ledger
