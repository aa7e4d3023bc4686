"""Chain writer: the transactions the writer signs and sends for outbox rows.

``chain_transactions`` (one per nonce of a sender), ``chain_transaction_attempts`` (each signed version:
raw bytes, hash, fees) and ``chain_transaction_rows`` (which outbox rows a transaction carries). See
node.writer.models.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chain_transactions",
        sa.Column("id", _id(), nullable=False),
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("to_address", sa.String(length=42), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("gas_limit", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.Enum("pending", "mined", "reverted", "displaced", name="chain_tx_state",
                                   native_enum=False, create_constraint=True, length=16), nullable=False),
        sa.Column("mined_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_transactions")),
        sa.UniqueConstraint("sender", "nonce", name=op.f("uq_chain_transactions_sender_nonce")),
    )
    op.create_index(op.f("ix_chain_transactions_state"), "chain_transactions", ["state"])

    op.create_table(
        "chain_transaction_attempts",
        sa.Column("id", _id(), nullable=False),
        sa.Column("chain_tx_id", _id(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("raw_tx", sa.LargeBinary(), nullable=False),
        sa.Column("gas_price", sa.BigInteger(), nullable=True),
        sa.Column("max_fee_per_gas", sa.BigInteger(), nullable=True),
        sa.Column("max_priority_fee_per_gas", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(["chain_tx_id"], ["chain_transactions.id"],
                                name=op.f("fk_chain_transaction_attempts_chain_tx_id_chain_transactions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_transaction_attempts")),
        sa.UniqueConstraint("tx_hash", name=op.f("uq_chain_transaction_attempts_tx_hash")),
    )
    op.create_index(op.f("ix_chain_transaction_attempts_chain_tx_id"), "chain_transaction_attempts",
                    ["chain_tx_id"])

    op.create_table(
        "chain_transaction_rows",
        sa.Column("outbox_id", _id(), autoincrement=False, nullable=False),
        sa.Column("chain_tx_id", _id(), nullable=False),
        sa.Column("first_item", sa.Integer(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["chain_tx_id"], ["chain_transactions.id"],
                                name=op.f("fk_chain_transaction_rows_chain_tx_id_chain_transactions")),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_chain_transaction_rows_outbox_id_outbox")),
        sa.PrimaryKeyConstraint("outbox_id", name=op.f("pk_chain_transaction_rows")),
    )
    op.create_index(op.f("ix_chain_transaction_rows_chain_tx_id"), "chain_transaction_rows", ["chain_tx_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_chain_transaction_rows_chain_tx_id"), table_name="chain_transaction_rows")
    op.drop_table("chain_transaction_rows")
    op.drop_index(op.f("ix_chain_transaction_attempts_chain_tx_id"), table_name="chain_transaction_attempts")
    op.drop_table("chain_transaction_attempts")
    op.drop_index(op.f("ix_chain_transactions_state"), table_name="chain_transactions")
    op.drop_table("chain_transactions")
