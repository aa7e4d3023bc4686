"""Generate ``wallet_sdk/reverts.py``: one exception class per custom error of the shipped contracts.

The classes come from the ABI of the artifacts ``walletnet compile`` writes, so they cannot drift from the
contracts: each names its canonical signature as a class keyword (the selector is computed from it), keeps the
error's arguments as dataclass fields (the Solidity names and the Python types they decode to) and has a
docstring from the error's NatSpec (``@notice`` and ``@dev``, which the artifacts carry as ``userdoc`` and
``devdoc``). What every class shares (construction, the message built from the fields, enum arguments,
pickling) is written once, in :class:`wallet_sdk.exceptions.TypedRevert`.
"""

from __future__ import annotations

import keyword
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
_SIZED: Final = re.compile(r"(u?int|bytes)\d*")
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

    def attributes(self) -> list[tuple[str, str]]:
        return [(_attr(p["name"]), _annotation(p)) for p in self.params]


def _attr(solidity: str) -> str:
    return solidity + "_" if keyword.iskeyword(solidity) else solidity


def _enum(internal_type: str) -> str | None:
    match = _ENUM.fullmatch(internal_type)
    if match is None:
        return None
    name = match.group(1)
    enum = getattr(contract_enums, name, None)
    if not (isinstance(enum, type) and issubclass(enum, IntEnum)):
        raise CodegenError(f"enum {name} has no IntEnum in wallet_sdk.enums: add it there")
    return name


def _annotation(param: dict[str, Any]) -> str:
    enum = _enum(param.get("internalType", ""))
    if enum is not None:
        return enum
    typ = abi_type(param)
    if typ.endswith("]"):
        return f"list[{_annotation({**param, 'type': typ[: typ.rindex('[')], 'internalType': ''})}]"
    if typ.startswith("("):
        return "tuple[Any, ...]"
    if typ == "address":
        return "ChecksumAddress"
    if typ in ("bool", "string"):
        return {"bool": "bool", "string": "str"}[typ]
    sized = _SIZED.fullmatch(typ)
    if sized is None:
        raise CodegenError(f"no Python type for ABI type {typ!r}")
    return "bytes" if sized.group(1) == "bytes" else "int"


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


def _docstring(error: _Error) -> list[str]:
    declared = ", ".join(f"{_solidity_type(p)} {p['name']}" for p in error.params)
    texts = {contract: " ".join(notes) for contract, notes in error.notes.items() if notes}
    paragraphs = ([next(iter(texts.values()))] if len(set(texts.values())) == 1
                  else [f"{contract}: {text}" for contract, text in texts.items()])
    paragraphs.append(f"``{error.name}({declared})``, raised by {', '.join(error.contracts)}.")
    lines: list[str] = []
    for paragraph in paragraphs:
        escaped = paragraph.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        lines += [*textwrap.wrap(escaped, width=_WIDTH - 4, break_on_hyphens=False), ""]
    lines = lines[:-1]
    if len(lines) == 1 and len(lines[0]) <= _WIDTH - 10:
        return [f'    """{lines[0]}"""']
    body = [f"    {line}" if line else "" for line in lines]
    return [f'    """{lines[0]}', *body[1:], '    """']


def _solidity_type(param: dict[str, Any]) -> str:
    enum = _ENUM.fullmatch(param.get("internalType", ""))
    return enum.group(1) if enum else abi_type(param)


def _class(error: _Error) -> list[str]:
    """The class statement naming the signature, the docstring, then one annotated field per argument."""
    bases = f'TypedRevert, signature="{error.signature}"'
    statement = f"class {error.name}({bases}):"
    lines = [statement] if len(statement) <= _WIDTH else [f"class {error.name}(", f"    {bases}", "):"]
    lines += _docstring(error)
    attributes = error.attributes()
    if attributes:
        lines.append("")
        lines += [f"    {attr}: {annotation}" for attr, annotation in attributes]
    return lines


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
    annotations = {a for e in errors.values() for _, a in e.attributes()}
    words = {w for a in annotations for w in re.findall(r"\w+", a)}
    enums = sorted(w for w in words if isinstance(getattr(contract_enums, w, None), type)
                   and issubclass(getattr(contract_enums, w), IntEnum))
    builtins = ["Panic", "RevertReason", "TypedRevert", "UnknownRevert"]
    lines = [HEADER.rstrip("\n"), "", "from __future__ import annotations", ""]
    typing_names = ["Any", "Final"] if any("tuple[" in a for a in annotations) else ["Final"]
    lines.append(f"from typing import {', '.join(typing_names)}")
    lines.append("")
    if "ChecksumAddress" in words:
        lines += ["from eth_typing import ChecksumAddress", ""]
    if enums:
        lines.append(f"from wallet_sdk.enums import {', '.join(enums)}")
    lines.append(f"from wallet_sdk.exceptions import {', '.join(builtins)}")
    lines.append("")
    exported = sorted(["REVERT_CLASSES", *builtins, *names], key=_all_key)
    lines += ["__all__ = [", *(f'    "{n}",' for n in exported), "]"]
    for name in names:
        lines += ["", "", *_class(errors[name])]
    lines += ["", ""]
    lines += _wrapped("REVERT_CLASSES: Final[tuple[type[TypedRevert], ...]] = (",
                      ["RevertReason", "Panic", *names], ")")
    lines.append('"""Every typed revert: Solidity\'s built-in Error and Panic, then each custom error above."""')
    return "\n".join(lines) + "\n"
