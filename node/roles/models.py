"""Who holds each of a bank's singleton roles (writer, indexer, jobs): one row per role, written by its holder
when it takes the role and refreshed every second while it keeps it. The lock that *decides* who holds a role
is elsewhere (:mod:`node.roles.leases`); this table only shows it, to ``/v1/health/ready``, the metrics and the
operators of every process of the bank."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from node.db.base import Base, UTCDateTime, str_enum

__all__ = ["NodeRole", "Role"]


class Role(StrEnum):
    """The node's background roles, each active in exactly one process of the bank at a time."""

    WRITER = "writer"
    INDEXER = "indexer"
    JOBS = "jobs"


class NodeRole(Base):
    __tablename__ = "node_roles"

    role: Mapped[Role] = mapped_column(str_enum(Role, "node_role"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))  # host:pid of the process that holds it
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
