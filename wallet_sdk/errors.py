"""Decode contract reverts into typed exceptions named after the Solidity custom errors.

:class:`ContractRevertError` is the base of every revert the SDK raises (catch it to catch them all); each
custom error of the shipped contracts has its own subclass in :mod:`wallet_sdk.contract_errors` with the
error's arguments as attributes. :func:`decode_revert` picks the class from the revert data's selector.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address

from wallet_sdk.artifacts import artifact_names, load_artifact
from wallet_sdk.exceptions import WalletnetError

__all__ = ["ContractRevertError", "abi_type", "decode_revert", "error_selectors"]


def abi_type(param: dict[str, Any]) -> str:
    """Canonical ABI type, expanding tuples (structs) recursively."""
    typ: str = param["type"]
    if typ.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param["components"])
        return f"({inner}){typ[len('tuple'):]}"
    return typ


@cache
def error_selectors() -> dict[bytes, tuple[str, list[str], list[str]]]:
    """selector -> (error name, argument names, argument types), over every shipped artifact."""
    table: dict[bytes, tuple[str, list[str], list[str]]] = {}
    for test in (False, True):
        for name in artifact_names(test=test):
            for item in load_artifact(name, test=test)["abi"]:
                if item.get("type") != "error":
                    continue
                types = [abi_type(p) for p in item["inputs"]]
                selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
                table[selector] = (item["name"], [p["name"] for p in item["inputs"]], types)
    # Solidity's built-in Error(string) and Panic(uint256)
    table[bytes.fromhex("08c379a0")] = ("Error", ["message"], ["string"])
    table[bytes.fromhex("4e487b71")] = ("Panic", ["code"], ["uint256"])
    return table


class ContractRevertError(WalletnetError):
    """A contract call reverted; ``name`` and ``arguments`` are the Solidity custom error's.

    ``data`` is the raw revert data. When the revert happened in a mined transaction, ``tx_hash`` and
    ``receipt`` are set (both ``None`` for a revert found while estimating gas or in a call).
    """

    name: str
    arguments: dict[str, Any]
    data: bytes
    tx_hash: str | None
    receipt: Any

    def __init__(self, name: str, arguments: dict[str, Any], data: bytes) -> None:
        self.name = name
        self.arguments = arguments
        self.data = data
        self.tx_hash = None
        self.receipt = None
        args = ", ".join(f"{k}={_show(v)}" for k, v in arguments.items())
        super().__init__(f"{name}({args})")


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and not isinstance(value, bool) and type(value) is not int:  # an IntEnum
        return f"{int(value)} ({getattr(value, 'name', '')})"
    return repr(value)


def decode_revert(data: bytes | str | Mapping[str, Any] | None) -> ContractRevertError:
    """Decode revert data (bytes or 0x-hex) into the typed exception of its custom error.

    ``data`` may also be the object some nodes put in a JSON-RPC error's ``data`` instead of the bare hex:
    ``{"data": "0x..."}``, or ganache's ``{"result": "0x...", "reason": ..., "programCounter": ...}``.

    Returns an instance of the :mod:`wallet_sdk.contract_errors` class named after the error (e.g.
    ``WalletNotActive``), so ``isinstance`` and ``except`` work; an error the shipped contracts do not
    declare (a test contract's) comes back as a plain :class:`ContractRevertError` with its name and
    arguments; revert data that matches no known error (or none at all) as ``UnknownRevert``.
    """
    from wallet_sdk import contract_errors  # imported here: it subclasses ContractRevertError

    if isinstance(data, Mapping):
        data = _wrapped_revert_data(data)
    if data is None:
        return contract_errors.UnknownRevert(data=b"")
    raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else bytes(data)
    entry = error_selectors().get(raw[:4])
    if entry is None:
        return contract_errors.UnknownRevert(data=raw)
    name, names, types = entry
    try:
        decoded = abi_decode(types, raw[4:])
    except DecodingError:  # the selector matches but the arguments do not: not really that error
        return contract_errors.UnknownRevert(data=raw)
    values = [_normalise(t, v) for t, v in zip(types, decoded, strict=True)]
    arguments = dict(zip(names, values, strict=True))
    cls = contract_errors.error_class(name)
    if cls is None:
        return ContractRevertError(name, arguments, raw)
    return cls.from_arguments(arguments, data=raw)


def _wrapped_revert_data(error_data: Mapping[str, Any]) -> str | None:
    """The revert data's hex out of a node's error object, or None when it holds none."""
    for key in ("data", "result"):  # "result": ganache 7
        value = error_data.get(key)
        if isinstance(value, str) and value.startswith("0x"):
            return value
    return None


def _normalise(abi_type: str, value: Any) -> Any:
    """Addresses come back checksummed, as everywhere else in the SDK."""
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type == "address[]":
        return [to_checksum_address(v) for v in value]
    return value
