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


def _function(contract: str, signature: str) -> dict[str, Any]:
    return {"type": "function", "name": signature,
            "type_specific_fields": {"parent": {"type": "contract", "name": contract}}}


SAMPLE: list[dict[str, Any]] = [
    {"check": "unused-return", "impact": "Medium", "confidence": "Medium",
     "description": "Vault.pay(address) ignores return value by token.transfer(to,1)",
     "elements": [_function("Vault", "pay(address)")]},
    {"check": "uninitialized-local", "impact": "Medium", "confidence": "Medium",
     "description": "Vault.pay(address).fee is a local variable never initialized",
     "elements": [{"type": "variable", "name": "fee",
                   "type_specific_fields": {"parent": _function("Vault", "pay(address)")}}]},
    {"check": "arbitrary-send-eth", "impact": "High", "confidence": "Medium",
     "description": "Vault sends eth to arbitrary user", "elements": [{"type": "contract", "name": "Vault"}]},
    {"check": "naming-convention", "impact": "Informational", "confidence": "High",
     "description": "Variable Vault.X is not in mixedCase",
     "elements": [{"type": "variable", "name": "X",
                   "type_specific_fields": {"parent": {"type": "contract", "name": "Vault"}}}]},
]

TRIAGE = """# Security

| Detector | Where | Impact | Why it is accepted |
|---|---|---|---|
| `unused-return` | `Vault.pay` | Medium | the return value is checked elsewhere |
| `uninitialized-local` | `Vault.pay` | Medium | zero is the intended start |
| `arbitrary-send-eth` | `Vault` | High | only to the owner |
"""


def test_findings_are_keyed_by_detector_and_function_not_line(gate: ModuleType) -> None:
    keys = [(f.check, f.impact, f.where) for f in gate.findings(SAMPLE)]
    assert keys == [("unused-return", "Medium", "Vault.pay"), ("uninitialized-local", "Medium", "Vault.pay"),
                    ("arbitrary-send-eth", "High", "Vault"), ("naming-convention", "Informational", "Vault.X")]


def test_an_unexplained_high_or_medium_finding_fails_and_an_explained_one_passes(gate: ModuleType) -> None:
    found = gate.findings(SAMPLE)
    unexplained, stale = gate.gate(found, gate.allowlist("# Security\n\nnothing triaged yet\n"))
    assert [(f.check, f.where) for f in unexplained] == [
        ("unused-return", "Vault.pay"), ("uninitialized-local", "Vault.pay"), ("arbitrary-send-eth", "Vault")]
    assert stale == set()  # the informational finding needs no row

    explained = gate.allowlist(TRIAGE)
    assert gate.gate(found, explained) == ([], set())
    one_missing = TRIAGE.replace("| `arbitrary-send-eth` | `Vault` | High | only to the owner |\n", "")
    assert [f.check for f in gate.gate(found, gate.allowlist(one_missing))[0]] == ["arbitrary-send-eth"]
    # a row names detector AND place: the same detector elsewhere is not covered
    moved = [{**SAMPLE[0], "elements": [_function("Vault", "refund(address)")]}]
    unexplained, stale = gate.gate(gate.findings(moved), explained)
    assert [f.where for f in unexplained] == ["Vault.refund"]
    assert ("unused-return", "Vault.pay") in stale  # its finding is gone: reported, not fatal


def test_main_exits_non_zero_naming_the_unexplained_finding(gate: ModuleType, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(gate, "build_info", lambda out_dir: out_dir)
    monkeypatch.setattr(gate, "run_slither", lambda artifacts: SAMPLE)
    doc = tmp_path / "security.md"
    monkeypatch.setattr(gate, "SECURITY_DOC", doc)
    doc.write_text(TRIAGE.replace("`uninitialized-local`", "`uninitialized-state`"), encoding="utf-8")
    assert gate.main([]) == 1
    err = capsys.readouterr().err
    assert "UNEXPLAINED Medium `uninitialized-local` at `Vault.pay`" in err and "arbitrary-send-eth" not in err
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
    assert {check for check, _ in rows} <= known
    assert all(where.split(".")[0] in {"Consortium", "DigitalCash", "MerchantSettlement", "WalletRegistry"}
               for _, where in rows)
