"""The network's merchant directory in a bank's index (issue 20): every bank's merchants (wallet, status), request
signers and paid orders (their keys only), so that a payer's bank admits a payment of another bank's merchant with
no JSON-RPC call. Empty after this revision: what the indexer applies from then on fills them, and the node asks
the chain for what they do not show.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ID_TEXT = sa.String(length=66)
ADDRESS = sa.String(length=42)


def _table(name: str, *columns: sa.Column[object], unique: list[str]) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint(*unique, name=op.f(f"uq_{name}_{'_'.join(unique)}")),
    )


def upgrade() -> None:
    _table("directory_merchants", sa.Column("acquirer", ID_TEXT, nullable=False),
           sa.Column("merchant_id", ID_TEXT, nullable=False), sa.Column("wallet", ADDRESS, nullable=False),
           sa.Column("status", sa.String(length=16), nullable=False), unique=["acquirer", "merchant_id"])
    _table("directory_request_signers", sa.Column("bank_id", ID_TEXT, nullable=False),
           sa.Column("signer", ADDRESS, nullable=False), unique=["bank_id"])
    _table("directory_orders_paid", sa.Column("acquirer", ID_TEXT, nullable=False),
           sa.Column("merchant_id", ID_TEXT, nullable=False), sa.Column("order_id", ID_TEXT, nullable=False),
           unique=["acquirer", "merchant_id", "order_id"])


def downgrade() -> None:
    op.drop_table("directory_orders_paid")
    op.drop_table("directory_request_signers")
    op.drop_table("directory_merchants")
