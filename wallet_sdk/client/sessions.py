"""Customer sessions: the bank's login backend mints a short-lived token for a customer it has logged in and hands
it to the customer's app, which acts with it on that customer's wallets only.

::

    backend = Client(url, auth_key)                        # the login backend's key (scope auth)
    session = backend.mint_customer_session("CUST-1")     # once the customer has logged in; token shown once
    # ... the backend hands session.token to the app, which makes its own client with it:
    app = Client(url, session.token)                       # or backend.as_customer(session.token)
    app.top_up(wallet, 5_000)
    app.end_customer_session()                             # logout: the token is dead from now on

An ``app`` API key alone acts for no customer (``CustomerSessionRequiredError``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from wallet_sdk.client._core import ApiRequest, Endpoint, model
from wallet_sdk.client.common import ClientArgumentError, matching

__all__ = ["AsyncCustomerSessionEndpoints", "CustomerSession", "CustomerSessionEndpoints", "Revocation"]

_CUSTOMER_REF: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")


@dataclass(frozen=True)
class CustomerSession:
    id: int
    customer_ref: str
    created_at: str
    expires_at: str
    revoked_at: str | None = None
    token: str | None = None  # only in the answer that minted it: hand it to the customer's app

    def __repr__(self) -> str:  # never the token
        return f"CustomerSession(id={self.id!r}, customer_ref={self.customer_ref!r}, expires_at={self.expires_at!r})"


@dataclass(frozen=True)
class Revocation:
    customer_ref: str
    revoked: int  # how many live sessions ended


def _customer(customer_ref: str) -> str:
    return matching(_CUSTOMER_REF, customer_ref, "not a customer reference: {value}")


def mint_customer_session(customer_ref: str, *, ttl_seconds: int | None = None) -> ApiRequest[CustomerSession]:
    """A token for ``customer_ref`` (scope auth or admin), valid the node's session lifetime or ``ttl_seconds``."""
    body: dict[str, object] = {"customer_ref": _customer(customer_ref)}
    if ttl_seconds is not None:
        body["ttl_seconds"] = ttl_seconds
    return ApiRequest("POST", "/v1/customer-sessions", model(CustomerSession), json=body)


def get_customer_session() -> ApiRequest[CustomerSession]:
    """The session this client's token belongs to: its customer and when it expires."""
    return ApiRequest("GET", "/v1/customer-sessions/current", model(CustomerSession))


def end_customer_session() -> ApiRequest[None]:
    """Log out: revoke this client's token."""
    return ApiRequest("DELETE", "/v1/customer-sessions/current", lambda _: None)


def revoke_customer_session(session_id: int) -> ApiRequest[CustomerSession]:
    """Revoke one session (scope auth or admin); its token is refused from the next request on."""
    if isinstance(session_id, bool) or not isinstance(session_id, int) or session_id < 1:
        raise ClientArgumentError(f"not a session id: {session_id!r}")
    return ApiRequest("POST", f"/v1/customer-sessions/{session_id}/revoke", model(CustomerSession))


def revoke_customer_sessions(customer_ref: str) -> ApiRequest[Revocation]:
    """Revoke every live session of a customer (scope auth or admin): a lost phone, a changed password."""
    return ApiRequest("POST", "/v1/customer-sessions/revocations", model(Revocation),
                      json={"customer_ref": _customer(customer_ref)})


class CustomerSessionEndpoints:
    mint_customer_session = Endpoint(mint_customer_session)
    get_customer_session = Endpoint(get_customer_session)
    end_customer_session = Endpoint(end_customer_session)
    revoke_customer_session = Endpoint(revoke_customer_session)
    revoke_customer_sessions = Endpoint(revoke_customer_sessions)


AsyncCustomerSessionEndpoints = CustomerSessionEndpoints  # one class serves both clients
