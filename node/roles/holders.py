"""The ``node_roles`` rows: a holder records the role it took, refreshes it every second, and removes it when
it lets the role go; anyone reads who holds what (``/v1/health/ready``, the metrics). Which roles this very
process holds is :func:`held_roles`."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from node.db.base import utcnow
from node.roles.models import NodeRole, Role

__all__ = ["RoleHolder", "forget_role", "held_roles", "process_name", "record_heartbeat", "record_role",
           "role_holders"]

_HELD: set[Role] = set()
_HELD_LOCK = threading.Lock()


@dataclass(frozen=True)
class RoleHolder:
    """Who holds a role, since when, and when it last said so."""

    role: Role
    holder: str
    acquired_at: datetime
    heartbeat_at: datetime

    def silent_for(self, now: datetime | None = None) -> timedelta:
        return (now or utcnow()) - self.heartbeat_at


@cache
def process_name() -> str:
    """This process as a holder: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def held_roles() -> frozenset[Role]:
    """The roles this process holds now."""
    with _HELD_LOCK:
        return frozenset(_HELD)


def record_role(session: Session, role: Role, now: datetime | None = None) -> None:
    """This process took ``role`` (its lease is held): say so."""
    now = now or utcnow()
    row = session.get(NodeRole, role, with_for_update=True)
    if row is None:
        session.add(NodeRole(role=role, holder=process_name(), acquired_at=now, heartbeat_at=now))
    else:
        row.holder, row.acquired_at, row.heartbeat_at = process_name(), now, now
    with _HELD_LOCK:
        _HELD.add(role)


def record_heartbeat(session: Session, roles: Iterable[Role], now: datetime | None = None) -> None:
    """This process still holds ``roles``."""
    wanted = list(roles)
    if wanted:
        session.execute(update(NodeRole).where(NodeRole.role.in_(wanted), NodeRole.holder == process_name())
                        .values(heartbeat_at=now or utcnow()))


def forget_role(session: Session | None, role: Role) -> None:
    """This process let ``role`` go: its row goes (with ``session``; None when the database is unreachable)."""
    with _HELD_LOCK:
        _HELD.discard(role)
    if session is not None:
        session.execute(delete(NodeRole).where(NodeRole.role == role, NodeRole.holder == process_name()))


def role_holders(session: Session) -> dict[Role, RoleHolder | None]:
    """Every role's last recorded holder (None: nobody holds it, or nobody ever did)."""
    found = {row.role: RoleHolder(row.role, row.holder, row.acquired_at, row.heartbeat_at)
             for row in session.scalars(select(NodeRole))}
    return {role: found.get(role) for role in Role}
