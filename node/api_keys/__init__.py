"""API keys of the bank's HTTP API, stored by the node: hashed secrets with scopes per channel (teller,
atm, app, merchant, admin, regulator). The HTTP side (auth, endpoints) is in api/; the table is the node's."""

from node.api_keys.models import ApiKey, Scope
from node.api_keys.service import (
    ApiKeyNotFoundError,
    CreatedKey,
    authenticate,
    create_key,
    hash_secret,
    list_keys,
    revoke_key,
)

__all__ = [
    "ApiKey",
    "ApiKeyNotFoundError",
    "CreatedKey",
    "Scope",
    "authenticate",
    "create_key",
    "hash_secret",
    "list_keys",
    "revoke_key",
]
