"""bytes32 ids (bank ids, merchant and order ids, refs, hold ids) as the node stores and shows them.

The SDK makes a text id into bytes32 by UTF-8 right-padded with zeros (``order_id("ORDER-1")``) and reads it
back with :func:`~wallet_sdk.authorizations.id_to_text`, which gives 0x-hex for any bytes32 that is not such
text. The two forms cannot collide (a text id is at most 32 bytes, the hex form is 66 characters), so the
text form is what the node's tables keep and what reports show.
"""

from __future__ import annotations

import re
from typing import Final

from wallet_sdk.authorizations import id_to_text, order_id

__all__ = ["ZERO_ID", "id_bytes", "id_or_none", "id_text"]

ZERO_ID: Final = bytes(32)
_HEX32: Final = re.compile(r"0x[0-9a-fA-F]{64}")


def id_text(value: bytes) -> str:
    """The stored form of a bytes32 id: its text if it is SDK-made text, else 0x-hex."""
    return id_to_text(bytes(value))


def id_or_none(value: bytes) -> str | None:
    """Like :func:`id_text`, with the all-zero id (no bank, no ref) as None."""
    return None if bytes(value) == ZERO_ID else id_text(value)


def id_bytes(text: str) -> bytes | None:
    """The bytes32 of a stored or typed id (0x-hex, or text of at most 32 UTF-8 bytes); None if it cannot be one
    (such a reference can never match anything on chain)."""
    if _HEX32.fullmatch(text):
        return bytes.fromhex(text[2:])
    try:
        return order_id(text)
    except ValueError:
        return None
