"""Storage-layout lock for the upgradeable contracts.

An upgrade must never move existing state. The contracts keep their state in ERC-7201 namespaced
structs (``/// @custom:storage-location erc7201:<id>``), which solc's ``storageLayout`` output does
not show, so this module finds those structs in the AST, compiles a generated probe contract that
declares one variable of each struct type, and reads the members' slots and offsets from that.
Plain (non-namespaced) state variables of each deployable contract are locked as well.

The lock file (``contracts/storage-layout.json``, committed) is the layout of what is deployed.
``check`` fails, naming contract, namespace and member, when a member moved, changed type or
disappeared, or a namespace vanished; appending members after the last locked one is allowed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import toolchain

LOCK_NAME = "storage-layout.json"
_LOCATION = re.compile(r"@custom:storage-location\s+erc7201:([A-Za-z0-9_.\-]+)")
_PROBE_UNIT = "contracts/__StorageLayoutProbe.sol"


@dataclass(frozen=True)
class Namespace:
    id: str
    contract: str
    struct: str
    source: str


def lock_path(root: Path | None = None) -> Path:
    return (root or toolchain.PROJECT_ROOT) / "contracts" / LOCK_NAME


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _namespaces(asts: dict[str, Any]) -> list[Namespace]:
    found = []
    for unit, data in sorted(asts.items()):
        if not unit.startswith("contracts/") or unit.startswith("contracts/test/"):
            continue
        for contract in _walk(data["ast"]):
            if contract.get("nodeType") != "ContractDefinition":
                continue
            for node in contract.get("nodes", []):
                doc = (node.get("documentation") or {}).get("text", "") if node.get("nodeType") == "StructDefinition" \
                    else ""
                match = _LOCATION.search(doc)
                if match:
                    found.append(Namespace(match.group(1), contract["name"], node["name"], unit))
    return found


def _members(layout: dict[str, Any], type_id: str) -> list[dict[str, Any]]:
    types = layout["types"]
    return [
        {"label": m["label"], "slot": int(m["slot"]), "offset": m["offset"], "type": types[m["type"]]["label"]}
        for m in types[type_id]["members"]
    ]


def current_layout(root: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """Layout of every namespace (key ``erc7201:<id>``) and every contract's plain state (``<Contract>``)."""
    sources = toolchain.read_sources(root)
    first = toolchain.run_solc(sources, {"*": {"": ["ast"], "*": ["storageLayout", "evm.bytecode.object"]}}, root)
    namespaces = _namespaces(first["sources"])
    layout: dict[str, list[dict[str, Any]]] = {}
    for unit, contracts in sorted(first.get("contracts", {}).items()):
        if not unit.startswith("contracts/") or unit.startswith("contracts/test/") or "/interfaces/" in unit:
            continue
        for name, data in sorted(contracts.items()):
            storage = data.get("storageLayout") or {"storage": [], "types": {}}
            if not data["evm"]["bytecode"]["object"]:
                continue  # abstract
            layout[name] = [
                {"label": v["label"], "slot": int(v["slot"]), "offset": v["offset"],
                 "type": storage["types"][v["type"]]["label"]}
                for v in storage["storage"]
            ]
    if namespaces:
        imports = "\n".join(sorted({f'import {{{ns.contract}}} from "{ns.source}";' for ns in namespaces}))
        fields = "\n".join(f"    {ns.contract}.{ns.struct} internal s{i};" for i, ns in enumerate(namespaces))
        probe = f"// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.28;\n{imports}\n" \
                f"contract StorageLayoutProbe {{\n{fields}\n}}\n"
        selection = {_PROBE_UNIT: {"StorageLayoutProbe": ["storageLayout"]}}
        out = toolchain.run_solc({**sources, _PROBE_UNIT: probe}, selection, root)
        probe_layout = out["contracts"][_PROBE_UNIT]["StorageLayoutProbe"]["storageLayout"]
        by_label = {v["label"]: v["type"] for v in probe_layout["storage"]}
        for i, ns in enumerate(namespaces):
            key = f"erc7201:{ns.id}"
            if key in layout:
                raise ValueError(f"namespace {ns.id} is declared twice ({ns.contract}.{ns.struct})")
            layout[key] = _members(probe_layout, by_label[f"s{i}"])
        # Structs reached from the namespaces (mapping values, arrays): reordering them corrupts state too.
        namespace_types = set(by_label.values())
        for type_id, info in sorted(probe_layout["types"].items()):
            if "members" in info and type_id not in namespace_types:
                layout[f"struct:{info['label'].removeprefix('struct ')}"] = _members(probe_layout, type_id)
    return layout


def compare(locked: dict[str, list[dict[str, Any]]], current: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Problems that would corrupt state on upgrade: one line each, naming what moved."""
    problems = []
    for key, members in sorted(locked.items()):
        if key not in current:
            if key.startswith("erc7201:"):
                problems.append(f"{key}: namespace is gone")
            # a contract or struct no longer in the repo is not an upgrade of it
            continue
        now = current[key]
        for i, old in enumerate(members):
            if i >= len(now):
                problems.append(f"{key}: member {old['label']} (slot {old['slot']}) was removed")
                continue
            new = now[i]
            if (new["slot"], new["offset"], new["type"]) != (old["slot"], old["offset"], old["type"]):
                problems.append(
                    f"{key}: member {old['label']} {old['type']} at slot {old['slot']}+{old['offset']} "
                    f"is now {new['label']} {new['type']} at slot {new['slot']}+{new['offset']}"
                )
            elif new["label"] != old["label"]:
                problems.append(f"{key}: member {old['label']} renamed to {new['label']} (same slot; update the lock)")
    return problems


def check(root: Path | None = None) -> list[str]:
    path = lock_path(root)
    if not path.is_file():
        return [f"no storage-layout lock at {path}: run `walletnet storage-layout --update`"]
    return compare(json.loads(path.read_text(encoding="utf-8")), current_layout(root))


def update(root: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    layout = current_layout(root)
    lock_path(root).write_text(json.dumps(layout, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return layout
