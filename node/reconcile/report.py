"""The reconciliation report: every difference found, as data, a table, or JSON.

A :class:`Difference` reads "the <kind> of <subject> should be <expected> but is <actual>". Where the chain is
compared with a record of the node (indexer, ledger, outbox), ``expected`` is what the chain says and
``actual`` what the node's record says. Amounts are ints of minor units.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rich.table import Table

__all__ = ["Difference", "DifferenceKind", "ReconciliationReport"]


class DifferenceKind(StrEnum):
    # the chain against itself
    SUPPLY_VS_NET_ISSUED = "supply_vs_net_issued"  # totalSupply vs the sum of every bank's netIssued
    # the indexer's projection against the chain (at the indexer's checkpoint)
    INDEXER_NOT_RUN = "indexer_not_run"
    INDEXER_MID_BLOCK = "indexer_mid_block"
    INDEXER_NET_ISSUED = "indexer_net_issued"
    INDEXER_WALLET_BALANCE = "indexer_wallet_balance"
    INDEXER_WALLET_HELD = "indexer_wallet_held"
    INDEXER_WALLET_HISTORY = "indexer_wallet_history"
    INDEXER_MERCHANT_PENDING = "indexer_merchant_pending"
    # the ledger against the chain
    LEDGER_ISSUANCE = "ledger_issuance"
    # the outbox against the chain
    OUTBOX_EFFECT_MISSING = "outbox_effect_missing"
    OUTBOX_AMOUNT_MISMATCH = "outbox_amount_mismatch"
    CHAIN_EFFECT_WITHOUT_OUTBOX = "chain_effect_without_outbox"
    OUTBOX_STUCK = "outbox_stuck"


Value = int | str | None


@dataclass(frozen=True)
class Difference:
    """Equal when kind, subject, expected and actual are (``detail`` is prose for people)."""

    kind: DifferenceKind
    subject: str  # a wallet address, ref, merchant id, outbox key, bank id, "network" or "indexer"
    expected: Value
    actual: Value
    detail: str = field(default="", compare=False)

    @property
    def sort_key(self) -> tuple[str, str]:
        return self.kind.value, self.subject

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "subject": self.subject, "expected": self.expected, "actual": self.actual,
                "detail": self.detail}


@dataclass(frozen=True)
class ReconciliationReport:
    bank: str
    currency: str
    chain_block: int  # the block the chain was read at (head minus confirmations)
    indexer_block: int | None  # the block the indexer's projection was compared at
    differences: tuple[Difference, ...]
    checked: Mapping[str, int]  # how many wallets, merchants, refs, outbox rows were compared

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {"bank": self.bank, "currency": self.currency, "chain_block": self.chain_block,
                "indexer_block": self.indexer_block, "ok": self.ok, "checked": dict(self.checked),
                "differences": [d.to_dict() for d in self.differences]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def table(self) -> Table:
        title = (f"reconciliation of {self.bank} ({self.currency}) at block {self.chain_block}: "
                 f"{len(self.differences)} difference{'' if len(self.differences) == 1 else 's'}")
        table = Table(title=title)
        for column in ("kind", "subject", "expected", "actual", "detail"):
            table.add_column(column, overflow="fold")
        for d in self.differences:
            table.add_row(d.kind.value, d.subject, _shown(d.expected), _shown(d.actual), d.detail)
        return table

    def summary(self) -> str:
        counts = ", ".join(f"{n} {what}" for what, n in self.checked.items())
        return f"checked {counts}; {len(self.differences)} differences"


def _shown(value: Value) -> str:
    return "-" if value is None else str(value)
