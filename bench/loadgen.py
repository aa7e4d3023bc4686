"""A lean HTTP/1.1 load generator: raw asyncio streams on keep-alive connections, every request serialised to
bytes before the clock starts, so that what is measured is the server, not the client.

Two shapes:

- :func:`closed_loop`: ``connections`` connections each send their next request as soon as the previous one is
  answered (the most the server takes: requests per second);
- :func:`open_loop`: requests are due at a fixed rate whatever the answers (``start + i / rate``); each one's
  latency counts from when it was due, so a server that falls behind cannot hide its queue in the client.

:func:`run_in_process` runs either in a process of its own (spawned, on uvloop when available) and reports the
generator's own CPU time beside the figures, so a reader sees whether the client was the limit.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import resource
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench import ratio

if TYPE_CHECKING:
    from wallet_sdk.client import PreparedRequest

__all__ = ["LoadResult", "closed_loop", "encode_prepared", "encode_request", "open_loop", "run_in_process"]


def encode_request(method: str, path: str, *, host: str, headers: dict[str, str] | None = None,
                   json_body: Any = None) -> bytes:
    """One HTTP/1.1 request as bytes (keep-alive; a JSON body if given)."""
    body = b"" if json_body is None else json.dumps(json_body, separators=(",", ":")).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    if json_body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def encode_prepared(prepared: PreparedRequest, *, host: str) -> bytes:
    """A request the SDK prepared (its headers, idempotency key and exact body) as HTTP/1.1 bytes."""
    body = prepared.body or b""
    lines = [f"{prepared.method} {prepared.path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive",
             *(f"{name}: {value}" for name, value in prepared.headers.items())]
    if prepared.body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class LoadResult:
    """What came back: each request's status (0: no answer) and latency (ms; NaN: no answer), in send order,
    when the first request went out (``time.perf_counter``, comparable across processes on Linux), wall and CPU
    seconds of the generator, and the bodies of the answers if asked for (``keep_bodies``)."""

    sent: int
    codes: list[int]
    latencies_ms: list[float]
    started: float
    seconds: float  # first send to last answer
    client_cpu_seconds: float = 0.0
    bodies: list[bytes] = field(default_factory=list, repr=False)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def statuses(self) -> Counter[int]:
        return Counter(self.codes)

    @property
    def answered_latencies_ms(self) -> list[float]:
        return [ms for code, ms in zip(self.codes, self.latencies_ms, strict=True) if code]

    def ok(self, *codes: int) -> int:
        statuses = self.statuses
        return sum(statuses[c] for c in codes)

    def per_s(self, *codes: int) -> float:
        return ratio(self.ok(*codes), self.seconds)

    @property
    def client_cpu_share(self) -> float:
        """The generator's CPU time as a share of one core over the run (1.0: it used a whole core)."""
        return ratio(self.client_cpu_seconds, self.seconds)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            return status, await self._chunked()
        return status, await self.reader.readexactly(length) if length else b""

    async def _chunked(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        self.writer.close()


async def _connect(host: str, port: int, count: int) -> list[_Connection]:
    pairs = await asyncio.gather(*(asyncio.open_connection(host, port) for _ in range(count)))
    return [_Connection(r, w) for r, w in pairs]


class _Recorder:
    """Sends requests on connections and records each one's status, latency and body (``keep_bodies``)."""

    def __init__(self, requests: Sequence[bytes], keep_bodies: bool) -> None:
        self.requests = requests
        self.codes = [0] * len(requests)
        self.latencies = [float("nan")] * len(requests)
        self.bodies: list[bytes] = [b""] * len(requests) if keep_bodies else []
        self.errors: Counter[str] = Counter()

    async def send(self, conn: _Connection, i: int, since: float) -> bool:
        """Request ``i`` on ``conn``, its latency counted from ``since``; False if the connection failed."""
        try:
            status, body = await conn.exchange(self.requests[i])
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.errors[type(exc).__name__] += 1
            return False
        self.latencies[i] = (time.perf_counter() - since) * 1000
        self.codes[i] = status
        if self.bodies:
            self.bodies[i] = body
        return True

    def result(self, start: float, conns: list[_Connection]) -> LoadResult:
        seconds = time.perf_counter() - start
        for c in conns:
            c.close()
        return LoadResult(len(self.requests), self.codes, self.latencies, start, seconds, bodies=self.bodies,
                          errors=self.errors)


async def closed_loop(host: str, port: int, requests: Sequence[bytes], connections: int, *,
                      keep_bodies: bool = False) -> LoadResult:
    """Send every request, ``connections`` at a time, each connection its next as soon as it is answered."""
    conns = await _connect(host, port, min(connections, max(1, len(requests))))
    recorder = _Recorder(requests, keep_bodies)
    cursor = iter(range(len(requests)))

    async def worker(conn: _Connection) -> None:
        for i in cursor:
            if not await recorder.send(conn, i, time.perf_counter()):
                return

    start = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    return recorder.result(start, conns)


async def open_loop(host: str, port: int, requests: Sequence[bytes], rate: float, connections: int, *,
                    keep_bodies: bool = False) -> LoadResult:
    """Request ``i`` is due at ``start + i / rate``; it goes out on the first free connection, and its latency
    counts from when it was due (a queue at the client counts against the server that made it)."""
    conns = await _connect(host, port, connections)
    recorder = _Recorder(requests, keep_bodies)
    due: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()

    async def worker(conn: _Connection) -> None:
        while (item := await due.get()) is not None:
            if not await recorder.send(conn, *item):
                return

    workers = [asyncio.create_task(worker(c)) for c in conns]
    start = time.perf_counter()  # (uvloop's loop.time() ticks in milliseconds: too coarse for latencies)
    for i in range(len(requests)):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due.put_nowait((i, scheduled))
    for _ in conns:
        due.put_nowait(None)
    await asyncio.gather(*workers)
    return recorder.result(start, conns)


def _child(args: dict[str, Any], out: Any) -> None:
    try:
        import uvloop  # the generator's own event loop cost stays small
        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        pass
    before = resource.getrusage(resource.RUSAGE_SELF)
    shape = args.pop("shape")
    runner = closed_loop if shape == "closed" else open_loop
    result: LoadResult = asyncio.run(runner(**args))
    after = resource.getrusage(resource.RUSAGE_SELF)
    result.client_cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out.send(result)
    out.close()


def run_in_process(shape: str, host: str, port: int, requests: Sequence[bytes], *, connections: int,
                   rate: float | None = None, keep_bodies: bool = False) -> LoadResult:
    """:func:`closed_loop` (``shape="closed"``) or :func:`open_loop` (``shape="open"``, at ``rate``) in a spawned
    process of its own, with the generator's CPU time measured there."""
    args: dict[str, Any] = {"shape": shape, "host": host, "port": port, "requests": list(requests),
                            "connections": connections, "keep_bodies": keep_bodies}
    if shape == "open":
        if rate is None:
            raise ValueError("an open loop needs a rate")
        args["rate"] = rate
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(args, send), daemon=True)
    process.start()
    send.close()
    try:
        result: LoadResult = receive.recv()
    finally:
        process.join(30)
    return result
