"""The storage-layout lock: the committed contracts match it, and a shifting change is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tools import storage_layout, toolchain
from tools.cli import app

PROBE = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

contract LayoutProbe {
    /// @custom:storage-location erc7201:walletnet.test.LayoutProbe
    struct ProbeStorage {
        uint256 total;
        address owner;
        mapping(address => Entry) entries;
    }

    struct Entry {
        uint128 amount;
        uint64 day;
    }

    function f() external pure returns (uint256) { return 1; }
}
"""


@pytest.fixture
def probe_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "LayoutProbe.sol").write_text(PROBE)
    monkeypatch.setattr(toolchain, "PROJECT_ROOT", tmp_path)
    return tmp_path


def test_committed_contracts_match_the_lock() -> None:
    assert storage_layout.check() == []


def test_lock_records_namespaces_and_nested_structs(probe_project: Path) -> None:
    layout = storage_layout.update()
    assert layout["erc7201:walletnet.test.LayoutProbe"] == [
        {"label": "total", "slot": 0, "offset": 0, "type": "uint256"},
        {"label": "owner", "slot": 1, "offset": 0, "type": "address"},
        {"label": "entries", "slot": 2, "offset": 0, "type": "mapping(address => struct LayoutProbe.Entry)"},
    ]
    assert layout["struct:LayoutProbe.Entry"] == [
        {"label": "amount", "slot": 0, "offset": 0, "type": "uint128"},
        {"label": "day", "slot": 0, "offset": 16, "type": "uint64"},
    ]


def test_inserting_a_member_is_refused_and_appending_is_allowed(probe_project: Path) -> None:
    storage_layout.update()
    source = probe_project / "contracts" / "LayoutProbe.sol"
    runner = CliRunner()

    source.write_text(PROBE.replace("        address owner;\n", "        address owner;\n        uint256 added;\n", 1)
                      .replace("        uint64 day;\n", "        uint64 day;\n        bool flag;\n"))
    appended = runner.invoke(app, ["storage-layout"])
    assert appended.exit_code == 1  # `added` was inserted before `entries`: entries moved
    assert "member entries mapping(address => struct LayoutProbe.Entry) at slot 2+0 is now added uint256" \
        in appended.output

    source.write_text(PROBE.replace("        mapping(address => Entry) entries;\n",
                                    "        mapping(address => Entry) entries;\n        uint256 added;\n")
                      .replace("        uint64 day;\n", "        uint64 day;\n        bool flag;\n"))
    ok = runner.invoke(app, ["storage-layout"])
    assert ok.exit_code == 0, ok.output

    source.write_text(PROBE.replace("        uint128 amount;\n        uint64 day;\n",
                                    "        uint64 day;\n        uint128 amount;\n"))
    swapped = storage_layout.check()
    assert any(line.startswith("struct:LayoutProbe.Entry: member amount uint128 at slot 0+0") for line in swapped)

    shutil.copy(source, source.with_suffix(".bak"))
    source.write_text(PROBE.replace("erc7201:walletnet.test.LayoutProbe", "erc7201:walletnet.test.Renamed"))
    assert "erc7201:walletnet.test.LayoutProbe: namespace is gone" in storage_layout.check()
