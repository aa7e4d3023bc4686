"""Customer notifications (issue 22): one row per event a wallet's customer is told about, unique on (wallet, type,
source) so each is made once, and each customer's language (node/notifications/models.py); the bank's notification
subscriptions, whose deliveries are webhook events like the merchants' (node/subscriptions/): ``webhook_events``
gets ``subscription_id``, its ``merchant_id`` may be NULL, and its type may be ``notification.created``.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("wallet", "type", "source", name=op.f("uq_notifications_wallet_type_source")),
    )
    op.create_index("ix_notifications_wallet_id", "notifications", ["wallet", "id"])
    op.create_table(
        "customer_settings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_ref", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_settings")),
        sa.UniqueConstraint("customer_ref", name=op.f("uq_customer_settings_customer_ref")),
    )


    op.create_table(
        "notification_subscriptions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("after_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_subscriptions")),
        sa.UniqueConstraint("name", name=op.f("uq_notification_subscriptions_name")),
    )
    _webhook_events((*WEBHOOK_TYPES, "notification.created"), merchant_nullable=True)


WEBHOOK_TYPES = ("payment.paid", "payment.refunded", "settlement.completed")
_CHECK = "ck_webhook_events_webhook_event_type"


def _webhook_events(types: tuple[str, ...], *, merchant_nullable: bool) -> None:
    """``webhook_events`` with ``types`` allowed, a nullable (or not) ``merchant_id``, and ``subscription_id`` when
    the merchant id may be NULL. SQLite cannot alter a constraint: batch mode copies the table."""
    allowed = sa.text("type IN ({})".format(", ".join(f"'{t}'" for t in types)))
    recreate = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
    with op.batch_alter_table("webhook_events", recreate=recreate) as batch_op:
        batch_op.drop_constraint(op.f(_CHECK), type_="check")
        batch_op.create_check_constraint(op.f(_CHECK), allowed)
        batch_op.alter_column("merchant_id", existing_type=sa.String(length=32), nullable=merchant_nullable)
        if merchant_nullable:
            batch_op.add_column(sa.Column("subscription_id", sa.BigInteger(), nullable=True))
        else:
            batch_op.drop_column("subscription_id")


def downgrade() -> None:
    op.execute("DELETE FROM webhook_attempts WHERE event_id IN "
               "(SELECT id FROM webhook_events WHERE subscription_id IS NOT NULL)")
    op.execute("DELETE FROM webhook_events WHERE subscription_id IS NOT NULL")
    _webhook_events(WEBHOOK_TYPES, merchant_nullable=False)
    op.drop_table("notification_subscriptions")
    op.drop_table("customer_settings")
    op.drop_index("ix_notifications_wallet_id", table_name="notifications")
    op.drop_table("notifications")
