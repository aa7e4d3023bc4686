"""Signed payment requests and merchant ids per acquirer (issue 18, findings 1 and 10(c)).

- ``request_signers``: the key that signs this bank's payment requests, sealed with the custody key.
- Merchant ids are per acquiring bank on chain: ``merchant_orders`` and ``merchant_refunds`` gain the
  ``acquirer`` (filled from ``chain_merchants`` for rows indexed before), and ``chain_merchants``,
  ``merchant_orders`` and ``settlement_batches`` are unique per acquirer.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-18
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID_TEXT = sa.String(length=66)
_FILL_ACQUIRER = ("UPDATE {table} SET acquirer = (SELECT m.acquirer FROM chain_merchants m "
                  "WHERE m.merchant_id = {table}.merchant_id)")


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _add_acquirer(table: str) -> None:
    """A NOT NULL ``acquirer`` column, filled from the merchant's (ids were unique across banks until now)."""
    with op.batch_alter_table(table) as batch_op:
        batch_op.add_column(sa.Column("acquirer", ID_TEXT, nullable=True))
    op.execute(_FILL_ACQUIRER.format(table=table))
    with op.batch_alter_table(table) as batch_op:
        batch_op.alter_column("acquirer", existing_type=ID_TEXT, nullable=False)


def _replace_unique(table: str, old: list[str], new: list[str]) -> None:
    with op.batch_alter_table(table) as batch_op:
        batch_op.drop_constraint(op.f(f"uq_{table}_{'_'.join(old)}"), type_="unique")
        batch_op.create_unique_constraint(op.f(f"uq_{table}_{'_'.join(new)}"), new)


def upgrade() -> None:
    op.create_table(
        "request_signers",
        sa.Column("id", _id(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("key_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_signers")),
        sa.UniqueConstraint("address", name=op.f("uq_request_signers_address")),
        sa.UniqueConstraint("purpose", name=op.f("uq_request_signers_purpose")),
    )
    for table in ("merchant_orders", "merchant_refunds"):
        _add_acquirer(table)
    _replace_unique("chain_merchants", ["merchant_id"], ["acquirer", "merchant_id"])
    _replace_unique("merchant_orders", ["merchant_id", "order_id"], ["acquirer", "merchant_id", "order_id"])
    _replace_unique("settlement_batches", ["merchant_id", "batch_id"], ["acquirer", "merchant_id", "batch_id"])


def downgrade() -> None:
    _replace_unique("settlement_batches", ["acquirer", "merchant_id", "batch_id"], ["merchant_id", "batch_id"])
    _replace_unique("merchant_orders", ["acquirer", "merchant_id", "order_id"], ["merchant_id", "order_id"])
    _replace_unique("chain_merchants", ["acquirer", "merchant_id"], ["merchant_id"])
    for table in ("merchant_refunds", "merchant_orders"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("acquirer")
    op.drop_table("request_signers")
