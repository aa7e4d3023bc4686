"""`walletnet up` (what `make run` calls): deploys once, prints where things run, stops on Ctrl-C,
and resumes the same network with its state on the next start."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from eth_account import Account
from web3 import Web3

from tools.devnet import dev_accounts
from wallet_sdk._tx import send_call
from wallet_sdk.deploy import Deployment, bank_id

ROOT = Path(__file__).resolve().parents[2]


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell does for a background job, or nohup


def _start(data_dir: Path, *, sigint_ignored: bool = False) -> tuple[subprocess.Popen[str], str]:
    """Start `walletnet up`; ``sigint_ignored``: with SIGINT ignored, as it inherits it in a background job."""
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "tools.cli", "up", "--data-dir", str(data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env,
                            preexec_fn=_ignore_sigint if sigint_ignored else None)
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C stops the network" in line:
            return proc, "".join(lines)
    proc.kill()
    raise AssertionError("walletnet up did not come up:\n" + "".join(lines))


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()  # its chain dies with it (tools.devnet)
        out, _ = proc.communicate()
        raise AssertionError("walletnet up did not stop on SIGINT:\n" + out) from None
    assert proc.returncode == 0, out
    return out


def test_up_deploys_prints_stops_and_resumes(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) stops it, also when it was started with SIGINT ignored (the second start: a background
    job of a shell, as `make test &` starts this test, or nohup): it handles SIGINT itself."""
    data_dir = tmp_path / "net"
    proc, out = _start(data_dir)
    try:
        rpc = re.search(r"chain RPC\s*│\s*(http://127\.0\.0\.1:\d+)", out)
        assert rpc, out
        deployment = Deployment.load(data_dir / "deployment.json")
        for name in ("Consortium", "WalletRegistry", "DigitalCash", "MerchantSettlement"):
            assert deployment.contracts[name] in out
        assert "bank BANKA" in out and "bank BANKB" in out and "(resumed)" not in out
        w3 = Web3(Web3.HTTPProvider(rpc.group(1)))
        consortium = deployment.contract(w3, "Consortium")
        assert len(w3.eth.get_code(consortium.address)) > 0
        # A state change made while it runs must survive the restart.
        operator = Account.from_key(dev_accounts(1)[0].private_key)
        send_call(w3, operator, consortium.functions.setQuota(bank_id("BANKA"), 123_456))
    finally:
        stopped = _stop(proc)
    assert "stopped; state kept" in stopped
    assert not _port_open(rpc.group(1))  # the chain went with it

    proc, out = _start(data_dir, sigint_ignored=True)
    try:
        assert "(resumed)" in out
        assert deployment.contracts["Consortium"] in out
        rpc2 = re.search(r"chain RPC\s*│\s*(http://127\.0\.0\.1:\d+)", out)
        assert rpc2, out
        w3 = Web3(Web3.HTTPProvider(rpc2.group(1)))
        assert deployment.contract(w3, "Consortium").functions.quota(bank_id("BANKA")).call() == 123_456
    finally:
        stopped = _stop(proc)
    assert "stopped; state kept" in stopped


def _port_open(url: str) -> bool:
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, int(port))) == 0
