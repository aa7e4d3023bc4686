"""Customer sessions: short-lived tokens bound to one customer, minted by the bank's login backend.

Why: an ``app`` API key is not bound to a customer, so a leaked or misused app key could move any custodial
wallet of the bank. The bank's login backend (a key of scope ``auth``, or ``admin``) logs the customer in by its
own means, then mints a token for that customer (``customer_ref`` as the bank knows it) and hands it to the app.
The token acts in the ``app`` scope on that customer's wallets only (api/customers.py).

A token is ``wnc_`` followed by 43 URL-safe random characters (32 bytes); it is shown once, when minted, and
only its sha256 is stored. It is dead once it expires, once it is revoked (by id, all of a customer's at once,
or by the app itself at logout) or once the key that minted it is revoked; :func:`authenticate` checks all three
on every request, so a revocation holds from the next request on.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import update
from sqlalchemy.orm import Session

from node.api_keys.models import CustomerSession, revoke
from node.db.base import utcnow
from node.errors import NotFoundError
from wallet_sdk.exceptions import DeclaredError, error_message

__all__ = ["MAX_TTL", "MIN_TTL", "TOKEN_PREFIX", "CustomerSessionNotFoundError", "MintedSession",
           "mint_session", "revoke_customer", "revoke_session"]

TOKEN_PREFIX: Final = "wnc_"
MIN_TTL: Final = 30  # seconds
MAX_TTL: Final = 4 * 3600  # a session lasts a few hours at most: the app asks the backend for a new one


@error_message("no customer session with id {session_id}")
class CustomerSessionNotFoundError(DeclaredError, NotFoundError):
    session_id: int


@dataclass(frozen=True)
class MintedSession:
    session: CustomerSession
    token: str  # shown once; not stored

    def __repr__(self) -> str:  # never the token
        return f"MintedSession({self.session!r})"


def mint_session(session: Session, *, api_key_id: int, customer_ref: str, ttl_seconds: int,
                 now: datetime | None = None) -> MintedSession:
    """A new token for ``customer_ref``, valid ``ttl_seconds``; ``ValueError`` for an empty or too long customer
    reference or a lifetime outside MIN_TTL..MAX_TTL."""
    if not 0 < len(customer_ref) <= 64:
        raise ValueError("a customer reference is 1..64 characters")
    if not MIN_TTL <= ttl_seconds <= MAX_TTL:
        raise ValueError(f"a session lasts {MIN_TTL}..{MAX_TTL} seconds")
    start = now or utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = CustomerSession(customer_ref=customer_ref, token_hash=_digest(token), api_key_id=api_key_id,
                             created_at=start, expires_at=start + timedelta(seconds=ttl_seconds))
    session.add(record)
    session.flush()
    return MintedSession(record, token)


def revoke_session(session: Session, session_id: int) -> CustomerSession:
    """Revoke one session (revoking twice keeps the first timestamp)."""
    return revoke(session, CustomerSession, session_id, CustomerSessionNotFoundError)


def revoke_customer(session: Session, customer_ref: str) -> int:
    """Revoke every live session of ``customer_ref`` (a lost phone, a password change); how many were live."""
    now = utcnow()
    result = session.execute(update(CustomerSession)
                             .where(CustomerSession.customer_ref == customer_ref,
                                    CustomerSession.revoked_at.is_(None), CustomerSession.expires_at > now)
                             .values(revoked_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
