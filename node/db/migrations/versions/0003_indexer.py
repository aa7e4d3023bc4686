"""Indexer: its checkpoint and the chain history it follows into the database (see node.indexer_models).

``indexer_checkpoints``, ``chain_wallets`` (registry facts and balance projection), ``wallet_history``,
``chain_holds``, ``chain_merchants``, ``merchant_orders``, ``settlement_batches`` and ``bank_issuance``.
Everything here is derived from contract events and can be rebuilt by indexing again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("indexer_checkpoints", "chain_wallets", "wallet_history", "chain_holds", "chain_merchants",
          "merchant_orders", "settlement_batches", "bank_issuance")


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _address() -> sa.String:
    return sa.String(length=42)


def _id_text() -> sa.String:
    return sa.String(length=66)


def _money() -> sa.BigInteger:
    return sa.BigInteger()


def _currency() -> sa.String:
    return sa.String(length=16)


def upgrade() -> None:
    op.create_table(
        "indexer_checkpoints",
        sa.Column("id", _id(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("token_address", _address(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("bank_id", _id_text(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indexer_checkpoints")),
        sa.UniqueConstraint("name", name=op.f("uq_indexer_checkpoints_name")),
    )

    op.create_table(
        "chain_wallets",
        sa.Column("id", _id(), nullable=False),
        sa.Column("address", _address(), nullable=False),
        sa.Column("bank_id", _id_text(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", _currency(), nullable=False),
        sa.Column("spendable_minor", _money(), nullable=False),
        sa.Column("held_minor", _money(), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_wallets")),
        sa.UniqueConstraint("address", name=op.f("uq_chain_wallets_address")),
    )
    op.create_index(op.f("ix_chain_wallets_bank_id"), "chain_wallets", ["bank_id"])

    op.create_table(
        "wallet_history",
        sa.Column("id", _id(), nullable=False),
        sa.Column("wallet", _address(), nullable=False),
        sa.Column("kind", sa.Enum("transfer_out", "transfer_in", "mint", "burn", "hold_placed", "hold_captured",
                                  "hold_released", name="wallet_history_kind", native_enum=False,
                                  create_constraint=True, length=16), nullable=False),
        sa.Column("amount_minor", _money(), nullable=False),
        sa.Column("spendable_delta_minor", _money(), nullable=False),
        sa.Column("held_delta_minor", _money(), nullable=False),
        sa.Column("currency", _currency(), nullable=False),
        sa.Column("counterparty", _address(), nullable=True),
        sa.Column("bank_id", _id_text(), nullable=True),
        sa.Column("ref", _id_text(), nullable=True),
        sa.Column("burn_reason", sa.String(length=32), nullable=True),
        sa.Column("hold_id", _id_text(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_time", _ts(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_history")),
        sa.UniqueConstraint("tx_hash", "log_index", "kind", name=op.f("uq_wallet_history_tx_hash_log_index_kind")),
    )
    op.create_index("ix_wallet_history_wallet_position", "wallet_history", ["wallet", "block_number", "log_index"])

    op.create_table(
        "chain_holds",
        sa.Column("id", _id(), nullable=False),
        sa.Column("hold_id", _id_text(), nullable=False),
        sa.Column("holder", _address(), nullable=False),
        sa.Column("amount_minor", _money(), nullable=False),
        sa.Column("currency", _currency(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("capture_ref", _id_text(), nullable=True),
        sa.Column("placed_tx_hash", sa.String(length=66), nullable=False),
        sa.Column("placed_block", sa.BigInteger(), nullable=False),
        sa.Column("resolved_tx_hash", sa.String(length=66), nullable=True),
        sa.Column("resolved_block", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_holds")),
        sa.UniqueConstraint("hold_id", name=op.f("uq_chain_holds_hold_id")),
    )
    op.create_index(op.f("ix_chain_holds_holder"), "chain_holds", ["holder"])

    op.create_table(
        "chain_merchants",
        sa.Column("id", _id(), nullable=False),
        sa.Column("merchant_id", _id_text(), nullable=False),
        sa.Column("acquirer", _id_text(), nullable=False),
        sa.Column("wallet", _address(), nullable=False),
        sa.Column("fee_bps", sa.Integer(), nullable=False),
        sa.Column("payout_mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", _currency(), nullable=False),
        sa.Column("pending_gross_minor", _money(), nullable=False),
        sa.Column("pending_refunds_minor", _money(), nullable=False),
        sa.Column("last_batch_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_merchants")),
        sa.UniqueConstraint("merchant_id", name=op.f("uq_chain_merchants_merchant_id")),
    )
    op.create_index(op.f("ix_chain_merchants_acquirer"), "chain_merchants", ["acquirer"])

    op.create_table(
        "merchant_orders",
        sa.Column("id", _id(), nullable=False),
        sa.Column("merchant_id", _id_text(), nullable=False),
        sa.Column("order_id", _id_text(), nullable=False),
        sa.Column("payer", _address(), nullable=False),
        sa.Column("currency", _currency(), nullable=False),
        sa.Column("paid_minor", _money(), nullable=False),
        sa.Column("refunded_minor", _money(), nullable=False),
        sa.Column("paid_block", sa.BigInteger(), nullable=False),
        sa.Column("paid_time", _ts(), nullable=False),
        sa.Column("paid_tx_hash", sa.String(length=66), nullable=False),
        sa.Column("paid_log_index", sa.Integer(), nullable=False),
        sa.Column("last_refund_ref", _id_text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_orders")),
        sa.UniqueConstraint("merchant_id", "order_id", name=op.f("uq_merchant_orders_merchant_id_order_id")),
        sa.UniqueConstraint("paid_tx_hash", "paid_log_index",
                            name=op.f("uq_merchant_orders_paid_tx_hash_paid_log_index")),
    )
    op.create_index(op.f("ix_merchant_orders_payer"), "merchant_orders", ["payer"])

    op.create_table(
        "settlement_batches",
        sa.Column("id", _id(), nullable=False),
        sa.Column("merchant_id", _id_text(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("acquirer", _id_text(), nullable=False),
        sa.Column("currency", _currency(), nullable=False),
        sa.Column("gross_minor", _money(), nullable=False),
        sa.Column("refunds_minor", _money(), nullable=False),
        sa.Column("fee_minor", _money(), nullable=False),
        sa.Column("net_minor", _money(), nullable=False),
        sa.Column("payout_mode", sa.String(length=16), nullable=False),
        sa.Column("ref", _id_text(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_time", _ts(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_batches")),
        sa.UniqueConstraint("merchant_id", "batch_id", name=op.f("uq_settlement_batches_merchant_id_batch_id")),
        sa.UniqueConstraint("tx_hash", "log_index", name=op.f("uq_settlement_batches_tx_hash_log_index")),
    )
    op.create_index(op.f("ix_settlement_batches_acquirer"), "settlement_batches", ["acquirer"])

    op.create_table(
        "bank_issuance",
        sa.Column("id", _id(), nullable=False),
        sa.Column("bank_id", _id_text(), nullable=False),
        sa.Column("currency", _currency(), nullable=False),
        sa.Column("minted_minor", _money(), nullable=False),
        sa.Column("burned_minor", _money(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_issuance")),
        sa.UniqueConstraint("bank_id", name=op.f("uq_bank_issuance_bank_id")),
    )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)  # their indexes go with them
