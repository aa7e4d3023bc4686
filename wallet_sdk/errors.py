"""Decode contract reverts into the Solidity custom error's name and arguments."""

from __future__ import annotations

from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address

from wallet_sdk.artifacts import artifact_names, load_artifact
from wallet_sdk.exceptions import WalletnetError

__all__ = ["ContractRevertError", "decode_revert", "error_selectors"]


def _abi_type(param: dict[str, Any]) -> str:
    """Canonical ABI type, expanding tuples (structs) recursively."""
    typ: str = param["type"]
    if typ.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
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
                types = [_abi_type(p) for p in item["inputs"]]
                selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
                table[selector] = (item["name"], [p["name"] for p in item["inputs"]], types)
    # Solidity's built-in Error(string) and Panic(uint256)
    table[bytes.fromhex("08c379a0")] = ("Error", ["message"], ["string"])
    table[bytes.fromhex("4e487b71")] = ("Panic", ["code"], ["uint256"])
    return table


class ContractRevertError(WalletnetError):
    """A contract call reverted; ``name`` and ``arguments`` are the Solidity custom error's."""

    def __init__(self, name: str, arguments: dict[str, Any], data: bytes) -> None:
        self.name = name
        self.arguments = arguments
        self.data = data
        args = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
        super().__init__(f"{name}({args})")


def decode_revert(data: bytes | str | None) -> ContractRevertError:
    """Decode revert data (bytes or 0x-hex) into a ContractRevertError (name "Unknown" if unknown)."""
    if data is None:
        return ContractRevertError("Unknown", {}, b"")
    raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else bytes(data)
    entry = error_selectors().get(raw[:4])
    if entry is None:
        return ContractRevertError("Unknown", {"data": "0x" + raw.hex()}, raw)
    name, names, types = entry
    values = [_normalise(t, v) for t, v in zip(types, abi_decode(types, raw[4:]), strict=True)]
    return ContractRevertError(name, dict(zip(names, values, strict=True)), raw)


def _normalise(abi_type: str, value: Any) -> Any:
    """Addresses come back checksummed, as everywhere else in the SDK."""
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type == "address[]":
        return [to_checksum_address(v) for v in value]
    return value
