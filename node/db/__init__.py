"""The node's database: SQLAlchemy 2 engines and sessions, models, Alembic migrations.

SQLite (a file under the data folder) by default, PostgreSQL in production; the same code runs on both.
The schema is only ever created by migrations (``walletnet db upgrade`` or :func:`upgrade`), never by
``create_all``, because the ledger's balance triggers live in the migrations.
"""

from node.db.base import Base, utcnow
from node.db.engine import create_engine, is_sqlite, reads_of, session_factory, transaction
from node.db.migrate import alembic_config, current_revision, head_revision, upgrade

__all__ = [
    "Base",
    "alembic_config",
    "create_engine",
    "current_revision",
    "head_revision",
    "is_sqlite",
    "reads_of",
    "session_factory",
    "transaction",
    "upgrade",
    "utcnow",
]
