"""Client endpoints of this area (being written)."""

from __future__ import annotations


class FundingEndpoints:
    pass


class AsyncFundingEndpoints:
    pass
