"""Request and response bodies of the customer session endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.common import RequestModel, StrictInt
from api.shown_once import shown_once
from node.api_keys.sessions import MAX_TTL, MIN_TTL

__all__ = ["CUSTOMER_REF", "CustomerSessionIn", "CustomerSessionOut", "MintedSessionOut", "RevocationIn",
           "RevocationOut"]

CUSTOMER_REF = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"  # as a wallet's customer_ref (node/wallets/service.py)


class CustomerSessionIn(RequestModel):
    customer_ref: str = Field(pattern=CUSTOMER_REF, description="the customer the backend logged in, as the bank "
                                                                "knows them (the wallets' customer_ref)")
    ttl_seconds: StrictInt | None = Field(None, ge=MIN_TTL, le=MAX_TTL,
                                    description="how long the token lives; at most, and by default, the node's "
                                                "customer_session_ttl (15 min unless the bank set it)")


class CustomerSessionOut(BaseModel):
    """A customer session as shown after minting or revoking it (never its token)."""

    id: int
    customer_ref: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


class MintedSessionOut(CustomerSessionOut):
    token: str = shown_once(description="the bearer token the customer's app sends (Authorization: Bearer wnc_...); "
                                        "shown only this once")


class RevocationIn(RequestModel):
    customer_ref: str = Field(pattern=CUSTOMER_REF, description="the customer whose sessions end now")


class RevocationOut(BaseModel):
    customer_ref: str
    revoked: int = Field(description="how many live sessions were revoked")
