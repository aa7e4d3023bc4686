"""`walletnet node permissions`: Besu's allowlists written from Consortium's active membership on a real
chain, and the reload asked of Besu through its JSON-RPC interface (a loopback stub stands in for Besu)."""

from __future__ import annotations

import json
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tools.cli import app
from tools.permissions import (
    BesuRpcError,
    Membership,
    MissingEnodeHostError,
    PermissionsError,
    enode_url,
    reload_permissions,
    render_permissions,
)

ENODE_OF = {k: "enode://" + c * 128 for k, c in (("A", "a"), ("B", "b"), ("C", "c"))}  # tests/conftest.py's
HOSTS = {"A": "10.0.0.1:30303", "B": "10.0.0.2:30303", "C": "[fd00::3]:30304"}


class BesuStub:
    """A loopback JSON-RPC server answering like Besu's PERM API; records each call and whether the
    permissions file existed when Besu was asked to reload it."""

    def __init__(self, watched: Path, reply: dict[str, Any]) -> None:
        self.calls: list[dict[str, Any]] = []
        self.file_at_call: list[str | None] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.calls.append(request)
                stub.file_at_call.append(watched.read_text() if watched.exists() else None)
                body = json.dumps({"jsonrpc": "2.0", "id": request["id"], **reply}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def deployment_file(system: Any, tmp_path: Path) -> Path:
    path = tmp_path / "deployment.json"
    system.deployment.save(path)
    return path


@pytest.fixture
def besu_ok(tmp_path: Path) -> Iterator[BesuStub]:
    stub = BesuStub(tmp_path / "permissions_config.toml", {"result": "Success"})
    yield stub
    stub.close()


def _host_args() -> list[str]:
    return [arg for k, host in HOSTS.items() for arg in ("--node-host", f"{ENODE_OF[k].removeprefix('enode://')}="
                                                                        f"{host}")]


def _govern(system: Any, fn: str, *args: Any) -> None:
    c = system.consortium
    data = c.encode_abi(fn, args=list(args))
    receipt = system.send(c.functions.propose(c.address, data, fn), system.operator)
    (created,) = c.events.ProposalCreated().process_receipt(receipt)
    pid = created["args"]["proposalId"]
    for code in ("A", "C"):
        system.send(c.functions.approve(pid), system.banks[code].operators[0])
    system.send(c.functions.execute(pid), system.accounts[0])


def test_writes_the_allowlists_from_membership_and_follows_governance(
        system: Any, devnet: Any, deployment_file: Path, tmp_path: Path, besu_ok: BesuStub) -> None:
    out = tmp_path / "permissions_config.toml"
    command = ["node", "permissions", "--rpc-url", devnet.rpc_url, "--deployment", str(deployment_file),
               "--out", str(out), *_host_args(), "--reload", besu_ok.url]

    ran = CliRunner().invoke(app, command)

    assert ran.exit_code == 0, ran.output
    allow = tomllib.loads(out.read_text())
    operators = {o.address for b in system.banks.values() for o in b.operators}
    assert set(allow["accounts-allowlist"]) == operators | {system.operator.address, system.regulator.address}
    assert allow["nodes-allowlist"] == sorted(
        f"{ENODE_OF[k]}@{HOSTS[k]}" for k in ("A", "B", "C"))
    assert [c["method"] for c in besu_ok.calls] == ["perm_reloadPermissionsFromFile"]
    assert besu_ok.file_at_call == [out.read_text()]  # written before Besu was asked to reload
    assert "perm_reloadPermissionsFromFile -> Success" in ran.output

    _govern(system, "suspendBank", system.banks["B"].id)
    ran = CliRunner().invoke(app, command)

    assert ran.exit_code == 0, ran.output
    allow = tomllib.loads(out.read_text())
    assert not {o.address for o in system.banks["B"].operators} & set(allow["accounts-allowlist"])
    assert system.banks["A"].operators[0].address in allow["accounts-allowlist"]
    assert allow["nodes-allowlist"] == sorted(f"{ENODE_OF[k]}@{HOSTS[k]}" for k in ("A", "C"))
    assert len(besu_ok.calls) == 2 and besu_ok.file_at_call[1] == out.read_text()


def test_an_enode_without_host_is_refused_rather_than_dropped(
        system: Any, devnet: Any, deployment_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "permissions_config.toml"
    ran = CliRunner().invoke(app, ["node", "permissions", "--rpc-url", devnet.rpc_url, "--deployment",
                                   str(deployment_file), "--out", str(out)])
    assert ran.exit_code == 2
    assert "registered without host:port" in ran.output
    assert not out.exists()


def test_a_besu_error_fails_the_command(system: Any, devnet: Any, deployment_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "permissions_config.toml"
    stub = BesuStub(out, {"error": {"code": -32000, "message": "Permissions file not found"}})
    try:
        ran = CliRunner().invoke(app, ["node", "permissions", "--rpc-url", devnet.rpc_url, "--deployment",
                                       str(deployment_file), "--out", str(out), *_host_args(), "--reload", stub.url])
    finally:
        stub.close()
    assert ran.exit_code == 2
    assert "Permissions file not found" in ran.output
    assert len(stub.calls) == 1


def test_reload_of_an_unreachable_besu_is_a_typed_error() -> None:
    from tools.devnet import free_port

    with pytest.raises(BesuRpcError, match="perm_reloadPermissionsFromFile failed"):
        reload_permissions(f"http://127.0.0.1:{free_port()}", timeout=2.0)


def test_render_refuses_bad_input_and_is_stable() -> None:
    ident = "ab" * 64
    assert enode_url(f"enode://{ident.upper()}@host:1?discport=0") == f"enode://{ident}@host:1"
    assert enode_url(ident, {f"enode://{ident}": "h:2"}) == f"enode://{ident}@h:2"
    with pytest.raises(MissingEnodeHostError):
        enode_url(ident)
    with pytest.raises(PermissionsError, match="not host:port"):
        enode_url(f"enode://{ident}@nohostport")
    with pytest.raises(PermissionsError, match="not an enode"):
        enode_url("enode://abc")
    with pytest.raises(PermissionsError, match="empty accounts"):
        render_permissions(Membership(accounts=[], enodes=[]))
    with pytest.raises(PermissionsError, match="not an address"):
        render_permissions(Membership(accounts=["0x12"], enodes=[]))
    account = "0x" + "1" * 40
    one = render_permissions(Membership(accounts=[account, account.upper().replace("0X", "0x")], enodes=[]))
    assert tomllib.loads(one) == {"accounts-allowlist": ["0x1111111111111111111111111111111111111111"],
                                  "nodes-allowlist": []}
