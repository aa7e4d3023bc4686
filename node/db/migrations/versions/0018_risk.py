"""The risk engine (issue 22): each wallet's recent outflows as the engine counts them, the payees each wallet has
paid, the decisions (with their reviews and the outbox row a held operation waits with), the audited rule sets
(node/risk/models.py); and operations may be ``pending_review``.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("pending", "held", "completed", "failed", "released")


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _statuses(values: tuple[str, ...]) -> None:
    """The CHECK of operations.status allowing ``values`` (SQLite: batch mode copies the table)."""
    name = "ck_operations_operation_status"
    allowed = sa.text("status IN ({})".format(", ".join(f"'{v}'" for v in values)))
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("operations", recreate="always") as batch_op:
            batch_op.drop_constraint(op.f(name), type_="check")
            batch_op.create_check_constraint(op.f(name), allowed)
    else:
        op.drop_constraint(op.f(name), "operations", type_="check")
        op.create_check_constraint(op.f(name), "operations", allowed)


def upgrade() -> None:
    op.create_table(
        "risk_wallet_state",
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column("events", _json(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("wallet", name=op.f("pk_risk_wallet_state")),
    )
    op.create_table(
        "risk_payees",
        sa.Column("id", _id(), nullable=False),
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column("payee", sa.String(length=42), nullable=False),
        sa.Column("first_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_payees")),
        sa.UniqueConstraint("wallet", "payee", name=op.f("uq_risk_payees_wallet_payee")),
    )
    op.create_table(
        "risk_decisions",
        sa.Column("id", _id(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("flow", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("api_key_id", sa.BigInteger(), nullable=True),
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column("counterparty", sa.String(length=42), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("hits", _json(), nullable=False),
        sa.Column("operation_id", sa.String(length=40), nullable=True),
        sa.Column("review_state", sa.Enum("pending", "approved", "declined", "expired", name="risk_review_state",
                                          native_enum=False, create_constraint=True, length=16), nullable=True),
        sa.Column("expires_at", _ts(), nullable=True),
        sa.Column("reviewed_by", sa.BigInteger(), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("reviewed_at", _ts(), nullable=True),
        sa.Column("held", _json(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_decisions")),
        sa.UniqueConstraint("public_id", name=op.f("uq_risk_decisions_public_id")),
    )
    op.create_index("ix_risk_decisions_wallet_id", "risk_decisions", ["wallet", "id"])
    op.create_index("ix_risk_decisions_review_state", "risk_decisions", ["review_state", "expires_at"])
    op.create_table(
        "risk_rule_sets",
        sa.Column("id", _id(), nullable=False),
        sa.Column("rules", _json(), nullable=False),
        sa.Column("api_key_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("previous", _json(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_rule_sets")),
    )
    _statuses(("pending", "pending_review", "held", "completed", "failed", "released"))


def downgrade() -> None:
    op.execute("UPDATE operations SET status = 'failed' WHERE status = 'pending_review'")
    _statuses(STATUSES)
    op.drop_table("risk_rule_sets")
    op.drop_index("ix_risk_decisions_review_state", table_name="risk_decisions")
    op.drop_index("ix_risk_decisions_wallet_id", table_name="risk_decisions")
    op.drop_table("risk_decisions")
    op.drop_table("risk_payees")
    op.drop_table("risk_wallet_state")
