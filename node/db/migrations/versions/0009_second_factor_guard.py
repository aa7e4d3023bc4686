"""The TOTP second factor's guard (node.flows.second_factor_models): the count of wrong codes and the lock-out
per wallet (second_factor_failures, one row per enrolled wallet, filled in for the wallets enrolled already),
the audit of every change and lock-out (second_factor_audit), the cooling-off after a teller's reset
(second_factors.cooling_off_until); and notices in the wallet history (node.flows.notices): the ``totp_*``
kinds, a ``note``, and no block, transaction or log index for them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HISTORY_KINDS = ("transfer_out", "transfer_in", "mint", "burn", "hold_placed", "hold_captured", "hold_released")
NOTICE_KINDS = ("totp_enrolled", "totp_changed", "totp_reset", "totp_locked")
CHAIN_COLUMNS = (("block_number", sa.BigInteger()), ("tx_hash", sa.String(length=66)), ("log_index", sa.Integer()))
ACTIONS = ("enrolled", "changed", "reset", "locked")


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _history(kinds: tuple[str, ...], *, notices: bool) -> None:
    """wallet_history with ``kinds`` allowed, and with (``notices``) or without the notices' columns; SQLite
    copies the table to change a constraint or a column's nullability."""
    name = "ck_wallet_history_wallet_history_kind"
    allowed = ", ".join(f"'{k}'" for k in kinds)
    recreate = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
    with op.batch_alter_table("wallet_history", recreate=recreate) as batch_op:
        batch_op.drop_constraint(op.f(name), type_="check")
        batch_op.create_check_constraint(op.f(name), sa.text(f"kind IN ({allowed})"))
        for column, type_ in CHAIN_COLUMNS:
            batch_op.alter_column(column, existing_type=type_, nullable=notices)
        if notices:
            batch_op.add_column(sa.Column("note", sa.String(length=300), nullable=True))
        else:
            batch_op.drop_column("note")


def upgrade() -> None:
    op.create_table(
        "second_factor_failures",
        sa.Column("id", _id(), nullable=False),
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_until", _ts(), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_second_factor_failures")),
        sa.UniqueConstraint("wallet", name=op.f("uq_second_factor_failures_wallet")),
    )
    op.execute("INSERT INTO second_factor_failures (wallet, failures, lockouts, locked_until, updated_at) "
               "SELECT wallet, 0, 0, NULL, created_at FROM second_factors")
    op.create_table(
        "second_factor_audit",
        sa.Column("id", _id(), nullable=False),
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column("action", sa.Enum(*ACTIONS, name="second_factor_action", native_enum=False, create_constraint=True,
                                    length=16), nullable=False),
        sa.Column("api_key_id", sa.BigInteger(), nullable=True),
        sa.Column("branch_id", sa.String(length=64), nullable=True),
        sa.Column("operator_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("until", _ts(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"],
                                name=op.f("fk_second_factor_audit_api_key_id_api_keys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_second_factor_audit")),
    )
    with op.batch_alter_table("second_factor_audit") as batch_op:
        batch_op.create_index(batch_op.f("ix_second_factor_audit_wallet"), ["wallet"], unique=False)
    with op.batch_alter_table("second_factors") as batch_op:
        batch_op.add_column(sa.Column("cooling_off_until", _ts(), nullable=True))
    _history(HISTORY_KINDS + NOTICE_KINDS, notices=True)


def downgrade() -> None:
    kinds = ", ".join(f"'{k}'" for k in NOTICE_KINDS)
    op.execute(f"DELETE FROM wallet_history WHERE kind IN ({kinds})")  # notices have no place in the old table
    _history(HISTORY_KINDS, notices=False)
    with op.batch_alter_table("second_factors") as batch_op:
        batch_op.drop_column("cooling_off_until")
    with op.batch_alter_table("second_factor_audit") as batch_op:
        batch_op.drop_index(batch_op.f("ix_second_factor_audit_wallet"))
    op.drop_table("second_factor_audit")
    op.drop_table("second_factor_failures")
