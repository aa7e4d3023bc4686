"""The slither gate of `make lint` (scripts/slither_gate.py) on a small sample report: it fails on a high or
medium finding that docs/security.md does not explain and passes once it does. slither itself is not run here
(`make lint` runs it); the sample has the shape of slither's JSON ``results.detectors``."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("slither_gate", ROOT / "scripts" / "slither_gate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["slither_gate"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


VAULT = """contract Vault {
    function pay(address to) external {
        uint256 fee;
        token.transfer(to, 1);
        token.approve(to, 1);
    }
}
"""


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sources") / "Vault.sol"
    path.write_text(VAULT, encoding="utf-8")
    return path


def _at(source: Path, code: str) -> dict[str, Any]:
    """slither's source mapping of ``code`` in ``source``."""
    text = source.read_text(encoding="utf-8")
    start = text.index(code)
    return {"filename_absolute": str(source), "start": len(text[:start].encode()), "length": len(code.encode())}


def _function(contract: str, signature: str) -> dict[str, Any]:
    return {"type": "function", "name": signature,
            "type_specific_fields": {"parent": {"type": "contract", "name": contract}}}


def _node(source: Path, function: dict[str, Any], code: str) -> dict[str, Any]:
    return {"type": "node", "name": code, "source_mapping": _at(source, code),
            "type_specific_fields": {"parent": function}}


def _unused_return(source: Path, code: str) -> dict[str, Any]:
    pay = _function("Vault", "pay(address)")
    return {"check": "unused-return", "impact": "Medium", "confidence": "Medium",
            "description": f"Vault.pay(address) ignores return value by {code}",
            "elements": [pay, _node(source, pay, code)]}


def sample(source: Path, transfer: str = "token.transfer(to, 1)") -> list[dict[str, Any]]:
    """A report in the shape of slither's JSON ``results.detectors``, about ``source`` (VAULT): ``transfer`` is
    the statement whose return value is ignored, as it is written there."""
    pay = _function("Vault", "pay(address)")
    return [
        _unused_return(source, transfer),
        {"check": "uninitialized-local", "impact": "Medium", "confidence": "Medium",
         "description": "Vault.pay(address).fee is a local variable never initialized",
         "elements": [{"type": "variable", "name": "fee", "source_mapping": _at(source, "uint256 fee"),
                       "type_specific_fields": {"parent": pay}}]},
        {"check": "arbitrary-send-eth", "impact": "High", "confidence": "Medium",
         "description": "Vault sends eth to arbitrary user", "elements": [{"type": "contract", "name": "Vault"}]},
        {"check": "naming-convention", "impact": "Informational", "confidence": "High",
         "description": "Variable Vault.X is not in mixedCase",
         "elements": [{"type": "variable", "name": "X",
                       "type_specific_fields": {"parent": {"type": "contract", "name": "Vault"}}}]},
    ]


TRIAGE = """# Security

| Detector | Where | Code | Impact | Why it is accepted |
|---|---|---|---|---|
| `unused-return` | `Vault.pay` | `token.transfer(to,   1)` | Medium | the return value is checked elsewhere |
| `uninitialized-local` | `Vault.pay` | `uint256 fee` | Medium | zero is the intended start |
| `arbitrary-send-eth` | `Vault` | - | High | only to the owner |
"""


def test_findings_are_keyed_by_detector_function_and_the_code_flagged_not_line(gate: ModuleType,
                                                                                vault: Path) -> None:
    keys = [(f.check, f.impact, f.where, f.code) for f in gate.findings(sample(vault))]
    assert keys == [("unused-return", "Medium", "Vault.pay", "token.transfer(to, 1)"),
                    ("uninitialized-local", "Medium", "Vault.pay", "uint256 fee"),
                    ("arbitrary-send-eth", "High", "Vault", ""),
                    ("naming-convention", "Informational", "Vault.X", "")]


def test_an_unexplained_high_or_medium_finding_fails_and_an_explained_one_passes(gate: ModuleType,
                                                                                 vault: Path) -> None:
    found = gate.findings(sample(vault))
    unexplained, stale = gate.gate(found, gate.allowlist("# Security\n\nnothing triaged yet\n"))
    assert [(f.check, f.where) for f in unexplained] == [
        ("unused-return", "Vault.pay"), ("uninitialized-local", "Vault.pay"), ("arbitrary-send-eth", "Vault")]
    assert stale == set()  # the informational finding needs no row

    explained = gate.allowlist(TRIAGE)
    assert gate.gate(found, explained) == ([], set())
    one_missing = TRIAGE.replace("| `arbitrary-send-eth` | `Vault` | - | High | only to the owner |\n", "")
    assert [f.check for f in gate.gate(found, gate.allowlist(one_missing))[0]] == ["arbitrary-send-eth"]


def test_a_new_finding_in_a_function_with_an_explained_one_is_not_covered(gate: ModuleType, vault: Path) -> None:
    """The row explains `token.transfer(to, 1)` in Vault.pay; the same detector on another statement of the same
    function is a finding of its own (before, a row keyed by Contract.function covered it silently)."""
    explained = gate.allowlist(TRIAGE)
    found = gate.findings([*sample(vault), _unused_return(vault, "token.approve(to, 1)")])
    unexplained, stale = gate.gate(found, explained)
    assert [(f.check, f.where, f.code) for f in unexplained] == [
        ("unused-return", "Vault.pay", "token.approve(to, 1)")]
    assert stale == set()


def test_a_row_follows_its_code_when_lines_move_and_goes_stale_when_it_changes(gate: ModuleType,
                                                                               tmp_path: Path) -> None:
    moved = tmp_path / "Vault.sol"
    moved.write_text("// a comment\n// and another\n" + VAULT.replace("token.transfer(to, 1)",
                                                                        "token.transfer(to,  1)"))
    explained = gate.allowlist(TRIAGE)
    report = sample(moved, transfer="token.transfer(to,  1)")
    assert gate.gate(gate.findings(report), explained) == ([], set())

    changed = [_unused_return(moved, "token.approve(to, 1)"), *report[1:]]
    unexplained, stale = gate.gate(gate.findings(changed), explained)
    assert [f.code for f in unexplained] == ["token.approve(to, 1)"]
    assert stale == {("unused-return", "Vault.pay", "token.transfer(to, 1)")}  # its finding is gone: reported


def test_a_pipe_in_the_code_is_escaped_in_the_table(gate: ModuleType) -> None:
    row = "| `incorrect-equality` | `Vault.pay` | `a == 0 \\|\\| b == 0` | Medium | why |"
    assert gate.allowlist(row) == {("incorrect-equality", "Vault.pay", "a == 0 || b == 0")}


def test_main_exits_non_zero_naming_the_unexplained_finding(gate: ModuleType, tmp_path: Path, vault: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(gate, "build_info", lambda out_dir: out_dir)
    monkeypatch.setattr(gate, "run_slither", lambda artifacts: sample(vault))
    doc = tmp_path / "security.md"
    monkeypatch.setattr(gate, "SECURITY_DOC", doc)
    doc.write_text(TRIAGE.replace("`uninitialized-local`", "`uninitialized-state`"), encoding="utf-8")
    assert gate.main([]) == 1
    err = capsys.readouterr().err
    assert "UNEXPLAINED Medium `uninitialized-local` at `Vault.pay` `uint256 fee`" in err
    assert "arbitrary-send-eth" not in err
    doc.write_text(TRIAGE, encoding="utf-8")
    assert gate.main(["--json", str(tmp_path / "report.json")]) == 0
    assert "1 high, 2 medium" in capsys.readouterr().out
    assert "uninitialized-local" in (tmp_path / "report.json").read_text(encoding="utf-8")


def test_every_row_of_the_real_triage_table_names_a_slither_detector(gate: ModuleType) -> None:
    from slither.detectors import all_detectors
    from slither.detectors.abstract_detector import AbstractDetector

    known = {d.ARGUMENT for d in vars(all_detectors).values()
             if inspect.isclass(d) and issubclass(d, AbstractDetector)}
    rows = gate.allowlist(gate.SECURITY_DOC.read_text(encoding="utf-8"))
    assert rows, "docs/security.md has no triage table"
    assert {check for check, _, _ in rows} <= known
    assert all(where.split(".")[0] in {"Consortium", "DigitalCash", "MerchantSettlement", "WalletRegistry"}
               for _, where, _ in rows)
    assert all(code for _, _, code in rows)  # each row names its statement
