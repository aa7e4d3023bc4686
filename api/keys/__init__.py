"""API keys over HTTP: the records and their service live in :mod:`node.api_keys` (the node's database)."""

from node.api_keys import (
    ApiKey,
    ApiKeyNotFoundError,
    CreatedKey,
    Principal,
    Scope,
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
    "Principal",
    "Scope",
    "authenticate",
    "create_key",
    "hash_secret",
    "list_keys",
    "revoke_key",
]
