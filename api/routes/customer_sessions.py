"""``/v1/customer-sessions``: the bank's login backend (scope ``auth``, or ``admin``) mints a short-lived token for a
customer it has logged in and hands it to the customer's app; the app acts with it on that customer's wallets
only (api/customers.py). The backend revokes a session, or all of a customer's; the app ends its own (logout).

Minting takes no Idempotency-Key: its answer holds the token, which must not be recorded anywhere (a retry
mints another session, which is harmless). Tokens are stored as their sha256 and never logged.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api.auth import forget_principals, require_scope
from api.deps import ReadSessionDep, SessionDep, SettingsDep
from api.problems import (
    CustomerSessionRequiredError,
    FieldError,
    NotFoundError,
    ProblemKind,
    ValidationProblemError,
)
from api.routing import route
from api.schemas.customer_sessions import (
    CustomerSessionIn,
    CustomerSessionOut,
    MintedSessionOut,
    RevocationIn,
    RevocationOut,
)
from node.api_keys import (
    CustomerSession,
    CustomerSessionNotFoundError,
    Principal,
    Scope,
    mint_session,
    revoke_customer,
    revoke_session,
)

router = APIRouter(prefix="/v1/customer-sessions", tags=["customer sessions"])

Backend = Annotated[Principal, require_scope(Scope.AUTH, Scope.ADMIN)]
App = Annotated[Principal, require_scope(Scope.APP)]
SessionPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="the session's id")]

_AUTH = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN)
_NO_STORE = {"Cache-Control": "no-store"}


def _out(found: CustomerSession) -> CustomerSessionOut:
    return CustomerSessionOut(id=found.id, customer_ref=found.customer_ref, created_at=found.created_at,
                              expires_at=found.expires_at, revoked_at=found.revoked_at)


def _session_id(principal: Principal) -> int:
    if principal.session_id is None:
        raise CustomerSessionRequiredError("this is an API key, not a customer session token")
    return principal.session_id


@route(router, "POST", "", "Mint a customer session token (login backend)", *_AUTH, status_code=201,
       response_model=MintedSessionOut)
def mint_customer_session(body: CustomerSessionIn, key: Backend, session: SessionDep, settings: SettingsDep,
                          response: Response) -> MintedSessionOut:
    """After the bank's login backend has logged the customer in (by its own means), it mints a token for that
    customer and hands it to the customer's app. The token acts in the `app` scope on that customer's wallets,
    accounts and operations only, until it expires (`expires_at`; the node's `customer_session_ttl`, 15 min by
    default, or less if `ttl_seconds` asks) or is revoked. It is shown only in this answer."""
    ttl = settings.customer_session_ttl if body.ttl_seconds is None else body.ttl_seconds
    if ttl > settings.customer_session_ttl:
        raise ValidationProblemError(
            f"this node's sessions last at most {settings.customer_session_ttl} s",
            errors=[FieldError(loc=["body", "ttl_seconds"], msg=f"at most {settings.customer_session_ttl}",
                               type="less_than_equal")])
    minted = mint_session(session, api_key_id=key.id, customer_ref=body.customer_ref, ttl_seconds=ttl)
    response.headers.update(_NO_STORE)
    return MintedSessionOut(**_out(minted.session).model_dump(), token=minted.token)


@route(router, "GET", "/current", "The customer session the token belongs to (app)", *_AUTH,
       ProblemKind.CUSTOMER_SESSION_REQUIRED, response_model=CustomerSessionOut)
def get_current_customer_session(key: App, session: ReadSessionDep) -> CustomerSessionOut:
    """Which customer the token acts for and when it expires (ask the backend for a new one before then)."""
    found = session.get(CustomerSession, _session_id(key))
    assert found is not None  # authenticated by it just now
    return _out(found)


@route(router, "DELETE", "/current", "End the customer session (app logout)", *_AUTH,
       ProblemKind.CUSTOMER_SESSION_REQUIRED, status_code=204)
def end_customer_session(request: Request, key: App, session: SessionDep) -> Response:
    """Revoke the token this request carries: every later request with it is 401."""
    revoke_session(session, _session_id(key))
    forget_principals(request)
    return Response(status_code=204)


@route(router, "POST", "/{session_id}/revoke", "Revoke a customer session (login backend)", *_AUTH,
       ProblemKind.NOT_FOUND, response_model=CustomerSessionOut)
def revoke_customer_session(request: Request, session_id: SessionPath, _key: Backend,
                            session: SessionDep) -> CustomerSessionOut:
    """Revoke one session at once (the next request with its token is 401); revoking twice keeps the first
    time."""
    try:
        revoked = revoke_session(session, session_id)
        forget_principals(request)
        return _out(revoked)
    except CustomerSessionNotFoundError as exc:
        raise NotFoundError(str(exc)) from None


@route(router, "POST", "/revocations", "Revoke every session of a customer (login backend)", *_AUTH,
       response_model=RevocationOut)
def revoke_customer_sessions(request: Request, body: RevocationIn, _key: Backend,
                             session: SessionDep) -> RevocationOut:
    """End every live session of the customer at once: a lost phone, a changed password, a fraud alert."""
    revoked = revoke_customer(session, body.customer_ref)
    forget_principals(request)
    return RevocationOut(customer_ref=body.customer_ref, revoked=revoked)
