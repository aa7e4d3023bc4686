"""``POST /v1/wallets/{address}/totp``: enrol (or change, with the current code) a customer's authenticator app;
``POST /v1/wallets/{address}/totp/reset``: a teller's in-person reset, without the code."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api import customers
from api.auth import require_scope
from api.deps import SessionDep, SettingsDep
from api.idempotency import IdempotencyDep
from api.keys import Principal, Scope
from api.problems import NotFoundError, ProblemKind, problem_responses
from api.schemas import RequestModel
from api.second_factor import TotpCode
from api.shown_once import shown_once
from api.wallets.endpoints import AddressPath
from node.second_factor import service as second_factor
from node.wallets.models import find_wallet
from wallet_sdk.chain.network import to_address

router = APIRouter(prefix="/v1/wallets", tags=["second factor"])

Enroller = Annotated[Principal, require_scope(Scope.TELLER, Scope.APP)]
Teller = Annotated[Principal, require_scope(Scope.TELLER)]

CODE_PROBLEMS = (ProblemKind.SECOND_FACTOR_REQUIRED, ProblemKind.SECOND_FACTOR_INVALID,
                 ProblemKind.SECOND_FACTOR_LOCKED)
"""What checking a customer's TOTP code may answer (besides ``second-factor-cooling-off`` above the threshold)."""

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


def _wallet(session: Session, address: str) -> str:
    wallet = to_address(address, "address")
    if find_wallet(session, wallet) is None:
        raise NotFoundError(f"this bank opened no wallet at {wallet}", address=wallet)
    return wallet


@router.post(
    "/{address}/totp",
    operation_id="enrol_totp",
    summary="Enrol a TOTP authenticator for a wallet, or replace it with the current code",
    status_code=201,
    response_model=TotpEnrolmentOut,
    responses=problem_responses(ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED,
                                ProblemKind.NOT_FOUND, ProblemKind.IDEMPOTENCY_KEY_REUSED, *CODE_PROBLEMS),
)
def enrol_totp(address: AddressPath, key: Enroller, session: SessionDep, settings: SettingsDep,
               idem: IdempotencyDep, totp: TotpCode = None) -> TotpEnrolmentOut:
    """Make a new TOTP secret for the wallet's customer. Operations above the bank's threshold then need the
    current code in the ``X-TOTP-Code`` header.

    A wallet that has an authenticator already keeps it unless the request carries its current code in
    ``X-TOTP-Code`` (``second-factor-required`` without one; a wrong code counts towards the lock-out like any
    other). A customer who lost the authenticator asks a teller for a reset (``POST .../totp/reset``). The
    customer sees the change as a notice in the wallet's history (``totp_enrolled`` / ``totp_changed``)."""
    customers.own_wallet(session, settings, key, address)
    wallet = _wallet(session, address)
    enrolment = second_factor.enrol(session, settings, wallet, code=totp, api_key_id=key.id)
    out = TotpEnrolmentOut(wallet=wallet, secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri)
    idem.complete(session, out, status=201)
    return out


@router.post(
    "/{address}/totp/reset",
    operation_id="reset_totp",
    summary="Reset a wallet's TOTP authenticator in person (teller), with a cooling-off",
    status_code=201,
    response_model=TotpResetOut,
    responses=problem_responses(ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.NOT_FOUND,
                                ProblemKind.INVALID_STATE, ProblemKind.IDEMPOTENCY_KEY_REUSED),
)
def reset_totp(address: AddressPath, body: TotpResetIn, key: Teller, session: SessionDep, settings: SettingsDep,
               idem: IdempotencyDep) -> TotpResetOut:
    """A teller replaces the TOTP secret of a customer who lost the authenticator, after checking the customer's
    identity in person; no code is needed (``409 invalid-state`` for a wallet without one: enrol instead).

    The reset is recorded with the teller's API key, ``branch_id``, ``operator_id`` and ``reason``; wrong codes
    and a lock-out are forgotten; and until ``cooling_off_until`` (the node's
    ``second_factor_reset_cooling_off``, 24 h by default) operations above the second-factor threshold are refused
    with ``second-factor-cooling-off``, whatever the code; smaller ones go on. The customer sees a ``totp_reset``
    notice in the wallet's history."""
    wallet = _wallet(session, address)
    teller = second_factor.TellerReset(api_key_id=key.id, branch_id=body.branch_id, operator_id=body.operator_id,
                                       reason=body.reason)
    enrolment = second_factor.reset(session, settings, wallet, teller)
    assert enrolment.cooling_off_until is not None
    out = TotpResetOut(wallet=wallet, secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri,
                       cooling_off_until=enrolment.cooling_off_until)
    idem.complete(session, out, status=201)
    return out
