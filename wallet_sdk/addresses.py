"""EIP-55 checksums, remembered: a bank node checks the same few thousand wallet addresses on every request, and
each check hashes the address (keccak), which a payment's admission did several times over."""

from __future__ import annotations

import functools
import re
from typing import Final

from eth_hash.auto import keccak

__all__ = ["checksummed", "eip55"]

_HEX_ADDRESS: Final = re.compile(r"0x[0-9a-fA-F]{40}")


_CASED: Final = {(c, h): c.upper() if h >= "8" else c for c in "0123456789abcdef" for h in "0123456789abcdef"}


def eip55(address: str) -> str:
    """The EIP-55 form of a 0x address of 40 hex digits (not checked: see :func:`checksummed`); a third of
    eth_utils' ``to_checksum_address``'s time, which validates and converts the text several times over."""
    digits = address[2:].lower()
    return "0x" + "".join(map(_CASED.__getitem__, zip(digits, keccak(digits.encode("ascii")).hex()[:40], strict=True)))


@functools.lru_cache(maxsize=1 << 16)
def checksummed(text: str) -> str | None:
    """``text`` as its EIP-55 checksummed form, or None if it is no 0x address of 20 bytes or is mixed-case with a
    wrong checksum (all-lowercase and all-uppercase hex carry no checksum and are taken)."""
    if not _HEX_ADDRESS.fullmatch(text):
        return None
    proper = eip55(text)  # one keccak (eth_utils' is_address would hash a mixed-case one again)
    digits = text[2:]
    if proper != text and digits not in (digits.lower(), digits.upper()):
        return None
    return proper
