"""Idempotency records: no secrets, and pruned after their retention.

Until now the recorded answer of a request kept the secrets it showed (a merchant's API key and webhook
secret, a TOTP secret and its otpauth:// URI) in plain text in ``idempotency_keys.response_body``, and a
replay of the key showed them again. The API now records such answers redacted (api/shown_once.py); this
migration redacts the answers recorded before, in the fields that carried secrets then, with the same
marker. It also indexes ``completed_at``, which the node's pruning job (node.idempotency.prune_expired)
reads every round.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REDACTED = "[redacted: shown once]"  # api.shown_once.REDACTED (a migration imports nothing of the app)
SECRET_FIELDS = ("api_key", "webhook_secret", "secret", "provisioning_uri")  # secrets of answers recorded before
PAGE = 500

records = sa.table(
    "idempotency_keys",
    sa.column("id", sa.BigInteger()),
    sa.column("response_body", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
)


def _redacted(body: Any) -> Any | None:
    """``body`` with its secrets replaced, or None when it has none."""
    if not isinstance(body, dict):
        return None
    found = [name for name in SECRET_FIELDS if isinstance(body.get(name), str) and body[name] != REDACTED]
    return {**body, **dict.fromkeys(found, REDACTED)} if found else None


def _redact_recorded_answers() -> None:
    bind = op.get_bind()
    after = 0
    while True:
        rows = bind.execute(sa.select(records.c.id, records.c.response_body)
                            .where(records.c.id > after, records.c.response_body.is_not(None))
                            .order_by(records.c.id).limit(PAGE)).all()
        if not rows:
            return
        for row_id, body in rows:
            clean = _redacted(body)
            if clean is not None:
                bind.execute(records.update().where(records.c.id == row_id).values(response_body=clean))
        after = rows[-1][0]


def upgrade() -> None:
    _redact_recorded_answers()
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_keys_completed_at", ["completed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_keys_completed_at")
