"""ATM registry and messages (node.flows.atm_models): the bank's ATMs with their encrypted device secrets, the
signed messages seen (replays are refused) and the ATM events answered (retries get the first answer); an
index of the operations by kind and status (the cash-out timeout sweep runs every round).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "atms",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("atm_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column(
            "state",
            sa.Enum("active", "disabled", name="atm_state", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atms")),
        sa.UniqueConstraint("atm_id", name=op.f("uq_atms_atm_id")),
    )
    op.create_table(
        "atm_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("atm_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atm_messages")),
        sa.UniqueConstraint("atm_id", "signature", name=op.f("uq_atm_messages_atm_id_signature")),
    )
    with op.batch_alter_table("atm_messages", schema=None) as batch_op:
        batch_op.create_index("ix_atm_messages_timestamp", ["timestamp"], unique=False)

    op.create_table(
        "atm_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("atm_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_atm_events")),
        sa.UniqueConstraint("atm_id", "event_id", name=op.f("uq_atm_events_atm_id_event_id")),
    )
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.create_index("ix_operations_kind_status", ["kind", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_index("ix_operations_kind_status")

    op.drop_table("atm_events")
    with op.batch_alter_table("atm_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_atm_messages_timestamp")

    op.drop_table("atm_messages")
    op.drop_table("atms")
