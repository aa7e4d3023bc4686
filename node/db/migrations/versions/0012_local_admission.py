"""What a payment is admitted against without asking the chain (issue 20): ``chain_limits`` (each limit
class's limits, from ``LimitsSet``), an index on a wallet's history by time (today's outflow) and one on the
block of each chain transaction (which of this node's transactions the indexer has not reached yet).

Rows indexed before this revision have no ``chain_limits``: until the indexer sees a ``LimitsSet`` again, the
node reads a missing class's limits from the chain.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chain_limits",
        sa.Column("limit_class", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("balance_cap", sa.BigInteger(), nullable=True),
        sa.Column("single_payment_limit", sa.BigInteger(), nullable=True),
        sa.Column("daily_outflow_limit", sa.BigInteger(), nullable=True),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("limit_class"),
    )
    op.create_index("ix_wallet_history_wallet_time", "wallet_history", ["wallet", "block_time"])
    op.create_index("ix_chain_transactions_block_number", "chain_transactions", ["block_number"])


def downgrade() -> None:
    op.drop_index("ix_chain_transactions_block_number", table_name="chain_transactions")
    op.drop_index("ix_wallet_history_wallet_time", table_name="wallet_history")
    op.drop_table("chain_limits")
