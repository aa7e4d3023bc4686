"""Static analysis of the contracts with slither, offline, as a gate of `make lint`.

slither cannot download a solc here, so it reads the project's own solcjs compilation: this script compiles
contracts/ (not contracts/test/) in one standard-JSON run with the project's settings (tools.toolchain), writes
input and output as a Hardhat build-info file into a temporary folder, and runs every slither detector on it (as
``--compile-force-framework hardhat --hardhat-ignore-compile --npx-disable`` would: npx fetches nothing).

Gate: every High or Medium finding must be listed in the triage table of docs/security.md, keyed by detector,
where it is (``Contract.function`` or ``Contract``) and the exact code it flags: the source text of the
finding's statement (or local variable), whitespace collapsed, e.g. ``err.length == 0``. So a row survives
edits that move code, but covers only that statement: another finding of the same detector in the same function
is unexplained until it has a row of its own. A finding of a whole function or contract (no statement) has
``-`` as its code. The run fails naming each unexplained finding; rows whose finding is gone are reported too
(stale explanations), but do not fail the run. A row:

    | `incorrect-equality` | `DigitalCash._relayOne` | `err.length == 0` | Medium | why it is accepted |

(a ``|`` inside the code is written ``\\|``, as Markdown tables need).

    python scripts/slither_gate.py [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECURITY_DOC = ROOT / "docs" / "security.md"
GATED = ("High", "Medium")
# A triage row: | `detector` | `Contract.function` | `code` (or -) | Impact | why |
_ROW = re.compile(r"^\|\s*`(?P<check>[a-z0-9-]+)`\s*\|\s*`(?P<where>[^`]+)`\s*\|\s*(?:`(?P<code>[^`]+)`|-)\s*\|")

__all__ = ["Finding", "allowlist", "build_info", "findings", "gate", "main", "run_slither"]


Key = tuple[str, str, str]  # detector, Contract.function (or Contract[.variable]), the flagged code ("" for none)


@dataclass(frozen=True)
class Finding:
    check: str
    impact: str
    where: str  # Contract.function, Contract.variable or Contract: stable across line moves
    description: str
    code: str = ""  # the flagged statement's (or local variable's) source, whitespace collapsed; "": the whole

    @property
    def key(self) -> Key:
        return self.check, self.where, self.code


def build_info(out_dir: Path) -> Path:
    """Compile contracts/ with solcjs and write ``out_dir``/build-info/<id>.json (Hardhat's format)."""
    sys.path.insert(0, str(ROOT))
    from tools import toolchain

    units = [u for u in toolchain.source_files() if not u.startswith("contracts/test/")]
    sources = {u: toolchain._read_source(u, ROOT) for u in units}
    selection = {"*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode", "evm.methodIdentifiers"], "": ["ast"]}}
    output = toolchain.run_solc(sources, selection)
    settings = {**toolchain.SETTINGS, "outputSelection": selection}
    standard_input = {"language": "Solidity", "sources": {k: {"content": v} for k, v in sources.items()},
                      "settings": settings}
    long_version = toolchain.solc_version().removesuffix(".Emscripten.clang")
    info = {"_format": "hh-sol-build-info-1", "solcVersion": long_version.split("+")[0],
            "solcLongVersion": long_version, "input": standard_input, "output": output}
    info["id"] = hashlib.sha256(json.dumps(standard_input, sort_keys=True).encode()).hexdigest()[:32]
    target = out_dir / "build-info" / f"{info['id']}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(info), encoding="utf-8")
    return target


def run_slither(artifacts: Path) -> list[dict[str, Any]]:
    """Every slither detector on the build-info under ``artifacts``: the findings as slither's JSON shows them.

    Through slither's Python API: its command line accepts a directory only if it holds a hardhat.config.js.
    OpenZeppelin (node_modules) is a dependency: its findings are left out, as ``--exclude-dependencies`` does.
    """
    import inspect
    import logging

    from slither import Slither
    from slither.detectors import all_detectors
    from slither.detectors.abstract_detector import AbstractDetector

    logging.getLogger("CryticCompile").setLevel(logging.WARNING)  # "hardhat is not installed": expected
    slither = Slither(str(ROOT), compile_force_framework="hardhat", hardhat_ignore_compile=True, npx_disable=True,
                      hardhat_artifacts_directory=str(artifacts), exclude_dependencies=True,
                      filter_paths=["node_modules"])
    if not slither.contracts:
        raise SystemExit(f"slither analyzed no contract from {artifacts}")
    for name in dir(all_detectors):
        detector = getattr(all_detectors, name)
        if inspect.isclass(detector) and issubclass(detector, AbstractDetector):
            slither.register_detector(detector)
    return [result for per_detector in slither.run_detectors() for result in per_detector]


def _where(element: dict[str, Any]) -> str:
    name = str(element.get("name", "?"))
    if element.get("type") == "contract":
        return name
    parent = element.get("type_specific_fields", {}).get("parent", {})
    if parent.get("type") == "function":  # a node or variable inside a function: name the function
        return _where(parent)
    if element.get("type") == "function":
        name = name.split("(")[0]
    return f"{parent.get('name', '?')}.{name}" if parent.get("name") else name


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _code(elements: list[dict[str, Any]]) -> str:
    """The source text the finding points at: its first statement (node), else its first local variable; ""
    when it names only functions, contracts or state variables."""
    for kind in ("node", "variable"):
        for element in elements:
            mapping = element.get("source_mapping") or {}
            local = element.get("type_specific_fields", {}).get("parent", {}).get("type") == "function"
            if element.get("type") == kind and (kind == "node" or local) and mapping.get("filename_absolute"):
                source = Path(mapping["filename_absolute"]).read_bytes()
                start = int(mapping["start"])
                return _collapse(source[start:start + int(mapping["length"])].decode("utf-8"))
    return ""


def findings(detectors: list[dict[str, Any]]) -> list[Finding]:
    """The findings of slither's JSON report (``results.detectors``)."""
    return [Finding(d["check"], d["impact"], _where(d["elements"][0]) if d.get("elements") else "?",
                    d.get("description", "").strip(), _code(d.get("elements", []))) for d in detectors]


def allowlist(markdown: str) -> set[Key]:
    """(detector, where, code) of every row of the triage table in docs/security.md."""
    return {(m["check"], m["where"].strip(), _collapse((m["code"] or "").replace("\\|", "|")))
            for line in markdown.splitlines() if (m := _ROW.match(line.strip()))}


def gate(found: Iterable[Finding], explained: set[Key]) -> tuple[list[Finding], set[Key]]:
    """High/Medium findings that are not explained, and explanations that match no finding any more."""
    found = list(found)
    unexplained = [f for f in found if f.impact in GATED and f.key not in explained]
    stale = explained - {f.key for f in found}
    return unexplained, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="keep slither's JSON report here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="walletnet-slither-") as tmp:
        build_info(Path(tmp) / "artifacts")
        results = run_slither(Path(tmp) / "artifacts")
    if args.json:
        args.json.write_text(json.dumps({"results": {"detectors": results}}, indent=1), encoding="utf-8")
    found = findings(results)
    unexplained, stale = gate(found, allowlist(SECURITY_DOC.read_text(encoding="utf-8")))
    counts = {impact: sum(1 for f in found if f.impact == impact)
              for impact in ("High", "Medium", "Low", "Informational", "Optimization")}
    print("slither: " + ", ".join(f"{n} {impact.lower()}" for impact, n in counts.items()))
    for check, where, code in sorted(stale):
        print(f"slither: docs/security.md explains `{check}` at `{where}` `{code or '-'}`, which slither no longer "
              "reports")
    for f in unexplained:
        print(f"slither: UNEXPLAINED {f.impact} `{f.check}` at `{f.where}` `{f.code or '-'}`:\n  {f.description}",
              file=sys.stderr)
    if unexplained:
        print(f"slither: {len(unexplained)} high/medium finding(s) not explained in docs/security.md", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
