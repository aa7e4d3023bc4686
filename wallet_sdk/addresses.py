"""EIP-55 checksums, remembered: a bank node checks the same few thousand wallet addresses on every request, and
each check hashes the address (keccak), which a payment's admission did several times over."""

from __future__ import annotations

import functools

from eth_utils.address import is_address, to_checksum_address

__all__ = ["checksummed"]


@functools.lru_cache(maxsize=1 << 16)
def checksummed(text: str) -> str | None:
    """``text`` as its EIP-55 checksummed form, or None if it is no 0x address of 20 bytes or is mixed-case with a
    wrong checksum (all-lowercase and all-uppercase hex carry no checksum and are taken)."""
    if not text.startswith("0x") or not is_address(text):
        return None
    digits = text[2:]
    proper = to_checksum_address(text)
    if digits not in (digits.lower(), digits.upper()) and proper != text:
        return None
    return proper
