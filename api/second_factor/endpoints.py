"""``POST /v1/wallets/{address}/totp``: enrol a customer's authenticator app for a wallet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api import customers
from api.auth import require_scope
from api.deps import SessionDep, SettingsDep
from api.errors import problem_responses
from api.idempotency import IdempotencyDep
from api.keys import Principal, Scope
from api.problems import NotFoundError, ProblemKind
from api.wallets.endpoints import AddressPath
from node.flows import second_factor
from node.flows.wallet_records import find_wallet
from wallet_sdk.chain.network import to_address

router = APIRouter(prefix="/v1/wallets", tags=["second factor"])

Enroller = Annotated[Principal, require_scope(Scope.TELLER, Scope.APP)]


class TotpEnrolmentOut(BaseModel):
    wallet: str
    secret: str = Field(description="base32 TOTP secret (30 s steps, 6 digits, SHA-1); shown only this once")
    provisioning_uri: str = Field(description="otpauth:// URI to show as a QR code to an authenticator app")


@router.post(
    "/{address}/totp",
    operation_id="enrol_totp",
    summary="Enrol a TOTP authenticator for a wallet",
    status_code=201,
    response_model=TotpEnrolmentOut,
    responses=problem_responses(ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN, ProblemKind.CUSTOMER_SESSION_REQUIRED,
                                ProblemKind.NOT_FOUND, ProblemKind.IDEMPOTENCY_KEY_REUSED),
)
def enrol_totp(address: AddressPath, key: Enroller, session: SessionDep, settings: SettingsDep,
               idem: IdempotencyDep) -> TotpEnrolmentOut:
    """Make a new TOTP secret for the wallet's customer (replacing any earlier one). Operations above the
    bank's threshold then need the current code in the ``X-TOTP-Code`` header."""
    customers.own_wallet(session, settings, key, address)
    wallet = to_address(address, "address")
    if find_wallet(session, wallet) is None:
        raise NotFoundError(f"this bank opened no wallet at {wallet}", address=wallet)
    enrolment = second_factor.enrol(session, settings, wallet)
    out = TotpEnrolmentOut(wallet=wallet, secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri)
    idem.complete(session, out, status=201)
    return out
