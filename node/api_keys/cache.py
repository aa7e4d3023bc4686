"""Who a credential acts as, remembered for a moment so that a request needs no database read to authenticate.

Every request of the API presents a key or a customer session token; looking it up costs a read (and, in the
API, a hop to a worker thread). :class:`PrincipalCache` keeps what :func:`node.api_keys.authenticate` found for
``ttl`` seconds (the setting ``api_key_cache_seconds``, 1 s by default), by the secret's sha256 (the secret
itself is not kept), never past a customer session's own end. A revocation made through this process's API
clears it at once (:meth:`PrincipalCache.clear`); one made elsewhere (the CLI, another API process) holds
within ``ttl``. Unknown and revoked credentials are not remembered: each such request is looked up.
"""

from __future__ import annotations

import time
from typing import Final

from node.api_keys.principal import Principal
from node.api_keys.service import hash_secret
from node.db.base import utcnow

__all__ = ["PrincipalCache"]

MAX_ENTRIES: Final = 100_000  # beyond this the cache starts afresh (a burst of one-off session tokens)


class PrincipalCache:
    """Principals by their secret's hash, each for ``ttl`` seconds (module docstring). Thread-safe: one dict,
    replaced or read whole."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[Principal, float]] = {}

    def get(self, secret: str) -> Principal | None:
        """Who ``secret`` was found to act as less than ``ttl`` ago, if it still may; else None (look it up)."""
        if self.ttl <= 0:
            return None
        entry = self._entries.get(hash_secret(secret))
        if entry is None:
            return None
        principal, until = entry
        if time.monotonic() >= until or (principal.expires_at is not None and utcnow() >= principal.expires_at):
            return None
        return principal

    def put(self, secret: str, principal: Principal) -> None:
        """Remember that ``secret`` acts as ``principal`` (as just looked up)."""
        if self.ttl <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {}
        self._entries[hash_secret(secret)] = (principal, time.monotonic() + self.ttl)

    def clear(self) -> None:
        """Forget everything: a key or session was revoked through this process."""
        self._entries = {}
