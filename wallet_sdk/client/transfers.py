"""Client endpoints of this area (being written)."""

from __future__ import annotations


class TransfersEndpoints:
    pass


class AsyncTransfersEndpoints:
    pass
