"""docs/sdk.md cannot drift: its ```python blocks run, in order and in one namespace, against the session's
local chain, with the environment the page tells a developer to set."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
RUNNABLE, SHELL = "python", "sh"


def blocks() -> list[tuple[str, str, int]]:
    """(info string, code, line of the code's first line) of every fenced block."""
    text = DOC.read_text(encoding="utf-8")
    return [(m[1].strip(), m[2], text.count("\n", 0, m.start(2)) + 1) for m in FENCE.finditer(text)]


def exported_env() -> dict[str, str]:
    """The ``export NAME=value`` lines of the page's shell blocks."""
    env = {}
    for info, code, _ in blocks():
        if info == SHELL:
            for name, value in re.findall(r"^export (\w+)=(\S+)", code, re.MULTILINE):
                env[name] = value
    return env


def test_every_block_is_python_or_shell() -> None:
    """No block is skipped: Python runs below; install and shell commands are ``sh``, never a skipped python."""
    found = blocks()
    assert [info for info, _, _ in found if info not in (RUNNABLE, SHELL)] == []
    assert sum(info == RUNNABLE for info, _, _ in found) >= 10
    text = DOC.read_text(encoding="utf-8")
    assert text.count("```") == 2 * len(found)  # no unbalanced or oddly written fence escaped the parser


def test_the_documented_bank_key_is_the_local_bank_operator(system: Any) -> None:
    env = exported_env()
    assert set(env) == {"WALLETNET_RPC_URL", "WALLETNET_DEPLOYMENT", "WALLETNET_BANK_KEY"}
    operator = Account.from_key(env["WALLETNET_BANK_KEY"])
    assert operator.address == system.banks["A"].operators[0].address  # anvil's dev account #2: bank A
    assert env["WALLETNET_DEPLOYMENT"] == ".walletnet/deployment.json"  # where `walletnet up` writes it


def test_docs_run(system: Any, devnet: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str]) -> None:
    deployment = tmp_path / "deployment.json"
    system.deployment.save(deployment)
    monkeypatch.setenv("WALLETNET_RPC_URL", devnet.rpc_url)
    monkeypatch.setenv("WALLETNET_DEPLOYMENT", str(deployment))
    monkeypatch.setenv("WALLETNET_BANK_KEY", exported_env()["WALLETNET_BANK_KEY"])
    namespace: dict[str, Any] = {"__name__": "docs_sdk"}
    for info, code, line in blocks():
        if info != RUNNABLE:
            continue
        # padded so that a failure's traceback points at the line in docs/sdk.md
        exec(compile("\n" * (line - 1) + code, str(DOC), "exec"), namespace)

    # what the page claims happened, happened
    network, alice, bob = namespace["network"], namespace["alice"], namespace["bob"]
    assert network.balance(alice) == 20_750 - 480
    assert network.balance(bob) == 4_250 + 80_000
    refused = namespace["refused"]
    assert (refused.wallet, refused.amount, refused.limit) == (bob.address, 60_000, 50_000)
    assert namespace["settled"].batch_id == 1
    assert (namespace["settled"].batch.fee, namespace["settled"].batch.net) == (7, 473)
    assert namespace["last"] is not None
    printed = capsys.readouterr().out
    assert "refused: 600.00 is over 500.00" in printed
    assert "TokenInfo(" in printed
    assert "WalletKey(address='0x" in printed
    assert namespace["bank_key"].export_private_key()[2:] not in printed  # keys are never printed
