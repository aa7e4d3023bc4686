"""API keys of the bank's HTTP API, stored by the node: hashed secrets with scopes per channel (teller,
atm, app, merchant, admin, regulator, auth), and the customer sessions an ``auth`` key mints. The HTTP side
(auth, endpoints) is in api/; the tables are the node's."""

from node.api_keys.models import ApiKey, CustomerSession, Scope
from node.api_keys.principal import STAFF_SCOPES, Principal
from node.api_keys.service import (
    ApiKeyNotFoundError,
    CreatedKey,
    authenticate,
    create_key,
    hash_secret,
    list_keys,
    revoke_key,
)
from node.api_keys.sessions import (
    CustomerSessionNotFoundError,
    MintedSession,
    mint_session,
    revoke_customer,
    revoke_session,
)

__all__ = [
    "STAFF_SCOPES",
    "ApiKey",
    "ApiKeyNotFoundError",
    "CreatedKey",
    "CustomerSession",
    "CustomerSessionNotFoundError",
    "MintedSession",
    "Principal",
    "Scope",
    "authenticate",
    "create_key",
    "hash_secret",
    "list_keys",
    "mint_session",
    "revoke_customer",
    "revoke_key",
    "revoke_session",
]
