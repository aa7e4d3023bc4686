"""Response body of ``/v1/health``."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["Check", "Health"]


class Check(BaseModel):
    ok: bool
    detail: str | None = None
    block: int | None = None


class Health(BaseModel):
    status: str  # "ok" or "unavailable"
    chain: Check
    database: Check
