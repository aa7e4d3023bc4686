"""Secrets the bank keeps for its customers, encrypted at rest: custodial wallet keys and TOTP secrets.

One symmetric key (Fernet: AES-128-CBC + HMAC-SHA256) per node encrypts them. It comes from the settings:
``custody_key_env`` (the name of an environment variable) or ``custody_key_file``. In a ``local``
environment with neither, a key file is created on first use at ``<data_dir>/<bank>/custody.key`` with
mode 0600; elsewhere a missing key is an error. Plaintexts never appear in logs, reprs or errors.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from node.errors import NodeError
from node.settings import Environment, NodeSettings

__all__ = ["Custody", "CustodyKeyError", "custody_for"]


class CustodyKeyError(NodeError, RuntimeError):
    """The custody key is missing, unreadable or not the key the secrets were encrypted with."""


class Custody:
    """Encrypts and decrypts customers' secrets with the node's custody key."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise CustodyKeyError("the custody key is not a Fernet key (32 url-safe base64-encoded bytes)") from None

    def __repr__(self) -> str:
        return "Custody(<key hidden>)"

    @staticmethod
    def generate_key() -> bytes:
        return Fernet.generate_key()

    def encrypt(self, plaintext: bytes) -> str:
        return self._fernet.encrypt(plaintext).decode("ascii")

    def decrypt(self, token: str) -> bytes:
        try:
            return self._fernet.decrypt(token.encode("ascii"))
        except (InvalidToken, ValueError):
            raise CustodyKeyError("a stored secret does not decrypt with this node's custody key") from None


def _default_key_file(settings: NodeSettings) -> Path:
    return settings.data_dir / settings.bank_id.lower() / "custody.key"


def _read_key_file(path: Path, settings: NodeSettings) -> bytes:
    if settings.environment is not Environment.LOCAL and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CustodyKeyError(f"custody_key_file {path} is readable by others; chmod 600 it")
    return path.read_bytes().strip()


def _load_key(settings: NodeSettings) -> bytes:
    if settings.custody_key_env:
        value = os.environ.get(settings.custody_key_env)
        if not value:
            raise CustodyKeyError(f"environment variable {settings.custody_key_env} (custody key) is not set")
        return value.encode("ascii")
    path = settings.custody_key_file or _default_key_file(settings)
    if path.is_file():
        return _read_key_file(path, settings)
    if settings.custody_key_file is not None or settings.environment is not Environment.LOCAL:
        raise CustodyKeyError(f"no custody key: {path} does not exist; set custody_key_env or custody_key_file")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # Written whole under a temporary name, then linked into place: link fails if the key file exists (two
    # processes never make two keys), and nobody ever reads a key file that is still being written.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".custody-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(key + b"\n")
        os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return key


_CACHE: dict[tuple[str | None, Path], Custody] = {}
_LOADING = threading.Lock()  # one thread of the process reads (or makes) the key; the others wait for it


def custody_for(settings: NodeSettings) -> Custody:
    """The node's :class:`Custody` (the key is read once per process and key source)."""
    source = (settings.custody_key_env, settings.custody_key_file or _default_key_file(settings))
    custody = _CACHE.get(source)
    if custody is None:
        with _LOADING:
            custody = _CACHE.get(source)
            if custody is None:
                try:
                    key = _load_key(settings)
                except FileExistsError:  # another process created the key file between our look and our link
                    key = _load_key(settings)
                custody = _CACHE.setdefault(source, Custody(key))
    return custody
