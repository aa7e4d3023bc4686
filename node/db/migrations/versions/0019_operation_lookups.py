"""Indexed look-ups for admission (issue 20): an operation's authorization nonce in a column of its own, and
operations by wallet and status.

Every batch of payments asks which of its nonces a payer used already and what the payer has pending. The nonce
lived only in ``details`` (JSON), so the question read every P2P operation of the node's life; pending outflows
read every operation of the payer's. ``auth_nonce`` is filled from ``details`` for the operations there are.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_operations = sa.table("operations", sa.column("auth_nonce", sa.String(80)),
                       sa.column("details", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")))


def upgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auth_nonce", sa.String(length=80), nullable=True))
    nonce = _operations.c.details["nonce"].as_string()
    op.execute(_operations.update().where(nonce.is_not(None)).values(auth_nonce=nonce))
    op.create_index("ix_operations_wallet_auth_nonce", "operations", ["wallet", "auth_nonce"])
    op.create_index("ix_operations_wallet_status", "operations", ["wallet", "status"])


def downgrade() -> None:
    op.drop_index("ix_operations_wallet_status", table_name="operations")
    op.drop_index("ix_operations_wallet_auth_nonce", table_name="operations")
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_column("auth_nonce")
