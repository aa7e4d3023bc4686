"""What the risk engine adds to a P2P payment's admission (issue 22: <= 1 ms p99), measured in process on a fresh
SQLite database the way the P2P lane uses it (node.transfers.lane): per batch, the payers' risk state read once
(:class:`node.risk.state.RiskView`), each payment judged by the default rules in memory and counted, the changed
state written once in the batch's transaction. A payment's cost is its own check plus its share of the batch's
read and write. The bench's shape: a few self-custody payers paying many payees, as `make bench` sends them.

``python -m bench --only risk`` prints it alone (seconds).
"""

from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from node.db import create_engine, upgrade
from node.db.durable import unit_of_work, work_sessions
from node.risk.engine import Payment
from node.risk.state import RiskView, forget_rules
from node.settings import load_settings

__all__ = ["RiskCost", "measure_risk_cost", "render_risk_cost"]


@dataclass(frozen=True)
class RiskCost:
    payments: int
    batch: int
    payers: int
    costs_ms: list[float]  # each payment's added cost

    def percentile(self, p: float) -> float:
        ordered = sorted(self.costs_ms)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def _address() -> str:
    return "0x" + secrets.token_hex(20)


def measure_risk_cost(*, batches: int = 60, batch: int = 64, payers: int = 8, warm_up: int = 5) -> RiskCost:
    """``batches`` measured after ``warm_up`` (a running node has compiled its statements and loaded its rules)."""
    with tempfile.TemporaryDirectory(prefix="walletnet-risk-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'node.sqlite3'}"
        engine = create_engine(url)
        try:
            upgrade(engine)
            settings = load_settings(db_url=url, data_dir=Path(tmp))
            forget_rules()
            sessions = work_sessions(engine)
            wallets = [_address() for _ in range(payers)]
            opened = datetime(2026, 1, 1, tzinfo=UTC)
            now = int(time.time())
            costs: list[float] = []
            for n in range(warm_up + batches):
                with unit_of_work(sessions) as session:
                    targets = [_address() for _ in range(batch)]
                    started = time.perf_counter()
                    view = RiskView(session, settings, wallets, targets)
                    shared = time.perf_counter() - started
                    own: list[float] = []
                    for i, payee in enumerate(targets):
                        tick = time.perf_counter()
                        payment = Payment("p2p", wallets[i % payers], payee, 1 + i % 9, "app", "customer",
                                          now + n)
                        profile, verdict = view.evaluate(payment, opened_at=opened, changed_at=opened,
                                                         daily_limit=10_000_000)
                        if verdict.allowed:
                            view.record(payment, profile)
                        own.append(time.perf_counter() - tick)
                    tick = time.perf_counter()
                    view.write(session)
                    shared += time.perf_counter() - tick
                if n >= warm_up:
                    costs += [(c + shared / batch) * 1000 for c in own]
            return RiskCost(len(costs), batch, payers, costs)
        finally:
            engine.dispose()


def render_risk_cost(cost: RiskCost) -> str:
    return (f"| risk engine: admission cost added per P2P payment (in process, SQLite, {cost.payments:,} payments in "
            f"batches of {cost.batch} from {cost.payers} payers), p50 / p99 | {cost.percentile(50):.3f} / "
            f"{cost.percentile(99):.3f} ms | p99 <= 1 ms | {'met' if cost.percentile(99) <= 1.0 else 'NOT met'} |")
