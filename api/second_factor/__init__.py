"""TOTP second factor: enrolment (``POST /v1/wallets/{address}/totp``) and the ``X-TOTP-Code`` header."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from api.problems import ProblemKind

__all__ = ["SECOND_FACTOR_PROBLEMS", "TOTP_HEADER", "TotpCode"]

TOTP_HEADER = "X-TOTP-Code"

TotpCode = Annotated[str | None, Header(
    alias=TOTP_HEADER, pattern=r"^[0-9]{6}$",
    description="the customer's current 6-digit TOTP code; required when the amount is above the bank's "
                "second-factor threshold")]
"""The header a money-moving endpoint reads; pass it to ``node.second_factor.service.require``."""

SECOND_FACTOR_PROBLEMS = (ProblemKind.SECOND_FACTOR_REQUIRED, ProblemKind.SECOND_FACTOR_INVALID,
                          ProblemKind.SECOND_FACTOR_LOCKED, ProblemKind.SECOND_FACTOR_COOLING_OFF)
"""What an endpoint that checks the customer's second factor may answer for it (its ``responses=``)."""
