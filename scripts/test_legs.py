"""Run the whole test suite as independent pytest "legs", side by side (`make test` calls this).

Each leg is its own pytest process with its own anvil, PostgreSQL cluster and bank nodes, so legs never share
state. On a 2-core machine many tests wait on a chain, a database or a poll interval, so legs side by side
take far less wall time than one long run. A leg's output goes to ``.test-logs/<leg>.log`` and is printed in
full when the leg ends; the run fails if any leg fails or collects no tests.

    python scripts/test_legs.py              # the default legs (what `make test` and CI run)
    python scripts/test_legs.py --jobs 1     # one after the other
    python scripts/test_legs.py ganache      # only these legs (`make test-ganache`)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / ".test-logs"


@dataclass(frozen=True)
class Leg:
    name: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    about: str = ""
    default: bool = True  # run when no leg is named


# Longest first: the scheduler starts legs in this order.
LEGS = (
    Leg("flows", ("tests/api",), about="the API and the two-bank flow tests"),
    Leg("rest", ("tests", "--ignore=tests/api"), about="contracts, SDK, node, toolchain, benchmarks"),
    # tests/conftest.py keeps only the tests that use the chain; the others ran in "rest" already.
    Leg("ganache", ("tests/contracts", "tests/sdk"), {"WALLETNET_TEST_CHAIN": "ganache"},
        about="the contract and SDK tests on ganache, so nothing relies on anvil-only behaviour"),
)


@dataclass
class Running:
    leg: Leg
    process: subprocess.Popen[bytes]
    log: Path
    started: float


def _start(leg: Leg, pytest: str, extra: list[str]) -> Running:
    LOG_DIR.mkdir(exist_ok=True)
    log = LOG_DIR / f"{leg.name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([pytest, *leg.args, "--durations=15", *extra], cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env={**os.environ, **leg.env})
    print(f"[{leg.name}] started: pytest {' '.join(leg.args)}", flush=True)
    return Running(leg, process, log, time.monotonic())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    others = [leg.name for leg in LEGS if not leg.default]
    parser.add_argument("legs", nargs="*", help="legs to run (default: "
                        f"{', '.join(leg.name for leg in LEGS if leg.default)}"
                        f"{'; also: ' + ', '.join(others) if others else ''})")
    parser.add_argument("--jobs", type=int, default=3, help="legs run at the same time (default 3: all)")
    parser.add_argument("--pytest", default=str(Path(sys.executable).with_name("pytest")))
    options, extra = parser.parse_known_args(argv)
    unknown = set(options.legs) - {leg.name for leg in LEGS}
    if unknown:
        parser.error(f"unknown leg(s): {', '.join(sorted(unknown))}")
    waiting = [leg for leg in LEGS if leg.name in options.legs or (not options.legs and leg.default)]
    running: list[Running] = []
    results: list[tuple[str, int, float]] = []
    begin = time.monotonic()
    while waiting or running:
        while waiting and len(running) < max(1, options.jobs):
            running.append(_start(waiting.pop(0), options.pytest, extra))
        time.sleep(0.5)
        for done in [r for r in running if r.process.poll() is not None]:
            running.remove(done)
            rc, secs = done.process.returncode, time.monotonic() - done.started
            print(f"\n===== [{done.leg.name}] pytest {' '.join(done.leg.args)}: exit {rc} in {secs:.0f} s =====",
                  flush=True)
            sys.stdout.buffer.write(done.log.read_bytes())
            if rc == 5:
                print(f"[{done.leg.name}] pytest collected no tests", flush=True)
            results.append((done.leg.name, rc, secs))
    print(f"\n{'leg':<10} {'exit':>4} {'seconds':>8}")
    for name, rc, secs in results:
        print(f"{name:<10} {rc:>4} {secs:>8.0f}")
    print(f"all legs: {time.monotonic() - begin:.0f} s wall time", flush=True)
    return 0 if all(rc == 0 for _, rc, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
