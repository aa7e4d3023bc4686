"""Authentication by API key or customer session token, and authorization by scope.

A key or token comes as ``Authorization: Bearer <secret>`` or ``X-API-Key: <secret>``; both resolve, in the one
function :func:`node.api_keys.authenticate`, to the :class:`Principal` the request acts as. No credential, an
unknown one, a revoked key, or an expired or revoked customer session is a 401 problem; a principal without one
of the endpoint's scopes is a 403 problem (a customer session has the ``app`` scope only, and api/customers.py
keeps it to its customer's wallets). Endpoints declare their scopes with an alias from :func:`require_scope`
(the ones several routers share are here: :data:`Admin`, :data:`AdminOrRegulator`, :data:`Payer`)::

    TellerOrApp = Annotated[Principal, require_scope(Scope.TELLER, Scope.APP)]

    @route(router, "GET", ...)
    def read(key: TellerOrApp) -> ...: ...

The scopes also appear in the OpenAPI document (``x-required-scopes`` and the route's description; see
:func:`document_scopes`).

:func:`authenticate_request` is the one place a request's key is checked. The admission middleware
(api/admission.py) calls it before the request may read its body or take a turn, for every route that
depends on :func:`current_key` (:func:`keyed_routes`), and leaves the key in ``request.state``; the
dependency then reuses it (and authenticates itself where no middleware ran).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from api.deps import AppState, AppStateDep, after_session
from api.problems import ForbiddenError, UnauthorizedError
from node.api_keys import Principal, Scope, authenticate
from node.logs import API_KEY_ID

__all__ = ["AUTHENTICATED_KEY", "PAYER_SCOPES", "Admin", "AdminOrRegulator", "AnyKey", "CurrentKey", "Payer",
           "ScopeRequirement", "authenticate_request", "authenticated", "document_scopes", "forget_principals",
           "keyed_routes", "needs_api_key", "require_scope"]

AUTHENTICATED_KEY: Final = "api_key"
"""``request.state.api_key``: the key :func:`authenticate_request` found for the request (set by the middleware)."""

bearer_scheme = HTTPBearer(auto_error=False, scheme_name="BearerKey",
                           description="An API key (`Authorization: Bearer wn_...`) or a customer session token "
                                       "(`Authorization: Bearer wnc_...`)")
header_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKeyHeader",
                             description="An API key in the X-API-Key header (alternative to Bearer)")


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The secret a request presents: ``Authorization: Bearer <secret>``, else ``X-API-Key: <secret>``."""
    scheme, value = get_authorization_scheme_param(headers.get("authorization"))
    if scheme.lower() == "bearer" and value:
        return value
    return headers.get("x-api-key") or None


def _secret(headers: Mapping[str, str]) -> str:
    secret = presented_key(headers)
    if not secret:
        raise UnauthorizedError("send an API key: Authorization: Bearer <key> or X-API-Key: <key>")
    return secret


def authenticate_request(state: AppState, headers: Mapping[str, str]) -> Principal:
    """Who the request's headers present (an API key or a customer session); 401 problem otherwise.

    Blocking (one indexed read): call it in a worker thread, or :func:`authenticated` first."""
    secret = _secret(headers)
    with state.read_sessions.begin() as session:  # its own short read: never holds the request's write lock
        principal = authenticate(session, secret)
    if principal is None:  # never says which credential: it may be a token, and tokens are not logged
        raise UnauthorizedError("the API key or customer session is unknown, revoked or expired")
    state.principals.put(secret, principal)
    return principal


def authenticated(state: AppState, headers: Mapping[str, str]) -> Principal | None:
    """Who the request's headers present, if the app found it moments ago (node.api_keys.cache); None: look it up
    with :func:`authenticate_request`. No I/O: call it on the event loop."""
    return state.principals.get(_secret(headers))


def forget_principals(request: Request) -> None:
    """A key or session was revoked in this request: forget who every credential is (node.api_keys.cache) once
    the request's session has committed (api.deps.after_session), so that the next request looks it up."""
    state: AppState = request.app.state.walletnet
    if not after_session(request, state.principals.clear):
        state.principals.clear()


async def current_key(
    request: Request,
    state: AppStateDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],  # (documents the schemes)
    _header: Annotated[str | None, Depends(header_scheme)],
) -> Principal:
    known = getattr(request.state, AUTHENTICATED_KEY, None)
    if isinstance(known, Principal):  # the admission middleware authenticated this request already
        return known
    key = authenticated(state, request.headers)
    if key is None:
        key = await run_in_threadpool(authenticate_request, state, request.headers)
    API_KEY_ID.set(key.id)  # the request's log lines name the key (node/logs.py)
    return key


def needs_api_key(dependant: Dependant) -> bool:
    """Whether a route (its ``dependant``) authenticates by API key, through any of its dependencies."""
    return any(dep.call is current_key or needs_api_key(dep) for dep in dependant.dependencies)


def keyed_routes(routers: Iterable[APIRouter]) -> list[APIRoute]:
    """The routes of ``routers`` that authenticate by API key: the admission middleware authenticates their
    requests before they may take a turn (api/admission.py)."""
    return [route for router in routers for route in router.routes
            if isinstance(route, APIRoute) and needs_api_key(route.dependant)]


CurrentKey = Annotated[Principal, Depends(current_key)]
"""Any live key or customer session, whatever its scopes."""


class ScopeRequirement:
    """The dependency behind :func:`require_scope`; routes are documented from its ``scopes``."""

    def __init__(self, scopes: tuple[Scope, ...]) -> None:
        if not scopes:
            raise ValueError("require at least one scope")
        self.scopes = scopes

    async def __call__(self, key: CurrentKey) -> Principal:
        if not key.scope_set & set(self.scopes):
            raise ForbiddenError(f"this endpoint needs one of the scopes {', '.join(self.scopes)}; "
                                 f"the key has {', '.join(sorted(key.scopes))}",
                                 required_scopes=list(self.scopes))
        return key

    def __repr__(self) -> str:
        return f"ScopeRequirement({', '.join(self.scopes)})"


def require_scope(*scopes: Scope) -> Any:
    """The dependency admitting keys with any of ``scopes``; use it in an ``Annotated`` alias (typed for mypy)::

        TellerOrApp = Annotated[Principal, require_scope(Scope.TELLER, Scope.APP)]
    """
    return Depends(ScopeRequirement(tuple(scopes)))


AnyKey = Annotated[Principal, require_scope(*Scope)]
"""A live key with any scope at all."""

Admin = Annotated[Principal, require_scope(Scope.ADMIN)]
"""The bank's admin key."""

AdminOrRegulator = Annotated[Principal, require_scope(Scope.ADMIN, Scope.REGULATOR)]
"""The bank's admin key, or the regulator's (which reads)."""

PAYER_SCOPES: Final = (Scope.APP, Scope.TELLER)
Payer = Annotated[Principal, require_scope(*PAYER_SCOPES)]
"""A key that pays from a customer's wallet: the customer's app (a customer session) or a teller at the counter."""


def _scopes_of(dependant: Any) -> list[Scope]:
    found: list[Scope] = []
    for dep in dependant.dependencies:
        if isinstance(dep.call, ScopeRequirement):
            found.extend(s for s in dep.call.scopes if s not in found)
        found.extend(s for s in _scopes_of(dep) if s not in found)
    return found


def document_scopes(router: APIRouter) -> None:
    """Write each route's required scopes into its OpenAPI operation (idempotent; before ``include_router``)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        scopes = _scopes_of(route.dependant)
        if not scopes:
            continue
        route.openapi_extra = {**(route.openapi_extra or {}), "x-required-scopes": [s.value for s in scopes]}
        note = f"Scopes: {', '.join(s.value for s in scopes)}."
        if note not in (route.description or ""):
            route.description = f"{route.description}\n\n{note}".strip() if route.description else note
