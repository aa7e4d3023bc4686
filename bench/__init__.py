"""The benchmarks of ``make bench`` (``python -m bench``) and ``make gas`` (``python -m bench.gas``)."""

from __future__ import annotations


def ratio(part: float, whole: float) -> float:
    """``part / whole``, or 0.0 when ``whole`` is 0 (a rate of a phase that took no measurable time, a share of
    nothing): a table shows 0 rather than failing."""
    return part / whole if whole else 0.0
