"""One meaning of "confirmed" for the writer, the indexer and reconciliation."""

from __future__ import annotations

import pytest

from node.confirmations import confirmed_head, is_confirmed


def test_the_mining_block_is_the_first_confirmation() -> None:
    assert confirmed_head(100, 0) == confirmed_head(100, 1) == 100  # mined is enough
    assert confirmed_head(100, 3) == 98
    assert is_confirmed(100, 100, 1) and not is_confirmed(100, 100, 2)
    assert is_confirmed(98, 100, 3) and not is_confirmed(99, 100, 3)


def test_negative_confirmations_are_refused() -> None:
    with pytest.raises(ValueError, match="confirmations must be >= 0"):
        confirmed_head(10, -1)
