"""`make bench` at tiny sizes: the load reaches the running network and every accepted request ends on chain,
the baseline and the indexer catch-up count what they did, and the report has every row.

Figures are reported by the bench, never asserted here (no timing assertions); this keeps the bench from
rotting."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

import pytest

from bench.__main__ import QUICK, QUICK_SCALE, parse_args, scale_sizes_of, sizes_of
from bench.api_load import LatencyResult, LoadSizes, PhaseResult, percentile, run_api_load
from bench.ceiling import measure_ceiling
from bench.indexer_catchup import run_catchup
from bench.network import BenchNetwork
from bench.report import BenchResult, figures, render, render_scale_out
from bench.scale import ScaleSizes, render_scale, run_scale
from bench.scale_out import run_scale_out
from bench.signing import Signer
from wallet_sdk.authorizations import Domain, MerchantPayment, RelayedTransfer, merchant_id, order_id, relay_nonce
from wallet_sdk.keys import WalletKey

TINY = LoadSizes(payers=2, payees=1, cash_ins=2, p2p=4, merchant_payments=2, rate=10.0, latency_seconds=0.3,
                 low_rate=5.0, low_rate_seconds=0.4, concurrency=2)


def _all_confirmed(phase: PhaseResult) -> None:
    assert phase.accepted + sum(phase.refused.values()) == phase.sent, phase
    assert phase.accepted == phase.sent, f"{phase.name}: refused {dict(phase.refused)}"
    assert phase.final == {"completed": phase.sent}, f"{phase.name}: {dict(phase.final)}"
    assert phase.confirmed_per_s > 0 and phase.confirm_seconds >= phase.accept_seconds


@pytest.mark.timeout(900)  # three networks (SQLite, PostgreSQL) and two chains, on a busy 2-core machine
def test_the_bench_runs_end_to_end_at_tiny_sizes() -> None:
    with BenchNetwork() as net:
        bank = net.info["banks"]["BANKA"]
        assert bank["pid"] != bank["node_pid"]  # as deployed: the API and the node in processes of their own
        api = run_api_load(net, TINY, baseline_payments=2)
    for phase in (api.cash_in, api.p2p, api.merchant):
        _all_confirmed(phase)
    assert (api.cash_in.sent, api.p2p.sent, api.merchant.sent) == (2, 4, 2)
    assert api.latency_low is not None
    for lat, sent in ((api.latency_low, 2), (api.latency, 3)):
        assert lat.sent == sent and lat.accepted == sent and len(lat.latencies_ms) == sent and not lat.refused
        assert lat.final == {"completed": sent}
        assert 0 < lat.percentile(50) <= lat.percentile(99) == max(lat.latencies_ms)
    assert api.latency_low.notifications is None  # the payees' streams are followed at the target's rate only
    notified = api.latency.notifications
    assert notified is not None and notified.payments == 3
    assert notified.received == len(notified.delays_ms) == 3  # each payee told once, each after its block
    assert all(delay > 0 for delay in notified.delays_ms)
    assert api.node_peak_kib > 20_000  # two Python processes (a node, an API) hold more than 10 MiB each
    assert api.differences == {"BANKA": 0, "BANKB": 0}  # reconciled after the run: every effect once, books agree
    assert (api.baseline.payments, api.baseline.confirmed) == (2, 2) and api.baseline.per_s > 0

    catchup = run_catchup(300)
    assert catchup.events >= catchup.target_events == 300  # the deployment's own events come on top
    assert catchup.blocks > 0 and catchup.rounds >= 1

    ceiling = measure_ceiling(200, 4)
    assert ceiling.statuses == {202: 200} and not ceiling.errors and ceiling.seconds > 0
    assert ceiling.client_cpu_seconds > 0 and len(ceiling.answered_latencies_ms) == 200

    (point,) = run_scale_out(TINY, [2])  # the same payments on PostgreSQL, the API as two worker processes
    assert point.workers == 2 and point.p2p.sent == TINY.p2p
    _all_confirmed(point.p2p)
    assert point.differences == {"BANKA": 0, "BANKB": 0}

    result = BenchResult(api, catchup, ceiling, "python -m bench --quick", scale_out=[point])
    text = render(result, "| gas | row |", notes="## Notes\n")
    assert "| SQLite, 1 (the main run) |" in render_scale_out(result, cores=2)
    assert f"| {TINY.p2p:,} of {TINY.p2p:,} | 1.00x | BANKA 0 / BANKB 0 |" in text  # the PostgreSQL row
    assert "2 cores: the load generator" in render_scale_out(result, cores=2)
    for figure in figures(result):
        assert f"| {figure.name} |" in text
    for row in ("| ATM cash-in |", "| P2P payments |", "| merchant QR payments |", "| P2P at 5/s open-loop |",
                "| P2P at 10/s open-loop |",
                "| naive web3.py baseline |", "| ceiling (bare endpoint) | 200 | 200 | 0 |", "| indexer catch-up",
                "| cores |", "| gas | row |", "## Scale-out: API worker processes on PostgreSQL", "| PostgreSQL, 2 |"):
        assert row in text

    # a phase where nothing was answered renders as such and misses its target
    unanswered = LatencyResult(200.0, 5, 0, Counter({"no answer within 30 s": 5}), 0.1, [], Counter())
    text = render(replace(result, api=replace(api, latency=unanswered)), None, notes="")
    assert "— (none answered) | <= 50 ms | **not met** |" in text
    assert "| 5 x no answer within 30 s |" in text


def test_the_bench_signer_signs_as_the_sdk() -> None:
    key, other = WalletKey.create(), WalletKey.create()
    domain = Domain(name="DigitalCash", version="1", chain_id=31337, verifying_contract="0x" + "11" * 20)
    signer = Signer(domain)
    transfer = RelayedTransfer(from_=key.address, to=other.address, value=7, valid_before=2**40,
                               nonce=relay_nonce(3, 9))
    sdk = transfer.sign(key, domain)
    assert signer.sign(key, transfer) == sdk
    assert signer.relay_item(key, str(other.address), 7, 2**40, relay_nonce(3, 9))[5:] == (sdk.v, sdk.r, sdk.s)
    payment = MerchantPayment(acquirer=merchant_id("BANKB"), merchant_id=merchant_id("S"), order_id=order_id("O"),
                              payer=key.address, amount=5, valid_before=2**40, settlement=str(other.address))
    assert signer.sign(key, payment) == payment.sign(key, domain)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, p) for p in (50, 95, 99, 100)] == [50.0, 95.0, 99.0, 100.0]
    assert math.isnan(percentile([], 99))  # nothing answered: no figure, rendered as such
    assert percentile([3.0], 50) == 3.0


def test_quick_sizes_and_flags_over_them() -> None:
    load, baseline, events, ceiling = sizes_of(parse_args(["--quick"]))
    assert (load.payers, load.p2p, load.rate, baseline, events, ceiling) == (
        QUICK["payers"], QUICK["p2p"], QUICK["rate"], QUICK["baseline"], QUICK["index_events"], QUICK["ceiling"])
    assert load.low_rate == LoadSizes().low_rate  # not a quick size: the default
    load, baseline, _, ceiling = sizes_of(parse_args(["--quick", "--rate", "200", "--baseline", "3", "--ceiling", "9"]))
    assert (load.rate, load.payers, baseline, ceiling) == (200.0, QUICK["payers"], 3, 9)
    assert sizes_of(parse_args([]))[0] == LoadSizes()


def test_the_scale_phase_enrols_and_reconciles_a_bank_with_no_difference() -> None:
    result = run_scale(ScaleSizes(enrol=300, wallets=600, payments=200, payers=4))
    assert result.enrolled == 300  # every opening completed on chain
    assert result.full.ok and result.full.checked["wallets"] == 600 and result.full.checked["refs"] == 4
    assert result.incremental.ok  # the payments moved money: every touched wallet agrees with the index
    touched = result.incremental.checked["wallets"]
    assert 4 < touched <= 4 + 200 < result.full.checked["wallets"]  # the payers and their payees, no other
    text = render_scale(result)
    for row in ("| bulk enrolment through the API", "| full reconciliation of 600 wallets |",
                "| incremental reconciliation after 200 payments",
                "| reconciliation differences (full, incremental) | 0, 0"):
        assert row in text


def test_the_scale_phase_runs_alone_at_its_sizes() -> None:
    args = parse_args(["--only", "scale", "--scale-wallets", "5000"])
    assert args.only == "scale"
    assert scale_sizes_of(args) == ScaleSizes(wallets=5_000)
    assert scale_sizes_of(parse_args(["--quick"])) == QUICK_SCALE
