"""The local chain: starts on a free or given port, answers, keeps state, leaves no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tools.devnet import DEV_MNEMONIC, Devnet, DevnetError, dev_accounts, free_port, rpc_call


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_starts_answers_and_stops(devnet: Devnet) -> None:
    with Devnet(chain_id=4242) as chain:
        assert chain.rpc_url.startswith("http://127.0.0.1:")
        assert chain.rpc_url != devnet.rpc_url  # its own free port beside the session chain
        assert int(str(rpc_call(chain.rpc_url, "eth_chainId")), 16) == 4242
        funded = int(str(rpc_call(chain.rpc_url, "eth_getBalance", [chain.accounts[0].address, "latest"])), 16)
        assert funded == 10_000 * 10**18
        pid = chain.process.pid if chain.process else -1
    assert not chain.running
    assert not _alive(pid)


def test_given_port_and_dev_keys_match_the_mnemonic() -> None:
    port = free_port()
    with Devnet(port=port, accounts=3) as chain:
        assert chain.port == port
        listed = rpc_call(chain.rpc_url, "eth_accounts")
        assert [a.lower() for a in listed] == [a.address.lower() for a in dev_accounts(3, DEV_MNEMONIC)]  # type: ignore[union-attr]
    assert "private_key" not in repr(chain.accounts[0])


def test_busy_port_is_a_clear_error() -> None:
    with Devnet() as first, pytest.raises(DevnetError, match="already in use"):
        Devnet(port=first.port).start(timeout=10)


def test_state_file_keeps_the_chain_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "chain" / "state.json"
    with Devnet(state_file=state) as chain:
        for _ in range(3):
            rpc_call(chain.rpc_url, "evm_mine")
        assert int(str(rpc_call(chain.rpc_url, "eth_blockNumber")), 16) == 3
    assert state.is_file()
    with Devnet(state_file=state) as again:
        assert int(str(rpc_call(again.rpc_url, "eth_blockNumber")), 16) == 3


def test_no_orphan_when_the_owner_is_killed(tmp_path: Path) -> None:
    """SIGKILL the owning process: anvil must go too (PR_SET_PDEATHSIG), not linger."""
    script = textwrap.dedent("""
        import sys, time
        from tools.devnet import Devnet
        chain = Devnet().start()
        print(chain.process.pid, flush=True)
        time.sleep(600)
    """)
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    assert owner.stdout is not None
    anvil_pid = int(owner.stdout.readline())
    assert _alive(anvil_pid)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 10
    while _alive(anvil_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(anvil_pid)
