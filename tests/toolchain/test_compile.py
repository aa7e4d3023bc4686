"""`walletnet compile` and `walletnet compile --check` on a copy of the project's contracts: the artifacts, and the
revert classes generated from them (wallet_sdk/reverts.py)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from eth_utils.abi import function_signature_to_4byte_selector
from typer.testing import CliRunner

from tools import revert_classes, toolchain
from tools.cli import app
from wallet_sdk.artifacts import ARTIFACTS_DIR
from wallet_sdk.chain.types import WalletStatus
from wallet_sdk.exceptions import ContractRevertError, TypedRevert


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of contracts/ and the committed artifacts; the toolchain is pointed at it."""
    shutil.copytree(toolchain.PROJECT_ROOT / "contracts", tmp_path / "contracts")
    shutil.copytree(ARTIFACTS_DIR, tmp_path / "artifacts", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copy2(toolchain.reverts_path(ARTIFACTS_DIR), tmp_path / "reverts.py")
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


# --- the revert classes ---

GUARD = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

contract Guard {
    enum WalletStatus { NONE, ACTIVE, FROZEN, CLOSED }

    /// @notice The guard refuses `amount` from `from`.
    /// @dev Its status says why.
    error Refused(address from, WalletStatus status, uint256 amount);
    error Closed();

    function check(address from, uint256 amount) external pure {
        if (amount == 0) revert Closed();
        revert Refused(from, WalletStatus.FROZEN, amount);
    }
}
"""


def _load(path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("generated_reverts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_compile_generates_a_class_per_error_and_check_finds_it_stale(small_project: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    (small_project / "contracts" / "Guard.sol").write_text(GUARD)
    assert runner.invoke(app, ["compile"]).exit_code == 0
    generated = small_project / "reverts.py"
    module = _load(generated, monkeypatch)

    refused = module.Refused
    assert issubclass(refused, TypedRevert) and issubclass(refused, ContractRevertError)
    assert refused.SIGNATURE == "Refused(address,uint8,uint256)"
    assert function_signature_to_4byte_selector("Refused(address,uint8,uint256)") == refused.SELECTOR
    assert refused.argument_names() == ("from", "status", "amount")
    assert "The guard refuses `amount` from `from`. Its status says why." in (refused.__doc__ or "")
    error = refused.from_arguments({"from": "0x" + "11" * 20, "status": 2, "amount": 5})
    assert (error.from_, error.status, error.amount) == ("0x" + "11" * 20, WalletStatus.FROZEN, 5)
    assert str(error) == f"Refused(from='0x{'11' * 20}', status=2 (FROZEN), amount=5)"
    assert module.Closed.argument_names() == ()
    assert module.REVERT_CLASSES[2:] == (module.Closed, refused)
    assert runner.invoke(app, ["compile", "--check"]).exit_code == 0

    # edited by hand: the check fails and names it; compiling writes it again
    generated.write_text(generated.read_text().replace("uint256 amount", "uint128 amount"))
    stale = runner.invoke(app, ["compile", "--check"])
    assert stale.exit_code == 1
    assert "reverts: reverts.py differs from the classes the contracts' errors generate" in stale.output
    assert runner.invoke(app, ["compile"]).exit_code == 0
    assert 'error="Refused(address from, WalletStatus status, uint256 amount)"' in generated.read_text()
    assert runner.invoke(app, ["compile", "--check"]).exit_code == 0

    # a new error in the contract without compiling: the artifact and reverts.py are both stale
    (small_project / "contracts" / "Guard.sol").write_text(GUARD.replace("error Closed();", "error Closed();\n"
                                                                         "    error Paused(uint256 since);"))
    problems = toolchain.check_reverts()
    assert problems == ["reverts: reverts.py differs from the classes the contracts' errors generate"]
    generated.unlink()
    assert toolchain.check_reverts() == [f"reverts: no generated reverts.py ({generated})"]


def _artifact(name: str, *errors: dict[str, Any]) -> dict[str, Any]:
    return {"contractName": name, "abi": list(errors), "userdoc": {}, "devdoc": {}}


def _error(name: str, *inputs: tuple[str, str, str]) -> dict[str, Any]:
    return {"type": "error", "name": name,
            "inputs": [{"name": n, "type": t, "internalType": i} for n, t, i in inputs]}


@pytest.mark.parametrize(("artifacts", "message"), [
    ({"A.json": _artifact("A", _error("Bad", ("data", "bytes", "bytes")))},
     "Bad: argument 'data' would hide the attribute of that name"),
    ({"A.json": _artifact("A", _error("Twice", ("x", "uint256", "uint256"))),
      "B.json": _artifact("B", _error("Twice", ("x", "address", "address")))},
     "Twice is declared as Twice(address) in B and as Twice(uint256) elsewhere: one name, one error"),
    ({"A.json": _artifact("A", _error("Odd", ("kind", "uint8", "enum A.Flavour")))},
     "enum Flavour has no IntEnum in wallet_sdk.enums: add it there"),
])
def test_errors_that_cannot_become_classes_are_refused(artifacts: dict[str, Any], message: str) -> None:
    with pytest.raises(revert_classes.CodegenError) as refused:
        revert_classes.render(artifacts)
    assert str(refused.value) == message


def test_an_enum_in_one_declaration_types_the_shared_class() -> None:
    """WalletNotActive is a uint8 in DigitalCash and the registry's enum in WalletRegistry: one class, the enum."""
    text = revert_classes.render({
        "A.json": _artifact("A", _error("Shut", ("status", "uint8", "uint8"))),
        "B.json": _artifact("B", _error("Shut", ("status", "uint8", "enum IWalletRegistry.WalletStatus")))})
    assert 'class Shut(TypedRevert, error="Shut(WalletStatus status)"):\n' in text
    assert "Raised by A, B." in text
