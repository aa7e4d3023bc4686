"""Wallet keys: create, import (hex, BIP-39 mnemonic), encrypt to a keystore, sign.

A :class:`WalletKey` holds a secp256k1 private key and guards it: the key never shows in ``repr``/``str``,
in exception messages or chained tracebacks, and cannot be pickled or copied out by accident. The only way
to read it is :meth:`WalletKey.export_private_key`, so a leak is always a visible, greppable call.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, NoReturn

import coincurve
from eth_account import Account
from eth_account.datastructures import SignedMessage, SignedTransaction
from eth_account.hdaccount import generate_mnemonic, key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount
from eth_account.types import Language
from eth_typing import ChecksumAddress
from eth_utils.address import is_hex_address, to_checksum_address
from eth_utils.crypto import keccak

from wallet_sdk.exceptions import (
    InvalidMnemonicError,
    InvalidPrivateKeyError,
    KeystoreExistsError,
    MalformedKeystoreError,
    WrongPasswordError,
)

__all__ = ["MNEMONIC_WORD_COUNTS", "WalletKey", "derivation_path", "fresh_keys"]

SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MNEMONIC_WORD_COUNTS: Final = (12, 15, 18, 21, 24)
_HEX_KEY = re.compile(r"(?:0[xX])?[0-9a-fA-F]{64}", re.ASCII)


def derivation_path(index: int) -> str:
    """The BIP-44 path of Ethereum account ``index``: m/44'/60'/0'/0/index (MetaMask's and Ledger Live's)."""
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 2**31:
        raise InvalidMnemonicError(f"account index must be an int from 0 to 2**31 - 1, got {index!r}")
    return f"m/44'/60'/0'/0/{index}"


def _key_bytes(private_key: object) -> bytes:
    """Validate a private key. Errors say what is wrong, never echo the input."""
    if isinstance(private_key, str):
        if not _HEX_KEY.fullmatch(private_key):
            raise InvalidPrivateKeyError(
                f"expected 64 hex digits (optionally 0x-prefixed), got a {len(private_key)}-character string"
            )
        raw = bytes.fromhex(private_key[-64:])
    elif isinstance(private_key, bytes | bytearray | memoryview):
        raw = bytes(private_key)
        if len(raw) != 32:
            raise InvalidPrivateKeyError(f"expected 32 bytes, got {len(raw)}")
    else:
        raise InvalidPrivateKeyError(f"expected a hex str or 32 bytes, not {type(private_key).__name__}")
    if not 0 < int.from_bytes(raw, "big") < SECP256K1_N:
        raise InvalidPrivateKeyError("not in the secp256k1 range 1..n-1")
    return raw


class WalletKey:
    """One wallet's private key, with its checksummed :attr:`address`.

    >>> key = WalletKey.create()
    >>> repr(key) == f"WalletKey(address='{key.address}')"
    True
    """

    __slots__ = ("_account",)
    _account: LocalAccount

    def __init__(self, private_key: str | bytes) -> None:
        """Wrap a private key given as 64 hex digits or 32 bytes; see also the ``create``/``from_*`` builders."""
        object.__setattr__(self, "_account", Account.from_key(_key_bytes(private_key)))

    # --- builders ---

    @classmethod
    def create(cls) -> WalletKey:
        """A new random key from the OS's CSPRNG."""
        while True:  # a draw outside 1..n-1 has probability ~2**-128, but costs nothing to rule out
            raw = secrets.token_bytes(32)
            if 0 < int.from_bytes(raw, "big") < SECP256K1_N:
                return cls(raw)

    @classmethod
    def from_private_key(cls, private_key: str | bytes) -> WalletKey:
        """Import a raw private key (64 hex digits, optionally 0x-prefixed, or 32 bytes)."""
        return cls(private_key)

    @classmethod
    def from_mnemonic(cls, phrase: str, index: int = 0, passphrase: str = "") -> WalletKey:
        """The key at m/44'/60'/0'/0/``index`` of a BIP-39 phrase, as MetaMask and hardware wallets derive it."""
        path = derivation_path(index)
        if not isinstance(phrase, str):
            raise InvalidMnemonicError(f"expected a str, not {type(phrase).__name__}")
        words = phrase.split()
        if len(words) not in MNEMONIC_WORD_COUNTS:
            raise InvalidMnemonicError(f"expected 12, 15, 18, 21 or 24 words, got {len(words)}")
        seed: bytes | None
        try:
            seed = seed_from_mnemonic(" ".join(words), passphrase)
        except Exception:
            seed = None
        if seed is None:
            # Raised outside the except block: eth_account's error repeats the phrase, and an exception
            # raised inside would keep it as __context__ for tracebacks and error trackers to print.
            raise InvalidMnemonicError("a word is not in the BIP-39 English list, or the checksum is wrong")
        return cls(key_from_seed(seed, path))

    @classmethod
    def generate_with_mnemonic(
        cls, *, num_words: int = 12, index: int = 0, passphrase: str = ""
    ) -> tuple[WalletKey, str]:
        """A new BIP-39 English phrase and its key at ``index``; the caller must show the phrase to the user once."""
        if num_words not in MNEMONIC_WORD_COUNTS:
            raise InvalidMnemonicError(f"num_words must be one of {MNEMONIC_WORD_COUNTS}, got {num_words!r}")
        phrase = generate_mnemonic(num_words, Language.ENGLISH)
        return cls.from_mnemonic(phrase, index, passphrase), phrase

    # --- keystores ---

    def to_keystore(self, password: str, *, scrypt_n: int | None = None) -> dict[str, Any]:
        """An encrypted v3 keyfile (scrypt), as geth, MetaMask and eth-account read it.

        ``scrypt_n`` is scrypt's work factor (a power of two); the default (2**18) takes about a second,
        which is the point: it slows down guessing. Lower it only in tests.
        """
        if not isinstance(password, str):
            raise TypeError("password must be a str")
        return dict(Account.encrypt(self._account.key, password, kdf="scrypt", iterations=scrypt_n))

    @classmethod
    def from_keystore(cls, keystore: Mapping[str, Any] | str, password: str) -> WalletKey:
        """Decrypt a v3 keyfile (a dict or its JSON text). Wrong password: :class:`WrongPasswordError`."""
        if not isinstance(password, str):
            raise TypeError("password must be a str")
        if isinstance(keystore, str):
            try:
                keystore = json.loads(keystore)
            except ValueError:
                raise MalformedKeystoreError("not JSON") from None
        if not isinstance(keystore, Mapping):
            raise MalformedKeystoreError(f"expected a JSON object, not {type(keystore).__name__}")
        stated = keystore.get("address")
        address = to_checksum_address(stated) if isinstance(stated, str) and is_hex_address(stated) else None
        if not isinstance(keystore.get("crypto", keystore.get("Crypto")), Mapping):
            raise MalformedKeystoreError("no 'crypto' section")
        problem: str | None = None
        try:
            raw = bytes(Account.decrypt(dict(keystore), password))
        except (ValueError, KeyError, TypeError, NotImplementedError) as exc:
            problem = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
        # Raised outside the except block, so no traceback chains into the KDF's frames (and their locals).
        if problem == "MAC mismatch":
            raise WrongPasswordError(address)
        if problem is not None:
            raise MalformedKeystoreError(problem)
        key = cls(raw)
        if address is not None and address != key.address:
            raise MalformedKeystoreError(f"the key decrypts to {key.address}, not the stated address {address}")
        return key

    def save(self, path: str | os.PathLike[str], password: str, *, overwrite: bool = False,
             scrypt_n: int | None = None) -> Path:
        """Write an encrypted keystore readable by the owner only (mode 0600).

        Refuses to replace an existing file unless ``overwrite=True`` (then the swap is atomic), because a
        replaced keystore may be the only copy of a key that holds money.
        """
        target = Path(path)
        data = (json.dumps(self.to_keystore(password, scrypt_n=scrypt_n), sort_keys=True) + "\n").encode()
        if overwrite:
            tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
            _write_private(tmp, data)
            try:
                os.replace(tmp, target)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        else:
            try:
                _write_private(target, data)
            except FileExistsError:
                raise KeystoreExistsError(str(target)) from None
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str], password: str) -> WalletKey:
        """Read a keystore file written by :meth:`save` (or by geth/MetaMask)."""
        return cls.from_keystore(Path(path).read_text(encoding="utf-8"), password)

    # --- identity and signing ---

    @property
    def address(self) -> ChecksumAddress:
        """The wallet address (EIP-55 checksummed)."""
        return self._account.address

    def export_private_key(self) -> str:
        """The private key as 0x-prefixed hex. The only way to read it: keep such calls rare and reviewed."""
        return "0x" + bytes(self._account.key).hex()

    def sign_typed_data(self, typed_data: Mapping[str, Any]) -> SignedMessage:
        """Sign a full EIP-712 message (``types``, ``primaryType``, ``domain``, ``message``)."""
        return self._account.sign_typed_data(full_message=dict(typed_data))

    def sign_digest(self, digest: bytes) -> tuple[int, bytes, bytes]:
        """``(v, r, s)`` (v 27/28) of a 32-byte digest, e.g. an EIP-712 message's: the signature eth-account makes
        (RFC 6979, low s), with libsecp256k1 directly and without building the typed data (a fifth of the time)."""
        if not isinstance(digest, bytes) or len(digest) != 32:
            raise ValueError("a digest is 32 bytes")
        signature = coincurve.PrivateKey(bytes(self._account.key)).sign_recoverable(digest, hasher=None)
        return signature[64] + 27, signature[:32], signature[32:64]

    def sign_transaction(self, transaction: Mapping[str, Any]) -> SignedTransaction:
        """Sign a transaction dict (for bank operators; wallet holders sign authorizations instead)."""
        return self._account.sign_transaction(dict(transaction))

    # --- guards ---

    def __repr__(self) -> str:
        return f"WalletKey(address='{self.address}')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WalletKey) and other.address == self.address

    def __hash__(self) -> int:
        return hash((WalletKey, self.address))

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("WalletKey is immutable")

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("a WalletKey cannot be pickled (it would write the key in clear); use to_keystore()")

    def __copy__(self) -> WalletKey:
        return self

    def __deepcopy__(self, memo: object) -> WalletKey:
        return self


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` exclusively with mode 0600 (whatever the umask) and write ``data`` durably."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        if fd != -1:
            os.close(fd)
        path.unlink(missing_ok=True)
        raise


def fresh_keys(count: int) -> list[tuple[ChecksumAddress, str]]:
    """``count`` new random keys, each as (its address, the private key as 0x-hex), for a bank that makes thousands
    of custodial wallets at once. The same keys :meth:`WalletKey.create` draws, with the address computed straight
    from coincurve's public key: building a signing account per key (eth_account) cost about 0.2 ms, a third of a
    bulk enrolment's work per wallet. Wrap one in :class:`WalletKey` to sign with it."""
    keys: list[tuple[ChecksumAddress, str]] = []
    while len(keys) < count:
        raw = secrets.token_bytes(32)
        if not 0 < int.from_bytes(raw, "big") < SECP256K1_N:
            continue  # probability ~2**-128, as in WalletKey.create
        public = coincurve.PublicKey.from_secret(raw).format(compressed=False)[1:]
        keys.append((to_checksum_address(keccak(public)[-20:]), "0x" + raw.hex()))
    return keys
