"""ABI decoding and encoding of static 32-byte words (addresses, ints, bools, fixed bytes) without eth_abi's
machinery.

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
from eth_abi.abi import encode as abi_encode

from wallet_sdk.addresses import checksummed

__all__ = ["WORD", "abi_type", "decode_word", "decode_words", "encode_words"]

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


def _sized(typ: str) -> tuple[str, int] | None:
    """``(kind, size)`` of a one-word sized type: ``bytes1``..``bytes32`` (size in bytes), ``uint8``..``uint256``
    and ``int8``..``int256`` by 8 (size in bits); None for any other type (``bytes``, ``uint7``, ``string``, ...)."""
    sized = _SIZED.fullmatch(typ)
    if sized is None:
        return None
    kind, size = sized[1], int(sized[2])
    one_word = 1 <= size <= WORD if kind == "bytes" else size % 8 == 0 and 8 <= size <= 256
    return (kind, size) if one_word else None


@cache
def _fast(typ: str) -> Callable[[bytes], Any] | None:
    """The fast decoder of a one-word static type (it hands words it must refuse to eth_abi); None for any
    other type."""
    slow = _by_eth_abi(typ)
    if typ == "address":
        return lambda w: "0x" + w[12:].hex() if w[:12] == _ZERO[:12] else slow(w)
    if typ == "bool":
        return lambda w: w[31] == 1 if w[:31] == _ZERO[:31] and w[31] <= 1 else slow(w)
    sized = _sized(typ)
    if sized is None:
        return None
    kind, bits = sized
    if kind == "bytes":
        return lambda w: w[:bits] if w[bits:] == _ZERO[bits:] else slow(w)
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


class _NotFast(Exception):
    """A value or type the fast encoder leaves to eth_abi (which encodes it, or raises its own error)."""


_ARRAY_OF_TUPLES: Final = re.compile(r"\((.*)\)\[\]")


@cache
def _word_encoder(typ: str) -> Callable[[Any], bytes]:
    """The encoder of a one-word static type; raises _NotFast for a value eth_abi must judge, or for any other type."""
    if typ == "address":
        def address(value: Any) -> bytes:
            if not isinstance(value, str) or checksummed(value) is None:
                raise _NotFast
            return _ZERO[:12] + bytes.fromhex(value[2:])
        return address
    if typ == "bool":
        def boolean(value: Any) -> bytes:
            if not isinstance(value, bool):
                raise _NotFast
            return _ZERO[:31] + (b"\x01" if value else b"\x00")
        return boolean
    sized = _sized(typ)
    if sized is None:
        raise _NotFast
    kind, bits = sized
    if kind == "bytes":
        def fixed_bytes(value: Any) -> bytes:
            if not isinstance(value, bytes) or len(value) != bits:
                raise _NotFast
            return value + _ZERO[bits:]
        return fixed_bytes
    low, high = (0, 1 << bits) if kind == "uint" else (-(1 << (bits - 1)), 1 << (bits - 1))

    def integer(value: Any) -> bytes:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value < high:
            raise _NotFast
        return value.to_bytes(WORD, signed=kind == "int")
    return integer


@cache
def _param_encoder(typ: str) -> tuple[bool, Callable[[Any], bytes]]:
    """(dynamic, encoder) of one parameter: a one-word type, or an array of tuples of one-word types."""
    array = _ARRAY_OF_TUPLES.fullmatch(typ)
    if array is None:
        return False, _word_encoder(typ)
    fields = [_word_encoder(t) for t in array[1].split(",")] if "(" not in array[1] else None
    if not fields:
        raise _NotFast

    def encode_array(value: Any) -> bytes:
        if not isinstance(value, (list, tuple)):
            raise _NotFast
        out = [len(value).to_bytes(WORD)]
        for item in value:
            if not isinstance(item, (list, tuple)) or len(item) != len(fields):
                raise _NotFast
            out += [encode(v) for encode, v in zip(fields, item, strict=True)]
        return b"".join(out)
    return True, encode_array


def encode_words(types: list[str] | tuple[str, ...], values: list[Any] | tuple[Any, ...]) -> bytes:
    """``eth_abi.encode(types, values)``, faster when every type is a one-word static type or an array of tuples
    of them (the node's batch calls) and every value is what eth_abi takes without converting it (checksummed
    or one-case addresses as text, ints in range, bytes of the exact size, bools); eth_abi itself otherwise."""
    try:
        encoders = [_param_encoder(t) for t in types]
        if len(values) != len(encoders):
            raise _NotFast
        head: list[bytes] = []
        tails: list[bytes] = []
        offset = WORD * len(encoders)
        for (dynamic, encode), value in zip(encoders, values, strict=True):
            encoded = encode(value)
            if dynamic:
                head.append(offset.to_bytes(WORD))
                tails.append(encoded)
                offset += len(encoded)
            else:
                head.append(encoded)
        return b"".join(head + tails)
    except _NotFast:
        return abi_encode(list(types), list(values))
