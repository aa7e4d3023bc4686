"""`walletnet compile` and `walletnet compile --check` on a copy of the project's contracts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from node import toolchain
from node.cli import app
from wallet_sdk.artifacts import ARTIFACTS_DIR


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of contracts/ and the committed artifacts; the toolchain is pointed at it."""
    shutil.copytree(toolchain.PROJECT_ROOT / "contracts", tmp_path / "contracts")
    shutil.copytree(ARTIFACTS_DIR, tmp_path / "artifacts", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setattr(toolchain, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(toolchain, "ARTIFACTS_DIR", tmp_path / "artifacts")
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


def test_check_passes_on_committed_artifacts_and_names_an_edited_contract(project_copy: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["compile", "--check"])  # the committed artifacts are reproducible
    assert ok.exit_code == 0, ok.output
    assert "match" in ok.output

    source = project_copy / "contracts" / "Probe.sol"
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
    before = json.loads((project_copy / "artifacts" / "Probe.json").read_text())["deployedBytecode"]
    assert runner.invoke(app, ["compile"]).exit_code == 0
    assert runner.invoke(app, ["compile", "--check"]).exit_code == 0
    after = json.loads((project_copy / "artifacts" / "Probe.json").read_text())["deployedBytecode"]
    assert before != after


def test_check_reports_missing_and_extra_artifacts(project_copy: Path) -> None:
    artifacts = project_copy / "artifacts"
    removed = next(p for p in sorted(artifacts.glob("*.json")))
    removed.unlink()
    (artifacts / "Ghost.json").write_text("{}")
    problems = toolchain.check_artifacts()
    assert f"{removed.stem}: no committed artifact ({removed.name})" in problems
    assert "Ghost: artifact Ghost.json has no contract any more" in problems


def test_compile_error_prints_file_and_line_and_fails(project_copy: Path) -> None:
    broken = project_copy / "contracts" / "Broken.sol"
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
