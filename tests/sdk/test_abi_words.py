"""The fast word decoder gives exactly what eth_abi gives, and refuses (through eth_abi) exactly what it refuses."""

from __future__ import annotations

import random
from typing import Any

import pytest
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode

from wallet_sdk._abi_words import decode_word, decode_words

TYPES = ["address", "bool", "uint8", "uint16", "uint64", "uint256", "int8", "int256", "int128", "bytes1", "bytes4",
         "bytes32"]


def eth_abi_or_error(types: list[str], data: bytes) -> Any:
    try:
        return ("ok", tuple(abi_decode(types, data)))
    except Exception as exc:  # the error's type is what is compared
        return ("error", type(exc))


def ours_or_error(types: list[str], data: bytes) -> Any:
    try:
        return ("ok", decode_words(types, data))
    except Exception as exc:
        return ("error", type(exc))


def words(rng: random.Random) -> list[bytes]:
    """Valid encodings of edge values and random words (many of them invalid for narrow types)."""
    valid = [abi_encode(["uint256"], [v]) for v in (0, 1, 255, 256, 2**64 - 1, 2**255, 2**256 - 1)]
    valid += [abi_encode(["int256"], [v]) for v in (-1, -128, -129, 127, 128, -(2**255))]
    valid += [abi_encode(["address"], ["0x" + "ab" * 20]), abi_encode(["bytes4"], [b"\x01\x02\x03\x04"])]
    noise = [rng.randbytes(32) for _ in range(40)]
    padded = [bytes(32 - n) + rng.randbytes(n) for n in (1, 2, 8, 20) for _ in range(10)]
    tails = [rng.randbytes(n) + bytes(32 - n) for n in (1, 4, 31) for _ in range(10)]
    return valid + noise + padded + tails


@pytest.mark.parametrize("typ", TYPES)
def test_each_word_decodes_as_eth_abi_decodes_it(typ: str) -> None:
    rng = random.Random(typ)
    refused = accepted = 0
    for word in words(rng):
        expected = eth_abi_or_error([typ], word)
        assert ours_or_error([typ], word) == expected, word.hex()
        if expected[0] == "ok":
            accepted += 1
            assert decode_word(typ, word) == expected[1][0]
            assert type(decode_word(typ, word)) is type(expected[1][0])
        else:
            refused += 1
    assert accepted > 0
    assert refused > 0 or typ in ("uint256", "int256", "bytes32")  # every word is valid for those


def test_several_words_and_what_is_left_to_eth_abi() -> None:
    types = ["address", "uint256", "bytes32", "bool", "int256"]
    values = ["0x" + "12" * 20, 7, b"\x09" * 32, True, -5]
    data = abi_encode(types, values)
    assert decode_words(types, data) == tuple(abi_decode(types, data))
    assert decode_words(types, data)[0] == values[0]
    dynamic = ["uint256", "bytes", "string"]  # not one word each: eth_abi decodes them
    data = abi_encode(dynamic, [3, b"reason", "text"])
    assert decode_words(dynamic, data) == (3, b"reason", "text")
    assert decode_words([], b"") == ()
    short = abi_encode(["uint256"], [1])[:31]  # not whole words: eth_abi's error, as before
    assert ours_or_error(["uint256"], short) == eth_abi_or_error(["uint256"], short)
    assert ours_or_error(["uint256"], short)[0] == "error"
