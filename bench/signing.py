"""Signing many authorizations quickly: each wallet's app signs one payment at a time, but the bench signs tens
of thousands before it starts the clock, so it signs the SDK's EIP-712 digest directly (the same signature as
``Authorization.sign``, without building the typed-data document each time)."""

from __future__ import annotations

from typing import Any, TypeVar

import coincurve
from eth_hash.auto import keccak

from wallet_sdk.authorizations import Authorization, Domain, RelayedTransfer, SignedAuthorization
from wallet_sdk.keys import WalletKey

__all__ = ["Signer"]

A = TypeVar("A", bound=Authorization)


class Signer:
    """Signs authorizations of one domain with many keys (each private key is parsed once)."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self._separator = domain.separator()
        self._relay_type = RelayedTransfer.type_hash()
        self._keys: dict[str, coincurve.PrivateKey] = {}

    def _sign_digest(self, key: WalletKey, digest: bytes) -> tuple[int, bytes, bytes]:
        private = self._keys.get(key.address)
        if private is None:
            private = self._keys[key.address] = coincurve.PrivateKey(bytes.fromhex(key.export_private_key()[2:]))
        sig = private.sign_recoverable(digest, hasher=None)  # r (32) | s (32) | recovery id (1)
        return sig[64] + 27, sig[:32], sig[32:64]

    def sign(self, key: WalletKey, auth: A) -> SignedAuthorization[A]:
        v, r, s = self._sign_digest(key, auth.digest(self.domain))
        return SignedAuthorization(authorization=auth, domain=self.domain, v=v, r=r, s=s)

    def relay_item(self, key: WalletKey, to: str, value: int, valid_before: int, nonce: int) -> tuple[Any, ...]:
        """One ``relayTransfers`` item signed by ``key`` (``to`` checksummed): the chain-filling fast path,
        hashing the RelayedTransfer struct without the SDK's per-object checks."""
        words = (self._relay_type + bytes(12) + bytes.fromhex(key.address[2:]) + bytes(12) + bytes.fromhex(to[2:])
                 + value.to_bytes(32, "big") + valid_before.to_bytes(32, "big") + nonce.to_bytes(32, "big"))
        v, r, s = self._sign_digest(key, keccak(b"\x19\x01" + self._separator + keccak(words)))
        return (key.address, to, value, valid_before, nonce, v, r, s)
