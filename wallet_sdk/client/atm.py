"""Client endpoints of this area (being written)."""

from __future__ import annotations


class AtmAdminEndpoints:
    pass


class AsyncAtmAdminEndpoints:
    pass
