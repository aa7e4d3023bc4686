"""The flows" tables: operations (node.flows.operations), wallets the bank opened
(node.flows.wallet_records), TOTP second factors (node.flows.second_factor).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "second_factors",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_second_factors")),
        sa.UniqueConstraint("wallet", name=op.f("uq_second_factors_wallet")),
    )
    op.create_table(
        "wallets",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("customer_ref", sa.String(length=64), nullable=False),
        sa.Column("enrolment_key", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column(
            "verification",
            sa.Enum(
                "in_person",
                "bank_account",
                "identity_document",
                "phone",
                name="wallet_verification",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column(
            "custody",
            sa.Enum("custodial", "self", name="wallet_custody", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "active",
                "frozen",
                "closing",
                "closed",
                "failed",
                name="wallet_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("account_code", sa.String(length=128), nullable=True),
        sa.Column("account_salt", sa.String(length=66), nullable=True),
        sa.Column("account_hash", sa.String(length=66), nullable=True),
        sa.Column("key_ciphertext", sa.Text(), nullable=True),
        sa.Column("freeze_reason", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallets")),
        sa.UniqueConstraint("address", name=op.f("uq_wallets_address")),
        sa.UniqueConstraint("enrolment_key", name=op.f("uq_wallets_enrolment_key")),
    )
    with op.batch_alter_table("wallets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wallets_customer_ref"), ["customer_ref"], unique=False)

    op.create_table(
        "operations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "wallet_open",
                "tier_change",
                "freeze",
                "unfreeze",
                "account_binding",
                "wallet_close",
                "topup",
                "redemption",
                "atm_cash_in",
                "atm_cash_out",
                "p2p",
                name="operation_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "held",
                "completed",
                "failed",
                "released",
                name="operation_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("api_key_id", sa.BigInteger(), nullable=True),
        sa.Column("wallet", sa.String(length=42), nullable=True),
        sa.Column("counterparty", sa.String(length=42), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=16), nullable=True),
        sa.Column("account", sa.String(length=128), nullable=True),
        sa.Column("ref", sa.String(length=66), nullable=True),
        sa.Column("details", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"], name=op.f("fk_operations_api_key_id_api_keys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operations")),
        sa.UniqueConstraint("public_id", name=op.f("uq_operations_public_id")),
        sa.UniqueConstraint("ref", name=op.f("uq_operations_ref")),
    )
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.create_index("ix_operations_wallet_id", ["wallet", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_index("ix_operations_wallet_id")

    op.drop_table("operations")
    with op.batch_alter_table("wallets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallets_customer_ref"))

    op.drop_table("wallets")
    op.drop_table("second_factors")
