"""Build the contracts: Solidity standard-JSON through npm's pinned solcjs.

``compile_contracts`` writes one artifact per contract into ``wallet_sdk/artifacts`` and, from
the shipped artifacts' ABI, the revert classes of ``wallet_sdk/reverts.py`` (beside the artifacts
package); ``check_artifacts`` compiles afresh and names every contract whose committed artifact
differs, and ``check_reverts`` says whether ``reverts.py`` is stale. Nothing is downloaded: the
compiler and OpenZeppelin come from node_modules.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import revert_classes
from wallet_sdk.artifacts import ARTIFACTS_DIR

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOLC_SCRIPT = PROJECT_ROOT / "scripts" / "solc_compile.js"
NODE_MODULES = PROJECT_ROOT / "node_modules"  # the compiler and OpenZeppelin, from `npm ci`

# Extra library contracts that need artifacts of their own (deployed as-is).
LIBRARY_SOURCES = ("@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol",)

# One place for the compiler settings: every artifact records them.
SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    # paris: no PUSH0/MCOPY, so the bytecode runs on ganache, GoQuorum and pre-Shanghai Besu.
    "evmVersion": "paris",
    "outputSelection": {},  # set per compilation
}


class CompileError(RuntimeError):
    """solc reported errors; ``messages`` holds them as solc formatted them (file:line)."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("\n".join(messages) or "solc failed")


class ToolchainMissingError(RuntimeError):
    """node or the npm packages are missing: run `npm ci`."""


@dataclass
class CompileResult:
    artifacts: dict[str, dict[str, Any]]  # relative artifact path -> artifact
    warnings: list[str] = field(default_factory=list)


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise ToolchainMissingError("node is not on PATH (Node.js 18+ is required)")
    if not (NODE_MODULES / "solc").is_dir():
        raise ToolchainMissingError("node_modules/solc is missing: run `npm ci`")
    return node


def solc_version() -> str:
    out = subprocess.run([_node(), str(SOLC_SCRIPT), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def source_files(root: Path | None = None) -> list[str]:
    """Source unit names (paths relative to ``root``) of every .sol under ``root``/contracts."""
    root = root or PROJECT_ROOT
    return sorted(p.relative_to(root).as_posix() for p in (root / "contracts").rglob("*.sol"))


def _artifact_path(source: str, contract: str) -> str | None:
    """Where a contract's artifact goes, or None if it gets none (interfaces, libraries' rest)."""
    if source in LIBRARY_SOURCES:
        return f"{contract}.json"
    if not source.startswith("contracts/") or "/interfaces/" in source:
        return None
    if source.startswith("contracts/test/"):
        return f"test/{contract}.json"
    return f"{contract}.json"


def _read_source(unit: str, root: Path) -> str:
    for base in (root, NODE_MODULES):
        path = base / unit
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise CompileError([f"source {unit} not found (run `npm ci`?)"])


def run_solc(sources: dict[str, str], output_selection: dict[str, Any], root: Path | None = None) -> dict[str, Any]:
    """Compile in-memory sources (unit name -> text) with the project's settings; solc's raw output.

    Raises CompileError on errors; imports not given resolve from ``root`` and node_modules.
    """
    settings = {**SETTINGS, "outputSelection": output_selection}
    standard_input = {"language": "Solidity", "sources": {k: {"content": v} for k, v in sources.items()},
                      "settings": settings}
    env = {**os.environ, "WALLETNET_SOURCE_ROOT": str(root or PROJECT_ROOT)}
    proc = subprocess.run([_node(), str(SOLC_SCRIPT)], input=json.dumps(standard_input), capture_output=True,
                          text=True, cwd=PROJECT_ROOT, env=env)
    if proc.returncode != 0:
        raise CompileError([proc.stderr.strip() or f"solcjs exited with {proc.returncode}"])
    output: dict[str, Any] = json.loads(proc.stdout)
    errors = [d.get("formattedMessage") or d.get("message", "") for d in output.get("errors", [])
              if d.get("severity") == "error"]
    if errors:
        raise CompileError([e.rstrip() for e in errors])
    return output


def read_sources(root: Path | None = None) -> dict[str, str]:
    """The project's sources (contracts/ under ``root``) plus the library sources, by unit name."""
    root = root or PROJECT_ROOT
    return {name: _read_source(name, root) for name in source_files(root) + list(LIBRARY_SOURCES)}


def compile_sources(root: Path | None = None) -> CompileResult:
    """Compile ``root``/contracts and return the artifacts in memory; CompileError on any solc error.

    Each source file is its own compilation, so an artifact depends only on its source and what it
    imports: adding or editing an unrelated file never changes it (solc's AST ids, which leak into
    legacy-codegen output, depend on the whole set of sources compiled together).
    ``root`` is the project by default; tests point it at a copy.
    """
    root = root or PROJECT_ROOT
    units = [u for u in source_files(root) if "/interfaces/" not in u] + list(LIBRARY_SOURCES)
    # userdoc and devdoc carry the NatSpec that becomes the revert classes' docstrings
    selection = {"*": {"*": ["abi", "devdoc", "userdoc", "evm.bytecode.object", "evm.deployedBytecode.object"]}}

    def one(unit: str) -> dict[str, Any]:
        return run_solc({unit: _read_source(unit, root)}, selection, root)

    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        outputs = list(pool.map(one, units))
    # Interfaces are compiled too (on their own) so that errors in them are reported even when unused.
    interfaces = [u for u in source_files(root) if "/interfaces/" in u]
    if interfaces:
        run_solc({u: _read_source(u, root) for u in interfaces}, {}, root)
    version = solc_version()
    artifacts: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    for unit, output in zip(units, outputs, strict=True):
        warnings += [d.get("formattedMessage", "").rstrip() for d in output.get("errors", [])
                     if d.get("severity") != "error"]
        for name, data in sorted(output.get("contracts", {}).get(unit, {}).items()):
            target = _artifact_path(unit, name)
            bytecode = data["evm"]["bytecode"]["object"]
            if target is None or not bytecode:  # abstract contracts and libraries' internals
                continue
            if target in artifacts:
                raise CompileError([f"two contracts named {name}: artifact names must be unique"])
            artifacts[target] = {
                "contractName": name,
                "sourceName": unit,
                "abi": data["abi"],
                "devdoc": data["devdoc"],
                "userdoc": data["userdoc"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + data["evm"]["deployedBytecode"]["object"],
                "compiler": {"name": "solcjs", "version": version},
                "settings": {k: v for k, v in SETTINGS.items() if k != "outputSelection"},
            }
    return CompileResult(artifacts=artifacts, warnings=sorted(set(warnings)))


def _dump(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def _committed(out_dir: Path) -> dict[str, str]:
    return {p.relative_to(out_dir).as_posix(): p.read_text(encoding="utf-8") for p in out_dir.rglob("*.json")}


def reverts_path(out_dir: Path) -> Path:
    """Where the revert classes of the artifacts in ``out_dir`` go: ``reverts.py`` beside that package."""
    return out_dir.parent / "reverts.py"


def _reverts_source(artifacts: dict[str, dict[str, Any]]) -> str:
    """reverts.py for the shipped artifacts (test contracts' errors get no class)."""
    return revert_classes.render({path: a for path, a in artifacts.items() if not path.startswith("test/")})


def _write_if_changed(target: Path, text: str) -> None:
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def compile_contracts(out_dir: Path | None = None, root: Path | None = None) -> CompileResult:
    """Compile and (re)write the artifacts, removing ones whose contract is gone, and regenerate reverts.py."""
    out_dir = out_dir or ARTIFACTS_DIR
    result = compile_sources(root)
    fresh = {path: _dump(a) for path, a in result.artifacts.items()}
    for path in set(_committed(out_dir)) - set(fresh):
        (out_dir / path).unlink()
    for path, text in fresh.items():
        _write_if_changed(out_dir / path, text)
    _write_if_changed(reverts_path(out_dir), _reverts_source(result.artifacts))
    return result


def check_artifacts(out_dir: Path | None = None, root: Path | None = None, *,
                    artifacts: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """Compile afresh (or take ``artifacts``, a fresh compile's); one line per contract whose artifact is stale,
    missing or extra."""
    out_dir = out_dir or ARTIFACTS_DIR
    if artifacts is None:
        artifacts = compile_sources(root).artifacts
    fresh = {path: _dump(a) for path, a in artifacts.items()}
    committed = _committed(out_dir)
    problems = []
    for path in sorted(set(fresh) | set(committed)):
        name = Path(path).stem
        if path not in committed:
            problems.append(f"{name}: no committed artifact ({path})")
        elif path not in fresh:
            problems.append(f"{name}: artifact {path} has no contract any more")
        elif committed[path] != fresh[path]:
            problems.append(f"{name}: committed artifact {path} differs from a fresh compile")
    return problems


def check_reverts(out_dir: Path | None = None, root: Path | None = None, *,
                  artifacts: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """Compile afresh (or take ``artifacts``, a fresh compile's); one line if reverts.py is missing or is not what
    the contracts' errors generate."""
    target = reverts_path(out_dir or ARTIFACTS_DIR)
    expected = _reverts_source(compile_sources(root).artifacts if artifacts is None else artifacts)
    if not target.is_file():
        return [f"reverts: no generated {target.name} ({target})"]
    if target.read_text(encoding="utf-8") != expected:
        return [f"reverts: {target.name} differs from the classes the contracts' errors generate"]
    return []
