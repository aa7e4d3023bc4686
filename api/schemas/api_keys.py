"""Response bodies of the API key endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from node.api_keys import Scope

__all__ = ["ApiKeyOut"]


class ApiKeyOut(BaseModel):
    """An API key as listed (never its secret or hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[Scope]
    merchant_id: str | None
    created_at: datetime
    revoked_at: datetime | None
