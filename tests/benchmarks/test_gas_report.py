"""The gas bench runs end to end and reports every operation the contracts issue asks for.

Targets are reported in docs/gas.md, never asserted here; this only keeps the bench from rotting.
"""

from __future__ import annotations

from pathlib import Path

from bench.gas import Bench, measure, render
from tools.devnet import Devnet

EXPECTED = [
    "mint (to an empty wallet)", "mint (steady state)", "mintBatch of 10, steady state (per mint)",
    "transfer to a fresh wallet (zero balance)",
    "transfer between existing wallets (steady state)", "transferWithAuthorization",
    "relay batch of 1, steady state (per payment)", "relay batch of 10, steady state (per payment)",
    "relay batch of 100, steady state (per payment)", "placeHold (ATM cash-out authorisation)",
    "captureHold (burn after dispense)", "redeemWithAuthorization (burn to bank account)",
    "pay (merchant QR payment, steady state)", "refund (partial)",
    "settle (net to the merchant's wallet, fee to the acquirer)",
]


def test_gas_bench_measures_every_operation(tmp_path: Path) -> None:
    with Devnet(accounts=12) as devnet:
        rows = measure(Bench(devnet))
    by_name = {r.operation: r for r in rows}
    for name in EXPECTED:
        assert name in by_name, f"gas report lacks {name!r}"
    for row in rows:
        assert row.walletnet is not None and row.walletnet > 0
    # the plain ERC20 baseline is measured beside the token in the same run
    assert by_name["transfer between existing wallets (steady state)"].plain is not None
    # batching shares the 21,000 base cost: per-payment gas falls as the batch grows
    per = [by_name[f"relay batch of {n}, steady state (per payment)"].walletnet for n in (1, 10, 100)]
    assert per[0] > per[1] > per[2]  # type: ignore[operator]
    table = render(rows)
    assert table.count("\n") == len(rows) + 1
