"""Response bodies of ``/v1/health``, ``/v1/health/live`` and ``/v1/health/ready``."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["Check", "Health", "Live", "MigrationCheck", "Readiness", "RoleState"]


class Check(BaseModel):
    ok: bool
    detail: str | None = None
    block: int | None = None


class Health(BaseModel):
    status: str  # "ok" or "unavailable"
    chain: Check
    database: Check


class Live(BaseModel):
    status: str  # always "live": the process answers


class MigrationCheck(BaseModel):
    ok: bool
    current: str | None = None
    head: str | None = None
    detail: str | None = None


class RoleState(BaseModel):
    """Whether a role (writer, indexer, jobs) is being done somewhere in the bank, and how far behind it is."""

    ok: bool
    active: bool | None = Field(None, description="a process does the role now; null: this node cannot tell")
    holder: str | None = Field(None, description="the process that holds the role, if known")
    heartbeat_age_seconds: float | None = None
    detail: str | None = None
    outbox_oldest_pending_seconds: float | None = Field(
        None, description="writer: age of the oldest outbox row not sent yet (null: none)")
    transactions_in_flight: int | None = Field(None, description="writer: chain transactions not final yet")
    lag_blocks: int | None = Field(None, description="indexer: confirmed blocks not applied yet")
    lag_seconds: float | None = Field(None, description="indexer: chain time between its checkpoint and the "
                                                         "newest confirmed block")


class Readiness(BaseModel):
    status: str  # "ready" or "not_ready"
    database: Check
    chain: Check
    migrations: MigrationCheck
    roles: dict[str, RoleState]
