"""Generate ``wallet_sdk/reverts.py``: one exception class per custom error of the shipped contracts.

The classes come from the ABI of the artifacts ``walletnet compile`` writes, so they cannot drift from the
contracts. Each is two lines: the class statement declaring the error as Solidity does, as a class keyword
(``error="WalletNotActive(address wallet, WalletStatus status)"``, with the SDK's enum names), and a one-line
docstring from the error's NatSpec (``@notice`` and ``@dev``, which the artifacts carry as ``userdoc`` and
``devdoc``). What every class shares (the fields and canonical signature that follow from the declaration,
construction, the message built from the fields, enum arguments, pickling) is written once, in
:class:`wallet_sdk.exceptions.TypedRevert`.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final

from wallet_sdk import enums as contract_enums
from wallet_sdk._abi_words import abi_type

__all__ = ["RESERVED", "CodegenError", "render"]

# Attributes every revert has already: an argument named like one of them would hide it.
RESERVED: Final = frozenset({"name", "arguments", "data", "tx_hash", "receipt", "args", "SIGNATURE", "SELECTOR",
                             "ERROR_NAME"})
_WIDTH: Final = 120
_ENUM: Final = re.compile(r"enum (?:\w+\.)?(\w+)")
_ASCII_QUOTES: Final = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})

HEADER: Final = '''\
"""The contracts' custom errors, one exception class per Solidity error: generated, do not edit.

``walletnet compile`` writes this module from the ABI artifacts (tools/revert_classes.py); ``--check`` fails when
it is stale. How the classes work: :class:`wallet_sdk.exceptions.TypedRevert`; :func:`wallet_sdk.decode_revert`
turns revert data into them.
"""
'''


class CodegenError(ValueError):
    """The ABI cannot become Python classes (two errors with one name, an argument that shadows an attribute,
    an enum the SDK does not know)."""


@dataclass
class _Error:
    name: str
    signature: str
    params: list[dict[str, Any]]
    contracts: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)  # contract -> its NatSpec texts


def _enum(internal_type: str) -> str | None:
    match = _ENUM.fullmatch(internal_type)
    if match is None:
        return None
    name = match.group(1)
    enum = getattr(contract_enums, name, None)
    if not (isinstance(enum, type) and issubclass(enum, IntEnum)):
        raise CodegenError(f"enum {name} has no IntEnum in wallet_sdk.enums: add it there")
    return name


def _notes(artifact: Mapping[str, Any], signature: str) -> list[str]:
    """The error's NatSpec in one contract: ``@notice`` then ``@dev`` text, whitespace folded."""
    texts = []
    for doc, key in ((artifact.get("userdoc", {}), "notice"), (artifact.get("devdoc", {}), "details")):
        for entry in doc.get("errors", {}).get(signature, []):
            if entry.get(key):
                texts.append(" ".join(str(entry[key]).split()).translate(_ASCII_QUOTES))
    return texts


def _collect(artifacts: Mapping[str, Mapping[str, Any]]) -> dict[str, _Error]:
    errors: dict[str, _Error] = {}
    for artifact in sorted(artifacts.values(), key=lambda a: str(a["contractName"])):
        contract = str(artifact["contractName"])
        for item in artifact["abi"]:
            if item.get("type") != "error":
                continue
            signature = f"{item['name']}({','.join(abi_type(p) for p in item['inputs'])})"
            error = errors.setdefault(item["name"], _Error(item["name"], signature, list(item["inputs"])))
            if error.signature != signature or [p["name"] for p in error.params] != [
                    p["name"] for p in item["inputs"]]:
                raise CodegenError(f"{item['name']} is declared as {signature} in {contract} and as "
                                   f"{error.signature} elsewhere: one name, one error")
            # an enum in one declaration wins over a plain uint8 in another (same values, same selector)
            error.params = [new if _ENUM.fullmatch(new.get("internalType", "")) else old
                            for old, new in zip(error.params, item["inputs"], strict=True)]
            if contract not in error.contracts:
                error.contracts.append(contract)
                error.notes[contract] = _notes(artifact, signature)
    for error in errors.values():
        clash = RESERVED & {p["name"] for p in error.params}
        if clash:
            raise CodegenError(f"{error.name}: argument {sorted(clash)[0]!r} would hide the attribute of that name")
    return errors


def _docstring(error: _Error) -> str:
    """The error's NatSpec (each contract's, where they differ) and the contracts that raise it, on one line."""
    texts = {contract: " ".join(notes) for contract, notes in error.notes.items() if notes}
    paragraphs = ([next(iter(texts.values()))] if len(set(texts.values())) == 1
                  else [f"{contract}: {text}" for contract, text in texts.items()])
    paragraphs.append(f"Raised by {', '.join(error.contracts)}.")
    text = " ".join(paragraphs).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'    """{text}"""'


def _solidity_type(param: dict[str, Any]) -> str:
    enum = _enum(param.get("internalType", ""))
    return enum or abi_type(param)


def _class(error: _Error) -> list[str]:
    """The class statement declaring the error as Solidity does (the SDK's enum names for enums), then the
    docstring: two lines an error, whatever its arguments (the fields follow from the declaration)."""
    declared = ", ".join(f"{_solidity_type(p)} {p['name']}" for p in error.params)
    return [f'class {error.name}(TypedRevert, error="{error.name}({declared})"):', _docstring(error)]


def _wrapped(opening: str, items: Iterable[str], closing: str) -> list[str]:
    text = ", ".join(items)
    return [opening, *textwrap.wrap(text, width=_WIDTH - 4, initial_indent="    ", subsequent_indent="    "),
            closing]


def _all_key(name: str) -> tuple[int, list[str | int]]:
    """``__all__`` as ruff sorts it: constants, then classes, then the rest; numbers in names by value."""
    natural: list[str | int] = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, natural)


def render(artifacts: Mapping[str, Mapping[str, Any]]) -> str:
    """The text of ``reverts.py`` for the shipped artifacts (contract artifact path -> artifact)."""
    errors = _collect(artifacts)
    names = sorted(errors)
    builtins = ["Panic", "RevertReason", "TypedRevert", "UnknownRevert"]
    lines = [HEADER.rstrip("\n"), "", "from __future__ import annotations", "", "from typing import Final", "",
             f"from wallet_sdk.exceptions import {', '.join(builtins)}", ""]
    exported = sorted(["REVERT_CLASSES", *builtins, *names], key=_all_key)
    lines += ["__all__ = [", *(f'    "{n}",' for n in exported), "]"]
    for name in names:
        lines += ["", "", *_class(errors[name])]
    lines += ["", ""]
    lines += _wrapped("REVERT_CLASSES: Final[tuple[type[TypedRevert], ...]] = (",
                      ["RevertReason", "Panic", *names], ")")
    lines.append('"""Every typed revert: Solidity\'s built-in Error and Panic, then each custom error above."""')
    return "\n".join(lines) + "\n"
