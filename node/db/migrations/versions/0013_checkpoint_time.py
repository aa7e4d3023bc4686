"""The time of the indexer's checkpoint block: the chain's clock as the node last saw it (issue 20), so a
payment's deadline is checked with no JSON-RPC call. NULL until the indexer next advances.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indexer_checkpoints") as batch:
        batch.add_column(sa.Column("block_time", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("indexer_checkpoints") as batch:
        batch.drop_column("block_time")
