"""The delay from a payment's final block to its notification on the live stream (issue 22's bench figure).

During the open-loop latency phase the bench follows the payees' streams (``GET
/v1/wallets/{address}/notifications/stream`` at their bank, with its teller key, as a bank's app backend would
follow a customer's) and, beside them, the chain's head (``eth_blockNumber`` every 10 ms). A ``payment_received``
notification's delay is the time from when its transaction's block was first seen to when the notification arrived
on the stream. The bench's chain mines each transaction at once and the banks count a block final when it is
mined (one confirmation), so "first seen" is when the block became final, to within the 10 ms of the poll (which
makes the figure up to 10 ms smaller than the truth).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from wallet_sdk.chain.network import Network
from wallet_sdk.client import AsyncClient

__all__ = ["NotificationDelays", "NotificationWatch"]

HEAD_POLL_SECONDS = 0.01
QUIET_SECONDS = 1.0  # no notification for this long: the streams are quiet
QUIET_WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class NotificationDelays:
    payments: int  # payments of the phase
    received: int  # payment_received notifications that arrived on the streams while they were followed
    delays_ms: list[float]  # of those whose block was first seen while the head was followed


class NotificationWatch:
    """Follows the chain's head and the streams of ``wallets`` (at the bank ``client`` talks to) until
    :meth:`stop`; then :meth:`delays` matches each notification with its block."""

    def __init__(self, client: AsyncClient, rpc_url: str, wallets: Sequence[str]) -> None:
        self.client = client
        self.rpc_url = rpc_url
        self.wallets = list(wallets)
        self.block_seen: dict[int, float] = {}  # block number -> perf_counter when the head first reached it
        self.arrivals: list[tuple[str, float]] = []  # (tx hash, perf_counter when its notification arrived)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start following; returns once the head is known, the streams are open and quiet: notifications of
        earlier payments (the payees' bank indexes a moment after the payer's completes) arrived and were dropped,
        so that what arrives next is the phase's."""
        head = asyncio.Event()
        self._tasks.append(asyncio.create_task(self._follow_head(head)))
        self._tasks += [asyncio.create_task(self._follow(wallet)) for wallet in self.wallets]
        await head.wait()
        deadline = time.perf_counter() + QUIET_WAIT_SECONDS
        while time.perf_counter() < deadline:
            seen = len(self.arrivals)
            await asyncio.sleep(QUIET_SECONDS)
            if len(self.arrivals) == seen:
                break
        self.arrivals.clear()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _follow_head(self, known: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=10.0) as http:
            last: int | None = None
            while True:
                answer = await http.post(self.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber",
                                                              "params": []})
                number, now = int(answer.json()["result"], 16), time.perf_counter()
                if last is not None:
                    for block in range(last + 1, number + 1):  # blocks mined since the last look: seen now
                        self.block_seen[block] = now
                last = number
                known.set()
                await asyncio.sleep(HEAD_POLL_SECONDS)

    async def _follow(self, wallet: str) -> None:
        async for note in self.client.stream_notifications(wallet, read_timeout=30.0):
            if note.type == "payment_received":
                self.arrivals.append((str(note.params["tx_hash"]), time.perf_counter()))

    async def delays(self, chain: Network, payments: int) -> NotificationDelays:
        """Each arrival's delay from its block (read from the transactions' receipts: a relay batch carries many
        payments in one transaction)."""
        hashes = sorted({tx for tx, _ in self.arrivals})
        blocks = await asyncio.to_thread(
            lambda: {tx: int(chain.w3.eth.get_transaction_receipt(tx)["blockNumber"]) for tx in hashes})
        delays = [(arrived - self.block_seen[blocks[tx]]) * 1000 for tx, arrived in self.arrivals
                  if blocks[tx] in self.block_seen]
        return NotificationDelays(payments, len(self.arrivals), delays)
