"""The bank's singleton roles (writer, indexer, jobs): one active process each, chosen by a lock
(:mod:`node.roles.leases`), shown in the ``node_roles`` table (:mod:`node.roles.holders`)."""

from __future__ import annotations

from node.roles.holders import (
    RoleHolder,
    forget_role,
    held_roles,
    process_name,
    record_heartbeat,
    record_role,
    role_holders,
)
from node.roles.leases import AdvisoryLease, FileLease, Lease, LocalLease, advisory_key, lease_for
from node.roles.models import NodeRole, Role

__all__ = ["AdvisoryLease", "FileLease", "Lease", "LocalLease", "NodeRole", "Role", "RoleHolder", "advisory_key",
           "forget_role", "held_roles", "lease_for", "process_name", "record_heartbeat", "record_role",
           "role_holders"]
