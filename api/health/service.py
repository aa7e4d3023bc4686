"""Health checks; free of FastAPI."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel
from sqlalchemy import Engine, text

from wallet_sdk.chain.network import Network

__all__ = ["Check", "Health", "check_health"]


class Check(BaseModel):
    ok: bool
    detail: str | None = None
    block: int | None = None


class Health(BaseModel):
    status: str  # "ok" or "unavailable"
    chain: Check
    database: Check


def _chain(network: Callable[[], Network]) -> Check:
    try:
        return Check(ok=True, block=network().block_number)
    except Exception as exc:  # any failure means "not reachable"; the kind is enough detail
        return Check(ok=False, detail=type(exc).__name__)


def _database(engine: Engine) -> Check:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return Check(ok=True)
    except Exception as exc:  # any failure means "not reachable"
        return Check(ok=False, detail=type(exc).__name__)


def check_health(network: Callable[[], Network], engine: Engine) -> Health:
    chain, database = _chain(network), _database(engine)
    return Health(status="ok" if chain.ok and database.ok else "unavailable", chain=chain, database=database)
