"""The record of reconciliation runs (issue 21): where an incremental run starts, and the newest run's
differences by kind for ``/metrics`` (node/reconcile/runs.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bank_id", sa.String(length=66), nullable=False),
        sa.Column("mode", sa.Enum("full", "incremental", name="reconciliation_mode", native_enum=False,
                                  create_constraint=True, length=16), nullable=False),
        sa.Column("chain_block", sa.BigInteger(), nullable=False),
        sa.Column("indexer_block", sa.BigInteger(), nullable=True),
        sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("differences", sa.Integer(), nullable=False),
        sa.Column("by_kind", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    op.create_index(op.f("ix_reconciliation_runs_bank_id"), "reconciliation_runs", ["bank_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_reconciliation_runs_bank_id"), table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
