"""The idle wait of the node's polling loops, which a hint of new work cuts short.

A loop that found nothing to do waits ``poll_interval`` before looking again. When the API runs in the node's
process, it rings the writer's ``wake`` event on each commit, and the writer rings the indexer and the jobs
when a transaction is final: work flows through at once while the loops poll rarely when idle. A node in its
own process (``walletnet node run``) has no one ringing and relies on polling alone.
"""

from __future__ import annotations

import threading

__all__ = ["wait_for_work"]


def wait_for_work(stop: threading.Event, wake: threading.Event | None, seconds: float) -> None:
    """Wait up to ``seconds``; less if ``wake`` is set (and clear it). Without ``wake``, until ``stop`` is set.
    Whoever sets ``stop`` for a loop with a ``wake`` event sets that event too."""
    if wake is None:
        stop.wait(seconds)
    else:
        wake.wait(seconds)
        wake.clear()
