"""Who holds each of the bank's singleton roles (issue 21): the writer, the indexer and the periodic jobs run in
one process of the bank at a time, chosen by a lock (a PostgreSQL advisory lock); the holder writes its row here
and refreshes it every second, so the readiness check and the operators see which process holds what.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "node_roles",
        sa.Column("role", sa.Enum("writer", "indexer", "jobs", name="node_role", native_enum=False,
                                  create_constraint=True, length=16), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_node_roles")),
    )


def downgrade() -> None:
    op.drop_table("node_roles")
