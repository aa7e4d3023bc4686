"""The ceiling: the same web stack with nothing behind it. A bare FastAPI endpoint that authenticates nothing,
validates a transfer-shaped pydantic body strictly and answers 202, served by uvicorn on uvloop + httptools in a
process of its own, as the bank's API is. Measured in the same run as walletnet, it says how far walletnet's
figure is from what this machine's HTTP stack can do at all.

    python -m uvicorn bench.ceiling:app --loop uvloop --http httptools --port 8099
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from bench.loadgen import LoadResult, encode_request, run_in_process

__all__ = ["app", "measure_ceiling", "serve_ceiling"]


class _Authorization(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_: StrictStr = Field(alias="from")
    to: StrictStr
    value: StrictInt
    valid_before: StrictInt
    nonce: StrictStr
    v: StrictInt
    r: StrictStr
    s: StrictStr


class _TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payer: StrictStr
    payee: StrictStr
    amount: Annotated[StrictInt, Field(gt=0)]
    currency: StrictStr | None = None
    authorization: _Authorization | None = None


class _Accepted(BaseModel):
    id: str
    status: str


app = FastAPI(title="ceiling", openapi_url=None, docs_url=None, redoc_url=None)


@app.post("/v1/transfers", status_code=202)
async def transfer(body: _TransferIn) -> _Accepted:
    return _Accepted(id="op_" + secrets.token_hex(8), status="pending")


@contextmanager
def serve_ceiling(port: int) -> Iterator[str]:
    """The bare endpoint served on ``port`` (its own process) until the block ends; yields its base URL."""
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench.ceiling:app", "--host", "127.0.0.1",
                                "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--log-level",
                                "warning", "--no-access-log"], stdin=subprocess.DEVNULL)
    try:
        _wait_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the ceiling server exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the ceiling server did not listen on {port} within {timeout:g} s")


def _transfer_body(i: int) -> dict[str, object]:
    """A body shaped like a P2P transfer with its signed authorization (values are not checked here)."""
    address = "0x" + f"{i:040x}"
    return {"payer": address, "payee": address, "amount": 1 + i % 9, "authorization": {
        "from": address, "to": address, "value": 1 + i % 9, "valid_before": 2_000_000_000, "nonce": str(i),
        "v": 27, "r": "0x" + "11" * 32, "s": "0x" + "22" * 32}}


def measure_ceiling(requests: int, connections: int) -> LoadResult:
    """The bare endpoint's requests per second, closed-loop from the lean generator (bench.loadgen)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    host = f"127.0.0.1:{port}"
    raw = [encode_request("POST", "/v1/transfers", host=host, json_body=_transfer_body(i),
                          headers={"Authorization": "Bearer " + "k" * 43, "Idempotency-Key": f"ceiling-{i}"})
           for i in range(requests)]
    with serve_ceiling(port):
        return run_in_process("closed", "127.0.0.1", port, raw, connections=connections)
