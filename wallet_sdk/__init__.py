"""walletnet's Python SDK: amounts, keys, authorizations and contract bindings."""

from wallet_sdk.artifacts import ArtifactNotFoundError, load_artifact

__all__ = ["ArtifactNotFoundError", "load_artifact"]
