"""What "confirmed" means, in one place for the writer, the indexer and reconciliation.

A transaction has 1 confirmation in the block that mines it and one more for every block after it (the
usual Ethereum meaning). With ``confirmations`` = 0 or 1, mined is enough; with 3, two more blocks must
follow. So a block counts as confirmed once it is at or below :func:`confirmed_head`.
"""

from __future__ import annotations

__all__ = ["confirmed_head", "is_confirmed"]


def confirmed_head(head: int, confirmations: int) -> int:
    """The newest block with at least ``confirmations`` confirmations when the chain's head is ``head``."""
    if confirmations < 0:
        raise ValueError(f"confirmations must be >= 0, got {confirmations}")
    return head - max(confirmations - 1, 0)


def is_confirmed(mined_in: int, head: int, confirmations: int) -> bool:
    """Whether a transaction mined in block ``mined_in`` has ``confirmations`` confirmations at ``head``."""
    return mined_in <= confirmed_head(head, confirmations)
