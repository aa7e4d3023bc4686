"""The bench's risk figure (bench.risk_cost): measured on a fresh database at tiny sizes, rendered against 1 ms."""

from __future__ import annotations

from bench.risk_cost import measure_risk_cost, render_risk_cost


def test_the_risk_cost_is_measured_per_payment_and_rendered() -> None:
    cost = measure_risk_cost(batches=4, batch=16, payers=2, warm_up=1)
    assert cost.payments == len(cost.costs_ms) == 64
    assert all(c > 0 for c in cost.costs_ms)
    assert cost.percentile(50) <= cost.percentile(99) == sorted(cost.costs_ms)[63]
    assert "p99 <= 1 ms" in render_risk_cost(cost)
