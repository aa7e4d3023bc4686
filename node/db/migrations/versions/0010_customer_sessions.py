"""Customer sessions (node.api_keys.models.CustomerSession): short-lived tokens a login backend mints for one
customer, stored as their sha256; and who asked for each operation beyond its API key: a teller's branch and
operator id, or the customer session an app acted in.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_sessions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_ref", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("api_key_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"],
                                name=op.f("fk_customer_sessions_api_key_id_api_keys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_customer_sessions_token_hash")),
    )
    with op.batch_alter_table("customer_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_sessions_customer_ref"), ["customer_ref"], unique=False)
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("branch", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("operator", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("customer_session_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_column("customer_session_id")
        batch_op.drop_column("operator")
        batch_op.drop_column("branch")
    with op.batch_alter_table("customer_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_sessions_customer_ref"))
    op.drop_table("customer_sessions")
