"""Request and response bodies of a wallet's TOTP second factor (``/v1/wallets/{address}/totp``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.common import RequestModel
from api.shown_once import shown_once

__all__ = ["TotpEnrolmentOut", "TotpResetIn", "TotpResetOut"]

_ID = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"


class TotpEnrolmentOut(BaseModel):
    wallet: str
    secret: str = shown_once(description="base32 TOTP secret (30 s steps, 6 digits, SHA-1); shown only this once")
    provisioning_uri: str = shown_once(description="otpauth:// URI to show as a QR code to an authenticator app "
                                                   "(it holds the secret); shown only this once")


class TotpResetIn(RequestModel):
    """Who resets the customer's authenticator at the counter, and why (kept in the audit record)."""

    branch_id: str = Field(pattern=_ID, description="the branch (or desk) where the customer was served")
    operator_id: str | None = Field(None, pattern=_ID, description="the teller (staff id) who checked the "
                                                                   "customer's identity")
    reason: str = Field(min_length=3, max_length=500, description="why, e.g. 'phone lost; identity card checked'")


class TotpResetOut(TotpEnrolmentOut):
    cooling_off_until: datetime = Field(description="until then operations above the second-factor threshold are "
                                                    "refused (second-factor-cooling-off)")
