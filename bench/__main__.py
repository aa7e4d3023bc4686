"""``make bench`` / ``python -m bench [--quick] [sizes]``: throughput and latency through the HTTP API of a local
two-bank network (``walletnet up`` in a child process), the naive web3.py baseline on the same chain, and the
indexer's catch-up over a pre-filled chain; prints the tables and writes docs/performance.md (with the gas
table ``make gas`` wrote to docs/gas.md in the same ``make bench``)."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import fields
from pathlib import Path

from bench.api_load import LoadSizes, run_api_load
from bench.ceiling import measure_ceiling
from bench.indexer_catchup import run_catchup
from bench.network import BenchNetwork
from bench.report import BenchResult, render, render_counts, render_figures, render_stopped

ROOT = Path(__file__).resolve().parent.parent

QUICK = {"payers": 5, "payees": 3, "cash_ins": 10, "p2p": 20, "merchant_payments": 10, "rate": 20.0,
         "latency_seconds": 1.0, "concurrency": 4, "baseline": 10, "index_events": 1_000, "ceiling": 2_000}
DEFAULTS = {"baseline": 200, "index_events": 50_000, "ceiling": 20_000}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the bench runs, in about a minute")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--gas-md", type=Path, default=ROOT / "docs" / "gas.md",
                        help="the gas report whose table is copied in (skipped if missing)")
    for f in fields(LoadSizes):
        parser.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=None,
                            help=f"default {f.default}")
    parser.add_argument("--baseline", type=int, default=None, help=f"default {DEFAULTS['baseline']}")
    parser.add_argument("--index-events", type=int, default=None, help=f"default {DEFAULTS['index_events']}")
    parser.add_argument("--ceiling", type=int, default=None,
                        help=f"requests to the bare endpoint, default {DEFAULTS['ceiling']}")
    return parser.parse_args(argv)


def sizes_of(args: argparse.Namespace) -> tuple[LoadSizes, int, int, int]:
    """The load sizes, baseline payments, indexer events and ceiling requests: flags, else --quick's, else the
    defaults."""
    def pick(name: str, default: object) -> object:
        given = getattr(args, name)
        return given if given is not None else QUICK.get(name, default) if args.quick else default

    load = LoadSizes(**{f.name: pick(f.name, f.default) for f in fields(LoadSizes)})  # type: ignore[arg-type]
    counts = (int(pick(name, DEFAULTS[name])) for name in ("baseline", "index_events", "ceiling"))  # type: ignore[call-overload]
    return (load, *counts)  # type: ignore[return-value]


def gas_table(path: Path) -> str | None:
    """The table rows of the gas report, or None if it is missing."""
    if not path.is_file():
        return None
    rows = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    return "\n".join(rows) or None


def run(args: argparse.Namespace, command: str) -> BenchResult:
    load, baseline_payments, index_events, ceiling_requests = sizes_of(args)
    start = time.perf_counter()

    def say(line: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f} s] {line}", flush=True)

    say(f"ceiling: {ceiling_requests:,} requests to a bare FastAPI endpoint in a process of its own")
    ceiling = measure_ceiling(ceiling_requests, load.concurrency)
    say(f"ceiling: {ceiling.per_s(202):,.0f} requests/s (load generator CPU {ceiling.client_cpu_share:.0%} of a core)")

    say("starting the network (walletnet up, two banks) in a child process")
    with BenchNetwork() as net:
        say(f"network up: chain {net.rpc_url}, banks {', '.join(net.banks)}, node pid {net.pid}")
        api = run_api_load(net, load, baseline_payments, say)
        stopped = net.stopped_threads()
        for line in stopped:
            say(f"node thread failed during the run: {line}")
    say(f"indexer catch-up: filling a fresh chain with {index_events:,} events")
    catchup = run_catchup(index_events, say)
    say(f"indexed {catchup.events:,} events in {catchup.index_seconds:.1f} s: {catchup.events_per_s:,.0f}/s")
    return BenchResult(api, catchup, ceiling, command, time.perf_counter() - start, stopped)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    command = "python -m bench" + ("" if argv is None and len(sys.argv) == 1 else
                                   " " + shlex.join(argv if argv is not None else sys.argv[1:]))
    result = run(args, command)
    print("\n" + render_figures(result) + "\n\n" + render_counts(result) + "\n\n" + render_stopped(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(result, gas_table(args.gas_md), NOTES), encoding="utf-8")
    print(f"\nwrote {args.out}")


NOTES = """## How to read the figures

- **The network** is `walletnet up --bank-processes --data-dir <tmp>` in a child process: anvil (automine), the
  contracts, and each bank's node and API in a process of its own, as a bank deploys them on SQLite (API on
  uvicorn with uvloop and httptools; writer, indexer and jobs in threads beside it). BANKA is the paying bank.
- **The load generator** (`bench/loadgen.py`) runs in a process of its own: raw asyncio streams on keep-alive
  connections (64 by default), every request prepared by the SDK's clients (API key or customer session,
  idempotency key, ATM signature), signed and serialised before the clock starts. It reports its own CPU time;
  the share of a core it used is in the table, so a reader sees whether the client was the limit.
- **The ceiling** is the same web stack with nothing behind it (`bench/ceiling.py`: a FastAPI endpoint that
  validates a transfer-shaped body strictly and answers 202, on uvicorn with uvloop and httptools, in a
  process of its own), measured in the same run by the same generator. walletnet's P2P figure is reported as a
  ratio to it.
- **Accepted per second**: requests answered 2xx divided by the time from the first send to the last answer
  (closed loop: each connection sends its next request when the previous one is answered). **Confirmed per
  second**: operations `completed` (their transaction mined with the node's confirmations, as the bank's
  database says) divided by the time from the first send until the last one became final. P2P payments are
  relayed by the node in batches of up to 100 (`relayTransfers`); ATM cash-ins are one mint each; merchant
  payments are customer-presented QR codes relayed by the shop's acquirer (BANKB) for payers at BANKA.
- **Latency** is open-loop: request *i* is due at *t0 + i / rate* whether or not earlier ones were answered,
  and its latency counts from when it was due to its answer, so queueing anywhere counts. Percentiles are
  nearest-rank over accepted requests; refusals are in the counts table, and the p99 target counts as not met
  if any request was refused.
- **Peak memory** is VmHWM of BANKA's process (its node and API; anvil is its own process and not counted).
- **Naive baseline**: the same kind of payment with plain web3.py, one `transferWithAuthorization`
  transaction per payment submitted by one funded account, waiting for each receipt, on the same anvil. With
  automine the receipt exists as soon as the transaction is sent, so this is the naive approach's best case; on a
  chain with real block times it would wait a block per payment.
- **Indexer catch-up**: a fresh anvil, the contracts, wallets opened in batches, one mint each and batches of
  100 relayed transfers, then the node's indexer (network scope, confirmations 1, rounds of up to 1,000 blocks
  or 5,000 events) indexes it from the deployment block into a fresh SQLite database.
- The machine table's load average says how busy the 2 cores already were: other work shared them during the
  run, so the figures are lower than on an idle machine.

## Targets not met, and why

The API figures are tens of times below their targets; the indexer is close to its own. What profiles of the node
process (py-spy, cProfile) showed:

1. **On SQLite a bank serves one payment at a time.** A request's session begins `BEGIN IMMEDIATE` at its first
   query (the payer's record) and keeps the database's write lock until it commits. In a py-spy profile of the
   P2P phase (8 requests in flight), about 80% of the request threads' samples were waiting in that `BEGIN`;
   the bank's writer, indexer and jobs wait for the same lock. Accepted/s is about one over the time a request
   holds the lock.
2. **Most of that time is chain reads**, about eight per P2P request: the payer's and the payee's registration,
   the chain time, the relay nonce bit, the balance, the limit class and its limits, the remaining daily
   allowance. Each is one `eth_call` (`wallet_sdk.chain.calls.fast_call`, about 1.5 ms on a local anvil). web3's
   own call path took about 4 ms a read; in back-to-back runs of this bench (two each, on this noisy machine),
   moving off it raised P2P acceptance from about 16 to about 21 per second and ATM cash-ins from about 19 to
   about 27. Merchant payments and ATM cash-ins make the same kind of checks.
3. **Everything of both banks runs in one Python process** (`walletnet up`): two APIs (40 worker threads each),
   two writers, two indexers and two job loops (idle polls every 0.5 s, woken by work), under one GIL, on 2 cores
   shared with anvil and the load generator.
4. **At 200 requests/s the burst is served one write at a time.** The API lets 32 requests in at once and
   keeps more worker threads than that (api/admission.py); the others wait their turn, so every request is
   answered, but the last ones only after the others' turns: p99 is about the time to accept the whole burst
   one after the other (point 1).
5. Batching does its part on chain: a relay batch of 100 costs far less gas per payment than one transaction per
   payment ([gas.md](gas.md)). But the node relays only what the API accepted, so confirmed/s is bounded by
   accepted/s, which points 1-4 bound. The naive baseline is at its best here (automine: each receipt exists
   as soon as the transaction is sent); with real block times it would wait a block per payment.
6. **Indexer**: it now decodes the node's raw logs itself, writes a round's history in one INSERT and reads the
   block times in JSON-RPC batches (about 6x faster than web3's formatted logs and one ORM object per row). In a
   profile of a catch-up, what is left is spread over decoding the logs, the projection's per-event Python
   work and SQLite's inserts, about a third each.

What would move the API figures (not done here): read a request's chain state before taking the write lock (at one
block, re-checked under it), or in one call (a JSON-RPC batch, or one view function returning every check);
PostgreSQL for the bank node, whose row locks let requests of different wallets run side by side; several API
worker processes.
"""

if __name__ == "__main__":
    main()
