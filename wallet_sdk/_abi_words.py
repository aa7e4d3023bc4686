"""ABI decoding of static 32-byte words (addresses, ints, bools, fixed bytes) without eth_abi's machinery.

Event logs are almost all such words, and eth_abi's general decoder (streams, registries, one decoder object per
call) was a large share of an indexer's catch-up. :func:`decode_word` gives what ``eth_abi.decode([typ], word)[0]``
gives, and hands every word it would have to reject (non-zero padding, a value out of its type's range) and every
type it does not handle to eth_abi, so errors and unusual types behave exactly as before.
:func:`abi_type` spells an ABI parameter's canonical type (structs as tuples), for signatures and decoding.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any, Final

from eth_abi.abi import decode as abi_decode

__all__ = ["WORD", "abi_type", "decode_word", "decode_words"]

WORD: Final = 32
_ZERO: Final = bytes(WORD)
_SIZED: Final = re.compile(r"(uint|int|bytes)(\d+)")


def abi_type(param: dict[str, Any]) -> str:
    """Canonical ABI type of an ABI parameter, expanding tuples (structs) recursively: ``(address,uint8)[]``."""
    typ: str = param["type"]
    if typ.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param["components"])
        return f"({inner}){typ[len('tuple'):]}"
    return typ


def _by_eth_abi(typ: str) -> Callable[[bytes], Any]:
    return lambda word: abi_decode([typ], word)[0]


@cache
def _fast(typ: str) -> Callable[[bytes], Any] | None:
    """The fast decoder of a one-word static type (it hands words it must refuse to eth_abi); None for any
    other type."""
    slow = _by_eth_abi(typ)
    if typ == "address":
        return lambda w: "0x" + w[12:].hex() if w[:12] == _ZERO[:12] else slow(w)
    if typ == "bool":
        return lambda w: w[31] == 1 if w[:31] == _ZERO[:31] and w[31] <= 1 else slow(w)
    sized = _SIZED.fullmatch(typ)
    if sized is None:
        return None
    kind, bits = sized[1], int(sized[2])
    if kind == "bytes":
        if not 1 <= bits <= WORD:
            return None
        return lambda w: w[:bits] if w[bits:] == _ZERO[bits:] else slow(w)
    if bits % 8 or not 8 <= bits <= 256:
        return None
    if kind == "uint":
        return lambda w: value if (value := int.from_bytes(w)) >> bits == 0 else slow(w)
    low, high = -(1 << (bits - 1)), 1 << (bits - 1)
    return lambda w: value if low <= (value := int.from_bytes(w, signed=True)) < high else slow(w)


def decode_word(typ: str, word: bytes) -> Any:
    """``eth_abi.decode([typ], word)[0]``, faster for one-word static types."""
    fast = _fast(typ)
    return fast(word) if fast is not None and len(word) == WORD else abi_decode([typ], word)[0]


def decode_words(types: list[str] | tuple[str, ...], data: bytes) -> tuple[Any, ...]:
    """``eth_abi.decode(types, data)``, word by word when every type is a one-word static type and ``data`` is
    exactly their words (an event's non-indexed arguments, usually); eth_abi itself otherwise."""
    decoders = [_fast(t) for t in types]
    if len(data) != WORD * len(types) or None in decoders:
        return tuple(abi_decode(list(types), data))
    return tuple(d(data[i * WORD:(i + 1) * WORD]) for i, d in enumerate(decoders))  # type: ignore[misc]
