"""EIP-55 checksums, remembered: a bank node checks the same few thousand wallet addresses on every request, and
each check hashes the address (keccak), which a payment's admission did several times over."""

from __future__ import annotations

import functools
import re
from typing import Final

from eth_utils.address import to_checksum_address

__all__ = ["checksummed"]

_HEX_ADDRESS: Final = re.compile(r"0x[0-9a-fA-F]{40}")


@functools.lru_cache(maxsize=1 << 16)
def checksummed(text: str) -> str | None:
    """``text`` as its EIP-55 checksummed form, or None if it is no 0x address of 20 bytes or is mixed-case with a
    wrong checksum (all-lowercase and all-uppercase hex carry no checksum and are taken)."""
    if not _HEX_ADDRESS.fullmatch(text):
        return None
    proper = to_checksum_address(text)  # one keccak (eth_utils' is_address would hash a mixed-case one again)
    digits = text[2:]
    if proper != text and digits not in (digits.lower(), digits.upper()):
        return None
    return proper
