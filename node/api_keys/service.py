"""Creating, listing, revoking and checking API keys, and the one function that turns a request's credential
into who it acts as (:func:`authenticate`); free of FastAPI (the CLI and the API both use it).

A key's secret is ``wn_`` followed by 43 URL-safe random characters (32 bytes); it is shown once, at
creation, and only its sha256 is stored. A customer session's token (``wnc_...``, node/api_keys/sessions.py)
is checked by the same function.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from node.api_keys.models import ApiKey, CustomerSession, Scope, revoke
from node.api_keys.principal import Principal
from node.api_keys.sessions import TOKEN_PREFIX
from node.db.base import utcnow
from node.errors import NotFoundError
from wallet_sdk.exceptions import DeclaredError, error_message

__all__ = ["ApiKeyNotFoundError", "CreatedKey", "authenticate", "create_key", "hash_secret", "list_keys",
           "revoke_key"]

SECRET_PREFIX: Final = "wn_"
MAX_SECRET_LENGTH: Final = 200


@error_message("no API key with id {key_id}")
class ApiKeyNotFoundError(DeclaredError, NotFoundError):
    key_id: int


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str = field(repr=False)  # shown once; not stored, never in a log line


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, *, name: str, scopes: Iterable[Scope | str], merchant_id: str | None = None
               ) -> CreatedKey:
    """A new key; ``ValueError`` for an empty name, no scope, an unknown scope or a merchant key without
    a merchant id."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("a key's name is 1..100 characters")
    chosen = sorted({Scope(s).value for s in scopes})  # ValueError for an unknown scope
    if not chosen:
        raise ValueError("give at least one scope")
    if Scope.MERCHANT.value in chosen and not merchant_id:
        raise ValueError("a merchant key needs --merchant (the merchant it may see)")
    if merchant_id is not None and not 0 < len(merchant_id) <= 64:
        raise ValueError("a merchant id is 1..64 characters")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=secret[:10], secret_hash=hash_secret(secret), scopes=chosen,
                 merchant_id=merchant_id, created_at=utcnow())
    session.add(key)
    session.flush()
    return CreatedKey(key, secret)


def list_keys(session: Session, *, include_revoked: bool = True) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_key(session: Session, key_id: int) -> ApiKey:
    """Revoke a key (revoking twice keeps the first timestamp)."""
    return revoke(session, ApiKey, key_id, ApiKeyNotFoundError)


def authenticate(session: Session, secret: str) -> Principal | None:
    """Who ``secret`` acts as: the live API key with this secret, or the live customer session with this token
    (not expired, not revoked, minted by a key that is not revoked); None if neither (unknown, malformed,
    revoked or expired). Looked up on every request, so a revocation holds from the next request on: one
    SQL Core statement built once (every request runs it), not ORM objects."""
    if not secret or len(secret) > MAX_SECRET_LENGTH or not secret.isascii():
        return None
    digest = hash_secret(secret)
    db = session.connection()
    if secret.startswith(TOKEN_PREFIX):
        found = db.execute(_SESSION_BY_TOKEN, {"digest": digest}).first()
        if found is None or not hmac.compare_digest(found.token_hash, digest) or found.revoked_at is not None \
                or utcnow() >= found.expires_at or found.key_revoked_at is not None:
            return None
        return Principal.of_session(found)
    key = db.execute(_KEY_BY_HASH, {"digest": digest}).first()
    if key is None or not hmac.compare_digest(key.secret_hash, digest) or key.revoked_at is not None:
        return None
    return Principal.of_key(key)


_SESSION_BY_TOKEN: Final = (
    select(CustomerSession.id, CustomerSession.customer_ref, CustomerSession.api_key_id, CustomerSession.token_hash,
           CustomerSession.expires_at, CustomerSession.revoked_at, ApiKey.revoked_at.label("key_revoked_at"))
    .join(ApiKey, ApiKey.id == CustomerSession.api_key_id).where(CustomerSession.token_hash == bindparam("digest")))
_KEY_BY_HASH: Final = select(ApiKey.id, ApiKey.name, ApiKey.scopes, ApiKey.merchant_id, ApiKey.secret_hash,
                             ApiKey.revoked_at).where(ApiKey.secret_hash == bindparam("digest"))
