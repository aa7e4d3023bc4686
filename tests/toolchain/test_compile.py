"""`walletnet compile` and `walletnet compile --check` on a copy of the project's contracts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tools import toolchain
from tools.cli import app
from wallet_sdk.artifacts import ARTIFACTS_DIR


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of contracts/ and the committed artifacts; the toolchain is pointed at it."""
    shutil.copytree(toolchain.PROJECT_ROOT / "contracts", tmp_path / "contracts")
    shutil.copytree(ARTIFACTS_DIR, tmp_path / "artifacts", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setattr(toolchain, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(toolchain, "ARTIFACTS_DIR", tmp_path / "artifacts")
    return tmp_path


@pytest.fixture
def small_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with one small contract (fast to compile) and no artifacts yet."""
    (tmp_path / "contracts").mkdir()
    (tmp_path / "artifacts").mkdir()
    monkeypatch.setattr(toolchain, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(toolchain, "ARTIFACTS_DIR", tmp_path / "artifacts")
    monkeypatch.setattr(toolchain, "LIBRARY_SOURCES", ())
    return tmp_path


PROBE = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

contract Probe {
    uint256 public value;

    function set(uint256 v) external {
        value = v;
    }
}
"""


def test_committed_artifacts_match_a_fresh_compile(project_copy: Path) -> None:
    ok = CliRunner().invoke(app, ["compile", "--check"])
    assert ok.exit_code == 0, ok.output
    assert "match" in ok.output


def test_check_names_a_contract_edited_without_recompiling(small_project: Path) -> None:
    runner = CliRunner()
    source = small_project / "contracts" / "Probe.sol"
    source.write_text(PROBE)
    missing = runner.invoke(app, ["compile", "--check"])
    assert missing.exit_code == 1
    assert "Probe: no committed artifact (Probe.json)" in missing.output
    assert runner.invoke(app, ["compile"]).exit_code == 0
    assert runner.invoke(app, ["compile", "--check"]).exit_code == 0

    # Edit the contract without recompiling: the check fails and names it.
    source.write_text(PROBE.replace("value = v;", "value = v + 1;"))
    stale = runner.invoke(app, ["compile", "--check"])
    assert stale.exit_code == 1
    assert "Probe: committed artifact Probe.json differs from a fresh compile" in stale.output
    # Recompiling makes the check pass again, with the new bytecode in the artifact.
    before = json.loads((small_project / "artifacts" / "Probe.json").read_text())["deployedBytecode"]
    assert runner.invoke(app, ["compile"]).exit_code == 0
    assert runner.invoke(app, ["compile", "--check"]).exit_code == 0
    after = json.loads((small_project / "artifacts" / "Probe.json").read_text())["deployedBytecode"]
    assert before != after


def test_check_reports_missing_and_extra_artifacts(small_project: Path) -> None:
    (small_project / "contracts" / "Probe.sol").write_text(PROBE)
    artifacts = small_project / "artifacts"
    (artifacts / "Ghost.json").write_text("{}")
    problems = toolchain.check_artifacts()
    assert problems == ["Ghost: artifact Ghost.json has no contract any more",
                        "Probe: no committed artifact (Probe.json)"]


def test_an_artifact_does_not_depend_on_unrelated_sources(small_project: Path) -> None:
    """Adding a contract must not change another's artifact (each source is its own compilation)."""
    (small_project / "contracts" / "Probe.sol").write_text(PROBE)
    toolchain.compile_contracts()
    first = (small_project / "artifacts" / "Probe.json").read_text()
    (small_project / "contracts" / "Other.sol").write_text(PROBE.replace("Probe", "Other"))
    toolchain.compile_contracts()
    assert (small_project / "artifacts" / "Probe.json").read_text() == first
    assert (small_project / "artifacts" / "Other.json").is_file()


def test_compile_error_prints_file_and_line_and_fails(small_project: Path) -> None:
    broken = small_project / "contracts" / "Broken.sol"
    broken.write_text("// SPDX-License-Identifier: MIT\npragma solidity ^0.8.28;\ncontract Broken {\n"
                      "    function f() external { undefinedName = 1; }\n}\n")
    with pytest.raises(toolchain.CompileError) as info:
        toolchain.compile_sources()
    assert any("contracts/Broken.sol:4:" in m and "DeclarationError" in m for m in info.value.messages)
    result = CliRunner().invoke(app, ["compile"])
    assert result.exit_code == 1
    assert "contracts/Broken.sol:4:" in result.output


def test_artifacts_record_compiler_and_settings() -> None:
    artifact = json.loads((ARTIFACTS_DIR / "ERC1967Proxy.json").read_text())
    assert artifact["compiler"]["version"].startswith("0.8.28+")
    assert artifact["settings"]["evmVersion"] == "paris"
    assert artifact["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    assert artifact["bytecode"].startswith("0x60") and artifact["deployedBytecode"].startswith("0x")
    # paris has no PUSH0 (0x5f): a Shanghai-only opcode at the very start would show this setting was lost.
    assert not artifact["deployedBytecode"].startswith("0x5f")
