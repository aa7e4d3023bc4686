"""The fast word decoder and encoder give exactly what eth_abi gives, and refuse (through eth_abi) exactly what it
refuses."""

from __future__ import annotations

import random
from typing import Any

import pytest
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode

from wallet_sdk._abi_words import decode_word, decode_words, encode_words
from wallet_sdk.addresses import eip55

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


# ------------------------------------------------------------------ encoding

BATCH_CALLS = [  # the node's batch calls (relayTransfers, openWallets, mintBatch, payBatch) and a one-row call
    ["(address,address,uint256,uint256,uint256,uint8,bytes32,bytes32)[]"],
    ["bytes32", "(address,uint8,uint8,bytes32)[]"],
    ["(address,uint256,bytes32)[]"],
    ["(bytes32,bytes32,bytes32,address,uint256,uint256,uint256,uint8,bytes32,bytes32,uint8,bytes32,bytes32)[]"],
    ["address", "bytes32", "uint8", "uint8", "bytes32"],
]


def _value(typ: str, rng: random.Random) -> Any:
    """A value eth_abi takes as it is, of ``typ``, drawn at random (addresses in any of their accepted cases)."""
    if typ == "address":
        text = "0x" + rng.randbytes(20).hex()
        return rng.choice([text, eip55(text), "0x" + text[2:].upper()])
    if typ.startswith("uint"):
        return rng.randrange(1 << int(typ[4:]))
    return rng.randbytes(int(typ[5:]))  # bytesN


def _values(types: list[str], rng: random.Random, items: int) -> list[Any]:
    out: list[Any] = []
    for typ in types:
        if typ.endswith("[]"):
            fields = typ[1:-3].split(",")
            out.append([tuple(_value(f, rng) for f in fields) for _ in range(items)])
        else:
            out.append(_value(typ, rng))
    return out


def encoded_or_error(encode: Any, types: list[str], values: list[Any]) -> Any:
    try:
        return ("ok", encode(types, values))
    except Exception as exc:  # the error's type is what is compared
        return ("error", type(exc))


@pytest.mark.parametrize("types", BATCH_CALLS, ids=lambda t: ",".join(t)[:40])
@pytest.mark.parametrize("items", [0, 1, 7, 100])
def test_encoding_the_node_batch_calls_gives_what_eth_abi_gives(types: list[str], items: int) -> None:
    rng = random.Random(f"{types}{items}")
    for _ in range(5):
        values = _values(types, rng, items)
        assert encode_words(types, values) == abi_encode(types, values)


@pytest.mark.parametrize("bad", [
    "0x" + "zz" * 20,  # no hex
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",  # mixed case, wrong checksum
    -1, 1 << 256, True,  # out of range, a bool for an int
    b"\x01" * 31, b"\x01" * 33,  # a bytes32 of 31 bytes (eth_abi pads it) or 33
    None, 1.5,
])
def test_values_the_fast_encoder_does_not_take_are_judged_by_eth_abi(bad: Any) -> None:
    types = BATCH_CALLS[0]
    rng = random.Random(7)
    for position in range(8):
        values = _values(types, rng, 3)
        item = list(values[0][1])
        item[position] = bad
        values[0][1] = tuple(item)
        assert encoded_or_error(encode_words, types, values) == encoded_or_error(abi_encode, types, values)
