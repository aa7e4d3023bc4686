"""Dataclasses the client returns that several areas share: money, operations, pages, health, API keys; and the
teller's desk a teller's client names on each request."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

__all__ = ["BRANCH_HEADER", "OPERATOR_HEADER", "ApiKeyInfo", "Health", "HealthCheck", "Money", "Operation", "Page",
           "Teller"]

BRANCH_HEADER: Final = "X-Teller-Branch"
OPERATOR_HEADER: Final = "X-Teller-Operator"
_DESK_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")

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
    status: str  # pending, pending_review (risk review), held, completed, failed, released
    final: bool
    channel: str
    created_at: str
    updated_at: str
    api_key_id: int | None = None  # who asked: the API key (a customer session's: the key that minted it)
    branch: str | None = None  # a teller's branch and operator id, when a teller asked
    operator: str | None = None
    customer_session: int | None = None  # the customer session an app acted in
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


@dataclass(frozen=True)
class Teller:
    """Who at the counter makes a teller key's requests: ``Client(url, key, teller=Teller("BR-12", "T-1001"))``
    sends both on every request, and the bank records them on each operation (a teller's money move without
    them is refused)."""

    branch: str
    operator: str

    def __post_init__(self) -> None:
        for name, value in (("branch", self.branch), ("operator", self.operator)):
            if not isinstance(value, str) or not _DESK_ID.fullmatch(value):
                raise ValueError(f"a teller's {name} id is 1-64 of A-Z a-z 0-9 . _ : / - (starting with a letter "
                                 f"or digit): {value!r}")

    def headers(self) -> dict[str, str]:
        return {BRANCH_HEADER: self.branch, OPERATOR_HEADER: self.operator}
