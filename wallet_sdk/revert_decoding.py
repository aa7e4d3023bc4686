"""Decode contract revert data into the exception of its error: a class of :mod:`wallet_sdk.reverts`.

The generated classes know their selectors and argument types; :func:`decode_revert` picks the class by the
data's first four bytes and decodes the arguments into its fields. Errors only test contracts declare have no
class: they come back as a plain :class:`~wallet_sdk.exceptions.ContractRevertError` with the name and
arguments read from the test artifacts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, Final

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_abi.grammar import TupleType, parse
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address

from wallet_sdk._abi_words import abi_type
from wallet_sdk.artifacts import artifact_names, load_artifact
from wallet_sdk.exceptions import ContractRevertError, TypedRevert, UnknownRevert
from wallet_sdk.reverts import REVERT_CLASSES

__all__ = ["decode_revert", "error_class", "error_classes"]

_BY_SELECTOR: Final[Mapping[bytes, type[TypedRevert]]] = {cls.SELECTOR: cls for cls in REVERT_CLASSES}
_BY_NAME: Final[Mapping[str, type[TypedRevert]]] = {cls.ERROR_NAME or cls.__name__: cls for cls in REVERT_CLASSES}


def error_class(name: str) -> type[TypedRevert] | None:
    """The class of the Solidity error ``name`` ("Error" and "Panic" included), or None."""
    return _BY_NAME.get(name)


def error_classes() -> dict[str, type[TypedRevert]]:
    """Solidity error name -> class, for every typed revert."""
    return dict(_BY_NAME)


@cache
def _argument_types(signature: str) -> tuple[str, ...]:
    """``"QuotaExceeded(bytes32,uint256,int256,uint256)"`` -> the argument types, tuples kept whole."""
    listed = signature[signature.index("("):]
    if listed == "()":
        return ()
    arguments = parse(listed)
    assert isinstance(arguments, TupleType)
    return tuple(component.to_type_str() for component in arguments.components)


@cache
def _test_only_errors() -> dict[bytes, tuple[str, list[str], list[str]]]:
    """selector -> (error name, argument names, types) of the errors that only test contracts declare."""
    table: dict[bytes, tuple[str, list[str], list[str]]] = {}
    for name in artifact_names(test=True):
        for item in load_artifact(name, test=True)["abi"]:
            if item.get("type") == "error":
                types = [abi_type(p) for p in item["inputs"]]
                selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
                table[selector] = (item["name"], [p["name"] for p in item["inputs"]], types)
    return table


def decode_revert(data: bytes | str | Mapping[str, Any] | None) -> ContractRevertError:
    """Decode revert data (bytes or 0x-hex) into the typed exception of its custom error.

    ``data`` may also be the object some nodes put in a JSON-RPC error's ``data`` instead of the bare hex:
    ``{"data": "0x..."}``, or ganache's ``{"result": "0x...", "reason": ..., "programCounter": ...}``.

    Returns an instance of the :mod:`wallet_sdk.reverts` class named after the error (e.g. ``WalletNotActive``),
    so ``isinstance`` and ``except`` work; an error the shipped contracts do not declare (a test contract's)
    comes back as a plain :class:`~wallet_sdk.exceptions.ContractRevertError` with its name and arguments;
    revert data that matches no known error (or none at all) as :class:`~wallet_sdk.exceptions.UnknownRevert`.
    """
    if isinstance(data, Mapping):
        data = _wrapped_revert_data(data)
    if data is None:
        return UnknownRevert(data=b"")
    raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else bytes(data)
    cls = _BY_SELECTOR.get(raw[:4])
    if cls is not None:
        values = _decode(_argument_types(cls.SIGNATURE), raw)
        if values is None:
            return UnknownRevert(data=raw)
        return cls.from_arguments(dict(zip(cls.argument_names(), values, strict=True)), data=raw)
    entry = _test_only_errors().get(raw[:4])
    if entry is None:
        return UnknownRevert(data=raw)
    name, names, types = entry
    values = _decode(types, raw)
    if values is None:
        return UnknownRevert(data=raw)
    return ContractRevertError(name, dict(zip(names, values, strict=True)), raw)


def _decode(types: Sequence[str], raw: bytes) -> list[Any] | None:
    """The arguments after the selector, addresses checksummed; None when they do not decode as ``types`` (the
    selector matches but the data is not really that error)."""
    try:
        decoded = abi_decode(types, raw[4:])
    except DecodingError:
        return None
    return [_normalise(t, v) for t, v in zip(types, decoded, strict=True)]


def _wrapped_revert_data(error_data: Mapping[str, Any]) -> str | None:
    """The revert data's hex out of a node's error object, or None when it holds none."""
    for key in ("data", "result"):  # "result": ganache 7
        value = error_data.get(key)
        if isinstance(value, str) and value.startswith("0x"):
            return value
    return None


def _normalise(typ: str, value: Any) -> Any:
    """Addresses come back checksummed, as everywhere else in the SDK."""
    if typ == "address":
        return to_checksum_address(value)
    if typ == "address[]":
        return [to_checksum_address(v) for v in value]
    return value
