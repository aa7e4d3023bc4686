"""Merchant flows (node.flows.merchant_models): the merchants this bank acquires, their payment requests, and
the webhook events owed to them with every delivery attempt; each refund on chain (merchant_refunds) and the
settlement batch of each order and refund, so a batch's statement lists what it settled; the new operation
kinds (merchant onboarding, payment, refund, settlement) and the ledger's ``digital_cash`` account kind (the
bank's own fee wallet).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPERATION_KINDS = (
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
)
NEW_OPERATION_KINDS = ("merchant_onboard", "merchant_payment", "merchant_refund", "settlement")
ACCOUNT_KINDS = (
    "customer_deposit",
    "vault_cash",
    "atm_cash",
    "wallet_funding_suspense",
    "merchant_settlement",
    "fee_income",
    "chain_issued",
    "equity",
)
NEW_ACCOUNT_KINDS = ("digital_cash",)


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _set_values(table: str, column: str, enum_name: str, values: tuple[str, ...]) -> None:
    """Replace the CHECK constraint of a non-native enum column by one allowing ``values`` (the column keeps
    its type: a VARCHAR long enough for every value). SQLite cannot alter a constraint: batch mode copies
    the table with the new one."""
    name = f"ck_{table}_{enum_name}"
    allowed = ", ".join(f"'{v}'" for v in values)
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(table, recreate="always") as batch_op:
            batch_op.drop_constraint(op.f(name), type_="check")
            batch_op.create_check_constraint(op.f(name), sa.text(f"{column} IN ({allowed})"))
    else:
        op.drop_constraint(op.f(name), table, type_="check")
        op.create_check_constraint(op.f(name), table, sa.text(f"{column} IN ({allowed})"))


def upgrade() -> None:
    op.create_table(
        "merchant_refunds",
        sa.Column("id", _id(), nullable=False),
        sa.Column("merchant_id", sa.String(length=66), nullable=False),
        sa.Column("order_id", sa.String(length=66), nullable=False),
        sa.Column("payer", sa.String(length=42), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("ref", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_time", _ts(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_refunds")),
        sa.UniqueConstraint("tx_hash", "log_index", name=op.f("uq_merchant_refunds_tx_hash_log_index")),
    )
    with op.batch_alter_table("merchant_refunds", schema=None) as batch_op:
        batch_op.create_index("ix_merchant_refunds_merchant_batch", ["merchant_id", "batch_id"], unique=False)

    op.create_table(
        "merchants",
        sa.Column("id", _id(), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("mcc", sa.Integer(), nullable=False),
        sa.Column("fee_bps", sa.Integer(), nullable=False),
        sa.Column(
            "payout_mode",
            sa.Enum(
                "wallet",
                "bank_account",
                name="merchant_payout_mode",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("settlement_account", sa.String(length=128), nullable=False),
        sa.Column("account_hash", sa.String(length=66), nullable=False),
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "active",
                "suspended",
                "failed",
                name="merchant_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("webhook_secret_ciphertext", sa.Text(), nullable=True),
        sa.Column("operation", sa.String(length=40), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchants")),
        sa.UniqueConstraint("merchant_id", name=op.f("uq_merchants_merchant_id")),
        sa.UniqueConstraint("wallet", name=op.f("uq_merchants_wallet")),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", _id(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "payment.paid",
                "payment.refunded",
                "settlement.completed",
                name="webhook_event_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "delivered",
                "failed",
                name="webhook_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _ts(), nullable=True),
        sa.Column("delivered_at", _ts(), nullable=True),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("public_id", name=op.f("uq_webhook_events_public_id")),
        sa.UniqueConstraint("source", name=op.f("uq_webhook_events_source")),
    )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_events_merchant_id", ["merchant_id", "id"], unique=False)
        batch_op.create_index("ix_webhook_events_state_next", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "payment_requests",
        sa.Column("id", _id(), nullable=False),
        sa.Column("merchant_id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=140), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("api_key_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"], name=op.f("fk_payment_requests_api_key_id_api_keys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_requests")),
        sa.UniqueConstraint("merchant_id", "order_id", name=op.f("uq_payment_requests_merchant_id_order_id")),
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", _id(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("attempted_at", _ts(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["webhook_events.id"], name=op.f("fk_webhook_attempts_event_id_webhook_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_attempts_event_id"), ["event_id"], unique=False)

    with op.batch_alter_table("merchant_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.BigInteger(), nullable=True))
    _set_values("operations", "kind", "operation_kind", OPERATION_KINDS + NEW_OPERATION_KINDS)
    _set_values("ledger_accounts", "kind", "ledger_account_kind", ACCOUNT_KINDS + NEW_ACCOUNT_KINDS)


def downgrade() -> None:
    _set_values("ledger_accounts", "kind", "ledger_account_kind", ACCOUNT_KINDS)
    _set_values("operations", "kind", "operation_kind", OPERATION_KINDS)
    with op.batch_alter_table("merchant_orders", schema=None) as batch_op:
        batch_op.drop_column("batch_id")

    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_attempts_event_id"))

    op.drop_table("webhook_attempts")
    op.drop_table("payment_requests")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_events_state_next")
        batch_op.drop_index("ix_webhook_events_merchant_id")

    op.drop_table("webhook_events")
    op.drop_table("merchants")
    with op.batch_alter_table("merchant_refunds", schema=None) as batch_op:
        batch_op.drop_index("ix_merchant_refunds_merchant_batch")

    op.drop_table("merchant_refunds")
