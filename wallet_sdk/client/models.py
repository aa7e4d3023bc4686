"""Dataclasses the client returns that several areas share: money, operations, pages, health, API keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["ApiKeyInfo", "Health", "HealthCheck", "Money", "Operation", "Page"]

T = TypeVar("T")


@dataclass(frozen=True)
class Money:
    amount: int  # minor units of ``currency``
    currency: str


@dataclass(frozen=True)
class Operation:
    """Where a request stands: poll :meth:`Client.get_operation` (or use ``wait_for_operation``) until ``final``."""

    id: str
    kind: str
    status: str  # pending, held, completed, failed, released
    final: bool
    channel: str
    created_at: str
    updated_at: str
    wallet: str | None = None
    counterparty: str | None = None
    amount: Money | None = None
    account: str | None = None
    ref: str | None = None
    error: str | None = None
    tx_hash: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    completed_at: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "completed"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next (None: the last page)."""

    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class HealthCheck:
    ok: bool
    detail: str | None = None
    block: int | None = None


@dataclass(frozen=True)
class Health:
    status: str
    chain: HealthCheck
    database: HealthCheck


@dataclass(frozen=True)
class ApiKeyInfo:
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    merchant_id: str | None = None
    revoked_at: str | None = None
