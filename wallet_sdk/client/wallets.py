"""Client endpoints of this area (being written)."""

from __future__ import annotations


class WalletsEndpoints:
    pass


class AsyncWalletsEndpoints:
    pass
