"""P2P payments accepted per second on PostgreSQL with 1, 2 and 4 API worker processes (issue 21): the scaling
curve of the API role beside the single-process SQLite figure of the main run.

Each point is a network of its own (``walletnet up --bank-processes --db-url-template ... --api-workers N``)
on one throwaway PostgreSQL cluster started for the bench (durable, as a bank runs it; tools/postgres.py): the
same payers and payees as the main run, funded by ATM cash-ins, then the same pre-signed P2P payments sent
at once. Afterwards both banks are reconciled; a difference is a failure of the run, not a figure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.api_load import LoadSizes, PhaseResult, _Load
from bench.network import BenchNetwork
from tools.postgres import start_postgres, stop_postgres

__all__ = ["WorkersPoint", "run_scale_out"]


@dataclass(frozen=True)
class WorkersPoint:
    """One point of the curve: the API's workers, the P2P phase, and reconciliation's differences per bank."""

    workers: int
    p2p: PhaseResult
    differences: dict[str, int]


async def _point(net: BenchNetwork, sizes: LoadSizes, workers: int) -> WorkersPoint:
    load = _Load(net, sizes)
    try:
        await load.setup()
        await load.cash_ins()  # the payers' money
        p2p = await load.p2p()
        differences = {bank: await asyncio.to_thread(net.reconciliation_differences, bank) for bank in net.banks}
        return WorkersPoint(workers, p2p, differences)
    finally:
        await load.close()


def run_scale_out(sizes: LoadSizes, workers: Sequence[int] = (1, 2, 4),
                  progress: Callable[[str], None] = lambda _: None) -> list[WorkersPoint]:
    """The curve, one network per point, on one PostgreSQL cluster."""
    server, _ = start_postgres(durable=True)
    points = []
    try:
        for n in workers:
            for bank in ("banka", "bankb"):
                server.admin(f"CREATE DATABASE {bank}_w{n}")
            with BenchNetwork(db_url_template=server.url("{bank}" + f"_w{n}"), api_workers=n) as net:
                point = asyncio.run(_point(net, sizes, n))
            progress(f"PostgreSQL, {n} API worker{'s' if n > 1 else ''}: P2P {point.p2p.accepted_per_s:,.0f}/s "
                     f"accepted, {point.p2p.confirmed_per_s:,.0f}/s confirmed; reconciliation {point.differences}")
            points.append(point)
    finally:
        stop_postgres(server)
    return points

