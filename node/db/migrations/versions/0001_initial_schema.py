"""Initial schema: ledger (accounts, entries, postings, holds), outbox, idempotency keys.

The ledger's invariants are enforced by the database itself, not only by node.ledger:

* An entry is inserted unposted; postings can be added to it (and removed) only while it is unposted;
  flipping ``posted`` to true is refused unless the entry has at least two postings that sum to zero per
  currency; once posted, the entry and its postings can be neither changed nor deleted (corrections are
  reversal entries). Balances count posted entries only.
* SQLite has no deferred triggers, so the flip of ``posted`` is its commit point: BEFORE triggers raise
  ``RAISE(ABORT, ...)`` on every violation above (with ``recursive_triggers`` on, which the node's engine
  sets, ``INSERT OR REPLACE`` cannot sidestep the delete guard either).
* PostgreSQL gets the same guards in PL/pgSQL, plus (as django-hordak does) a constraint trigger on
  postings, DEFERRABLE INITIALLY DEFERRED, that re-checks at commit that every entry touched in the
  transaction sums to zero per currency; TRUNCATE of the ledger tables is refused.

Every refusal message starts with a stable token (``ledger_unbalanced_entry``, ``ledger_posted_entry_immutable``,
...) that node.ledger and the tests look for.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True,
                   length=max(16, *(len(v) for v in values)))


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", _id(), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("kind", _enum("ledger_account_kind", "customer_deposit", "vault_cash", "atm_cash",
                                "wallet_funding_suspense", "merchant_settlement", "fee_income", "chain_issued",
                                "equity"), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner_ref", sa.String(length=128), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_accounts_code")),
        sa.UniqueConstraint("id", "currency", name=op.f("uq_ledger_accounts_id_currency")),
    )
    op.create_index(op.f("ix_ledger_accounts_owner_ref"), "ledger_accounts", ["owner_ref"])

    op.create_table(
        "ledger_entries",
        sa.Column("id", _id(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("correlation_id", sa.String(length=200), nullable=True),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("posted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("reverses_id", _id(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("posted_at", _ts(), nullable=True),
        sa.ForeignKeyConstraint(["reverses_id"], ["ledger_entries.id"],
                                name=op.f("fk_ledger_entries_reverses_id_ledger_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("reference", name=op.f("uq_ledger_entries_reference")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_ledger_entries_reverses_id")),
    )
    op.create_index(op.f("ix_ledger_entries_correlation_id"), "ledger_entries", ["correlation_id"])

    op.create_table(
        "ledger_postings",
        sa.Column("id", _id(), nullable=False),
        sa.Column("entry_id", _id(), nullable=False),
        sa.Column("account_id", _id(), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_ledger_postings_nonzero_amount")),
        sa.ForeignKeyConstraint(["account_id", "currency"], ["ledger_accounts.id", "ledger_accounts.currency"],
                                name=op.f("fk_ledger_postings_account_id_currency_ledger_accounts")),
        sa.ForeignKeyConstraint(["entry_id"], ["ledger_entries.id"],
                                name=op.f("fk_ledger_postings_entry_id_ledger_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
    )
    op.create_index(op.f("ix_ledger_postings_account_id"), "ledger_postings", ["account_id"])
    op.create_index(op.f("ix_ledger_postings_entry_id"), "ledger_postings", ["entry_id"])

    op.create_table(
        "ledger_holds",
        sa.Column("id", _id(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("account_id", _id(), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("state", _enum("ledger_hold_state", "active", "released", "captured"), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("expires_at", _ts(), nullable=True),
        sa.Column("resolved_at", _ts(), nullable=True),
        sa.Column("captured_minor", sa.BigInteger(), nullable=True),
        sa.Column("capture_entry_id", _id(), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_ledger_holds_positive_amount")),
        sa.CheckConstraint("captured_minor IS NULL OR (captured_minor > 0 AND captured_minor <= amount_minor)",
                           name=op.f("ck_ledger_holds_capture_within_hold")),
        sa.ForeignKeyConstraint(["account_id", "currency"], ["ledger_accounts.id", "ledger_accounts.currency"],
                                name=op.f("fk_ledger_holds_account_id_currency_ledger_accounts")),
        sa.ForeignKeyConstraint(["capture_entry_id"], ["ledger_entries.id"],
                                name=op.f("fk_ledger_holds_capture_entry_id_ledger_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_holds")),
        sa.UniqueConstraint("reference", name=op.f("uq_ledger_holds_reference")),
    )
    op.create_index("ix_ledger_holds_account_id_state", "ledger_holds", ["account_id", "state"])

    op.create_table(
        "outbox",
        sa.Column("id", _id(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("state", _enum("outbox_state", "received", "submitted", "confirmed", "failed", "reversed"),
                  nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("nonce", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("submitted_at", _ts(), nullable=True),
        sa.Column("completed_at", _ts(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    op.create_index("ix_outbox_state_id", "outbox", ["state", "id"])
    op.create_index(op.f("ix_outbox_tx_hash"), "outbox", ["tx_hash"])

    op.create_table(
        "idempotency_keys",
        sa.Column("id", _id(), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("state", _enum("idempotency_state", "in_flight", "completed"), nullable=False),
        sa.Column("recovery_point", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", _json(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("locked_at", _ts(), nullable=True),
        sa.Column("completed_at", _ts(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_keys_scope_key")),
    )

    dialect = op.get_bind().dialect.name
    statements = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(dialect)
    if statements is None:
        raise NotImplementedError(f"the ledger's balance triggers exist for SQLite and PostgreSQL, not {dialect}")
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DROP if dialect == "sqlite" else POSTGRESQL_DROP:
        op.execute(statement)
    op.drop_table("idempotency_keys")
    op.drop_index("ix_outbox_state_id", table_name="outbox")
    op.drop_index(op.f("ix_outbox_tx_hash"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_ledger_holds_account_id_state", table_name="ledger_holds")
    op.drop_table("ledger_holds")
    op.drop_index(op.f("ix_ledger_postings_entry_id"), table_name="ledger_postings")
    op.drop_index(op.f("ix_ledger_postings_account_id"), table_name="ledger_postings")
    op.drop_table("ledger_postings")
    op.drop_index(op.f("ix_ledger_entries_correlation_id"), table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_index(op.f("ix_ledger_accounts_owner_ref"), table_name="ledger_accounts")
    op.drop_table("ledger_accounts")


# ---------------------------------------------------------------------------------------------- SQLite

_UNBALANCED = "ledger_unbalanced_entry: a posted entry needs two or more postings summing to zero per currency"
_IMMUTABLE = "ledger_posted_entry_immutable: a posted entry and its postings never change; post a reversal"

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER ledger_entries_insert_unposted BEFORE INSERT ON ledger_entries
    WHEN NEW.posted <> 0
    BEGIN
        SELECT RAISE(ABORT, 'ledger_entry_inserted_posted: insert an entry unposted, add its postings, then post it');
    END
    """,
    f"""
    CREATE TRIGGER ledger_entries_post_balanced BEFORE UPDATE OF posted ON ledger_entries
    WHEN OLD.posted = 0 AND NEW.posted <> 0 AND (
        (SELECT count(*) FROM ledger_postings WHERE entry_id = NEW.id) < 2
        OR EXISTS (SELECT 1 FROM ledger_postings WHERE entry_id = NEW.id
                   GROUP BY currency HAVING sum(amount_minor) <> 0))
    BEGIN
        SELECT RAISE(ABORT, '{_UNBALANCED}');
    END
    """,
    f"""
    CREATE TRIGGER ledger_entries_posted_no_update BEFORE UPDATE ON ledger_entries
    WHEN OLD.posted <> 0
    BEGIN
        SELECT RAISE(ABORT, '{_IMMUTABLE}');
    END
    """,
    f"""
    CREATE TRIGGER ledger_entries_posted_no_delete BEFORE DELETE ON ledger_entries
    WHEN OLD.posted <> 0
    BEGIN
        SELECT RAISE(ABORT, '{_IMMUTABLE}');
    END
    """,
    f"""
    CREATE TRIGGER ledger_postings_insert_unposted_only BEFORE INSERT ON ledger_postings
    WHEN (SELECT posted FROM ledger_entries WHERE id = NEW.entry_id) <> 0
    BEGIN
        SELECT RAISE(ABORT, '{_IMMUTABLE}');
    END
    """,
    f"""
    CREATE TRIGGER ledger_postings_no_update BEFORE UPDATE ON ledger_postings
    BEGIN
        SELECT RAISE(ABORT, '{_IMMUTABLE}');
    END
    """,
    f"""
    CREATE TRIGGER ledger_postings_posted_no_delete BEFORE DELETE ON ledger_postings
    WHEN (SELECT posted FROM ledger_entries WHERE id = OLD.entry_id) <> 0
    BEGIN
        SELECT RAISE(ABORT, '{_IMMUTABLE}');
    END
    """,
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS ledger_postings_posted_no_delete",
    "DROP TRIGGER IF EXISTS ledger_postings_no_update",
    "DROP TRIGGER IF EXISTS ledger_postings_insert_unposted_only",
    "DROP TRIGGER IF EXISTS ledger_entries_posted_no_delete",
    "DROP TRIGGER IF EXISTS ledger_entries_posted_no_update",
    "DROP TRIGGER IF EXISTS ledger_entries_post_balanced",
    "DROP TRIGGER IF EXISTS ledger_entries_insert_unposted",
]

# ------------------------------------------------------------------------------------------ PostgreSQL

POSTGRESQL_TRIGGERS = [
    """
    CREATE FUNCTION ledger_assert_balanced(entry bigint, need_legs boolean) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        legs integer;
        off text;
    BEGIN
        SELECT count(*) INTO legs FROM ledger_postings WHERE entry_id = entry;
        SELECT string_agg(currency || ' ' || total::text, ', ') INTO off
          FROM (SELECT currency, sum(amount_minor) AS total FROM ledger_postings
                 WHERE entry_id = entry GROUP BY currency HAVING sum(amount_minor) <> 0) AS t;
        IF off IS NOT NULL OR (need_legs AND legs < 2) THEN
            RAISE EXCEPTION 'ledger_unbalanced_entry: entry % does not balance (%)',
                entry, coalesce(off, legs::text || ' posting(s)')
                USING ERRCODE = 'check_violation';
        END IF;
    END
    $$
    """,
    f"""
    CREATE FUNCTION ledger_entries_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF NEW.posted THEN
                RAISE EXCEPTION 'ledger_entry_inserted_posted: insert an entry unposted, add its postings, then post it'
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END IF;
        IF OLD.posted THEN
            RAISE EXCEPTION '{_IMMUTABLE} (entry %)', OLD.id USING ERRCODE = 'check_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        IF NEW.posted THEN
            PERFORM ledger_assert_balanced(NEW.id, true);
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER ledger_entries_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_guard()
    """,
    f"""
    CREATE FUNCTION ledger_postings_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            RAISE EXCEPTION '{_IMMUTABLE} (posting %)', OLD.id USING ERRCODE = 'check_violation';
        END IF;
        IF TG_OP = 'INSERT' THEN
            IF (SELECT posted FROM ledger_entries WHERE id = NEW.entry_id) THEN
                RAISE EXCEPTION '{_IMMUTABLE} (entry %)', NEW.entry_id USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END IF;
        IF (SELECT posted FROM ledger_entries WHERE id = OLD.entry_id) THEN
            RAISE EXCEPTION '{_IMMUTABLE} (entry %)', OLD.entry_id USING ERRCODE = 'check_violation';
        END IF;
        RETURN OLD;
    END
    $$
    """,
    """
    CREATE TRIGGER ledger_postings_guard BEFORE INSERT OR UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_postings_guard()
    """,
    """
    CREATE FUNCTION ledger_postings_balanced_at_commit() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        entry bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.entry_id ELSE NEW.entry_id END;
    BEGIN
        IF EXISTS (SELECT 1 FROM ledger_entries WHERE id = entry) THEN
            PERFORM ledger_assert_balanced(entry, false);
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT OR UPDATE OR DELETE ON ledger_postings
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_postings_balanced_at_commit()
    """,
    f"""
    CREATE FUNCTION ledger_refuse_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_IMMUTABLE} (TRUNCATE %)', TG_TABLE_NAME USING ERRCODE = 'check_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_truncate()
    """,
    """
    CREATE TRIGGER ledger_postings_no_truncate BEFORE TRUNCATE ON ledger_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_truncate()
    """,
]

POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS ledger_postings_no_truncate ON ledger_postings",
    "DROP TRIGGER IF EXISTS ledger_entries_no_truncate ON ledger_entries",
    "DROP FUNCTION IF EXISTS ledger_refuse_truncate()",
    "DROP TRIGGER IF EXISTS ledger_postings_balanced ON ledger_postings",
    "DROP FUNCTION IF EXISTS ledger_postings_balanced_at_commit()",
    "DROP TRIGGER IF EXISTS ledger_postings_guard ON ledger_postings",
    "DROP FUNCTION IF EXISTS ledger_postings_guard()",
    "DROP TRIGGER IF EXISTS ledger_entries_guard ON ledger_entries",
    "DROP FUNCTION IF EXISTS ledger_entries_guard()",
    "DROP FUNCTION IF EXISTS ledger_assert_balanced(bigint, boolean)",
]
