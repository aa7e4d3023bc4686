"""The bench's tables (markdown, printed and written to docs/performance.md) with the machine they ran on.
Targets are reported beside the figures, met or not met; nothing here asserts them."""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import ratio
from bench.api_load import ApiLoadResult, LatencyResult, percentile
from bench.indexer_catchup import CatchUpResult
from bench.loadgen import LoadResult
from bench.risk_cost import RiskCost
from bench.scale import ScaleResult, render_scale
from bench.scale_out import WorkersPoint

__all__ = ["BenchResult", "Figure", "figures", "machine", "render", "render_counts", "render_figures",
           "render_scale_out", "render_stopped"]


@dataclass
class BenchResult:
    """Everything one run measured."""

    api: ApiLoadResult
    catchup: CatchUpResult
    ceiling: LoadResult  # the bare endpoint (bench.ceiling)
    command: str
    seconds: float = 0.0  # the whole run
    stopped_threads: list[str] = field(default_factory=list)  # node threads that failed during the run
    scale_out: list[WorkersPoint] = field(default_factory=list)  # P2P on PostgreSQL by API workers (empty: skipped)
    scale: ScaleResult | None = None  # work that grows with the number of wallets (bench.scale)
    risk: RiskCost | None = None  # what the risk engine adds to a P2P payment's admission (bench.risk_cost)


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""  # e.g. ">= 1,000"
    met: Callable[[float], bool] | None = None

    @property
    def verdict(self) -> str:
        if self.met is None:
            return ""
        return "met" if self.met(self.value) else "**not met**"


def figures(r: BenchResult) -> list[Figure]:
    api, lat = r.api, r.api.latency
    ceiling = r.ceiling.per_s(202)
    return [
        Figure("P2P payments accepted (HTTP 202) per second", api.p2p.accepted_per_s, "/s", ">= 1,000",
               lambda v: v >= 1_000),
        Figure("P2P payments confirmed on chain per second", api.p2p.confirmed_per_s, "/s", ">= 500",
               lambda v: v >= 500),
        Figure("naive web3.py baseline: payments confirmed per second", r.api.baseline.per_s, "/s"),
        Figure("walletnet accepted/s ÷ baseline/s", ratio(api.p2p.accepted_per_s, r.api.baseline.per_s), "x",
               ">= 10x", lambda v: v >= 10),
        Figure("walletnet confirmed/s ÷ baseline/s", ratio(api.p2p.confirmed_per_s, r.api.baseline.per_s), "x"),
        Figure("ceiling: bare FastAPI endpoint (strict pydantic body, 202) requests per second", ceiling, "/s"),
        Figure("walletnet P2P accepted/s ÷ ceiling", ratio(api.p2p.accepted_per_s, ceiling), "x"),
        Figure("load generator CPU during the P2P phase (share of one core)", api.p2p.client_cpu * 100, "%"),
        *_latency_figures(api.latency_low, None),
        *_latency_figures(lat, 50.0),
        *_notification_figures(lat),
        Figure("ATM cash-in events accepted per second", api.cash_in.accepted_per_s, "/s", ">= 500",
               lambda v: v >= 500),
        Figure("ATM cash-in events confirmed on chain per second", api.cash_in.confirmed_per_s, "/s"),
        Figure("merchant QR payments accepted per second", api.merchant.accepted_per_s, "/s", ">= 500",
               lambda v: v >= 500),
        Figure("merchant QR payments confirmed on chain per second", api.merchant.confirmed_per_s, "/s"),
        Figure("peak memory of the paying bank (VmHWM of its node's and its API's processes, summed)",
               api.node_peak_kib / 1024, "MiB"),
        *(Figure(f"reconciliation differences of {bank} after the run (ledger, outbox and index against the chain)",
                 count, "count", "0", lambda v: v == 0) for bank, count in api.differences.items()),
        Figure(f"indexer catch-up over {r.catchup.events:,} events", r.catchup.events_per_s, "events/s",
               ">= 5,000", lambda v: v >= 5_000),
        *_risk_figures(r.risk),
    ]


def _risk_figures(cost: RiskCost | None) -> list[Figure]:
    """The risk engine's added admission cost per P2P payment (bench.risk_cost), p99 against issue 22's 1 ms."""
    if cost is None:
        return []
    return [Figure(f"risk engine: admission cost added per P2P payment, p99 (in process, SQLite, batches of "
                   f"{cost.batch} from {cost.payers} payers)", cost.percentile(99), "ms", "<= 1 ms",
                   lambda v: v <= 1.0)]


def _latency_figures(lat: LatencyResult | None, p99_target_ms: float | None) -> list[Figure]:
    """p50/p95/p99 of one open-loop phase; the target (if any) counts as met only if every request was answered."""
    if lat is None:
        return []
    out = [Figure(f"P2P acceptance latency p{p} at {lat.rate:g} requests/s offered ({lat.accepted} of {lat.sent} "
                  "answered)", lat.percentile(p), "ms") for p in (50, 95)]
    target = p99_target_ms
    out.append(Figure(f"P2P acceptance latency p99 at {lat.rate:g} requests/s offered ({lat.accepted} of "
                      f"{lat.sent} answered)", lat.percentile(99), "ms", "" if target is None else f"<= {target:g} ms",
                      None if target is None else lambda v: v <= target and lat.accepted == lat.sent))
    return out


def _notification_figures(lat: LatencyResult) -> list[Figure]:
    """The delay from a payment's final block to its notification on the payee's stream (bench.notify_delay); the
    1 s goal counts as met only if every completed payment was notified."""
    n = lat.notifications
    if n is None:
        return []
    seen = f"{len(n.delays_ms):,} of {n.payments:,} payments notified"
    return [Figure(f"notification delay p50, a payment's final block to the payee's stream ({seen})",
                   percentile(n.delays_ms, 50), "ms"),
            Figure(f"notification delay p99, a payment's final block to the payee's stream ({seen})",
                   percentile(n.delays_ms, 99), "ms", "<= 1,000 ms",
                   lambda v: v <= 1_000 and len(n.delays_ms) >= n.payments)]


def _fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "— (none answered)"
    if unit == "x":
        return f"{value:.3f}x" if value < 0.1 else f"{value:.2f}x"
    if unit == "%":
        return f"{value:.0f}%"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def render_figures(r: BenchResult) -> str:
    lines = ["| figure | value | target | |", "|---|---:|---|---|"]
    lines += [f"| {f.name} | {_fmt(f.value, f.unit)} | {f.target} | {f.verdict} |" for f in figures(r)]
    return "\n".join(lines)


def _count_row(name: str, sent: int, accepted: int, refused: str, final: dict[str, int],
               seconds: str) -> str:
    others = ", ".join(f"{k} {v}" for k, v in sorted(final.items()) if k not in ("completed", "failed"))
    return (f"| {name} | {sent:,} | {accepted:,} | {refused or '0'} | {final.get('completed', 0):,} | "
            f"{final.get('failed', 0):,}{' (' + others + ')' if others else ''} | {seconds} |")


def _refused(counter: dict[str, int]) -> str:
    return ", ".join(f"{n:,} x {kind}" for kind, n in sorted(counter.items()))


def render_counts(r: BenchResult) -> str:
    """What each phase sent, what was answered, and how it ended on chain (the figures' denominators)."""
    lines = ["| phase | sent | accepted | refused | completed on chain | failed | time (accept / confirm) |",
             "|---|---:|---:|---|---:|---:|---|"]
    for p in (r.api.cash_in, r.api.p2p, r.api.merchant):
        lines.append(_count_row(p.name, p.sent, p.accepted, _refused(p.refused), p.final,
                                f"{p.accept_seconds:.1f} s / {p.confirm_seconds:.1f} s"))
    for lat in (r.api.latency_low, r.api.latency):
        if lat is not None:
            lines.append(_count_row(f"P2P at {lat.rate:g}/s open-loop", lat.sent, lat.accepted,
                                    _refused(lat.refused), lat.final, f"sent over {lat.send_seconds:.1f} s"))
    b = r.api.baseline
    lines.append(f"| naive web3.py baseline | {b.payments:,} | — | — | {b.confirmed:,} | {b.payments - b.confirmed:,} "
                 f"| {b.seconds:.1f} s |")
    c0 = r.ceiling
    lines.append(f"| ceiling (bare endpoint) | {c0.sent:,} | {c0.ok(202):,} | {c0.sent - c0.ok(202):,} | — | — | "
                 f"{c0.seconds:.1f} s |")
    c = r.catchup
    lines.append(f"| indexer catch-up ({c.blocks:,} blocks, {c.rounds} rounds) | {c.target_events:,} events made | "
                 f"— | — | {c.events:,} indexed | — | fill {c.fill_seconds:.1f} s / index {c.index_seconds:.1f} s |")
    return "\n".join(lines)


def render_scale_out(r: BenchResult, cores: int | None = None) -> str:
    """P2P accepted/s on PostgreSQL by the API's worker processes, beside the main run's single-process SQLite."""
    if not r.scale_out:
        return "The runs on PostgreSQL were skipped (`--scale-out-workers` empty)."
    single = r.api.p2p
    lines = ["| database, API processes | P2P accepted/s | confirmed/s | accepted | ÷ 1 worker | reconciliation "
             "differences |", "|---|---:|---:|---:|---:|---|",
             f"| SQLite, 1 (the main run) | {single.accepted_per_s:,.0f} | {single.confirmed_per_s:,.0f} | "
             f"{single.accepted:,} of {single.sent:,} | — | {_differences(r.api.differences)} |"]
    first = r.scale_out[0].p2p.accepted_per_s
    for point in r.scale_out:
        p = point.p2p
        lines.append(f"| PostgreSQL, {point.workers} | {p.accepted_per_s:,.0f} | {p.confirmed_per_s:,.0f} | "
                     f"{p.accepted:,} of {p.sent:,} | {ratio(p.accepted_per_s, first):.2f}x | "
                     f"{_differences(point.differences)} |")
    shared = (f"{cores or os.cpu_count()} cores: the load generator, anvil, both banks' nodes and PostgreSQL "
              "share them with the API's workers.")
    return "\n".join(lines) + "\n\n" + shared


def _differences(by_bank: dict[str, int]) -> str:
    return " / ".join(f"{bank} {n}" for bank, n in sorted(by_bank.items()))


def render_stopped(r: BenchResult) -> str:
    if not r.stopped_threads:
        return "No node thread failed during the run."
    return ("Node threads that failed during the run, stopping their bank's node (writer, indexer and jobs; "
            "its API kept answering):\n\n" + "\n".join(f"- `{line}`" for line in r.stopped_threads))


def _proc_field(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def machine() -> dict[str, str]:
    mem_kib = _proc_field("/proc/meminfo", "MemTotal").split()[0]
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cores": str(os.cpu_count()),
        "RAM": f"{int(mem_kib) / 1024**2:.1f} GiB" if mem_kib.isdigit() else "unknown",
        "CPU": _proc_field("/proc/cpuinfo", "model name"),
        "Python": platform.python_version(),
        "OS": platform.platform(),
        "load average at the start": " / ".join(f"{x:.1f}" for x in load),
    }


def render(r: BenchResult, gas_table: str | None, notes: str, host: dict[str, str] | None = None) -> str:
    host = host or machine()
    s = r.api.sizes
    parts = [
        "# Performance\n",
        f"Made by `make bench` (`{r.command}`) on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
        f"whole run {r.seconds:.0f} s. Figures of one run on the machine below; targets are reported beside "
        "them, never asserted in tests.\n",
        "| machine | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in host.items()) + "\n",
        f"Sizes: {s.payers} self-custody payers at BANKA, {s.payees} payees at BANKB, {s.cash_ins:,} ATM cash-ins, "
        f"{s.p2p:,} P2P payments on {s.concurrency} keep-alive connections, open-loop {s.low_rate:g} requests/s for "
        f"{s.low_rate_seconds:g} s then {s.rate:g} requests/s for {s.latency_seconds:g} s, "
        f"{s.merchant_payments:,} merchant payments, {r.api.baseline.payments:,} baseline payments, "
        f"{r.catchup.target_events:,} events for the indexer.\n",
        "## Figures\n",
        render_figures(r) + "\n",
        "## Counts\n",
        render_counts(r) + "\n",
        render_stopped(r) + "\n",
        "## Scale-out: API worker processes on PostgreSQL\n",
        render_scale_out(r) + "\n",
    ]
    if r.scale is not None:
        parts += ["## Work that grows with the number of wallets\n",
                  "Bulk enrolment through a bank's API, and reconciliation of a bank with many wallets in full and "
                  "incrementally (`python -m bench --only scale`; bench/scale.py says how each is made):\n",
                  render_scale(r.scale) + "\n"]
    if gas_table:
        parts += ["## Gas\n", "From the same `make bench` run (`make gas`, details and notes in [gas.md](gas.md)):\n",
                  gas_table + "\n"]
    parts.append(notes)
    return "\n".join(parts)
