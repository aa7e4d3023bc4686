"""The node's process-local metrics (prometheus-client): what only the process doing the work sees.

Everything the database knows (operations, outbox, transactions in flight, indexer lag) is read at scrape time
instead (node/metrics.py), so that every process shows the bank-wide truth. What is here is observed where it
happens: the writer's batch sizes. With ``PROMETHEUS_MULTIPROC_DIR`` set in the environment before the process
starts, prometheus-client keeps these in files shared by the processes of one server (several uvicorn workers),
and ``/metrics`` adds them up (api/metrics.py).
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Histogram

__all__ = ["WRITER_BATCH_ITEMS", "WRITER_BATCH_ROWS"]

_BATCH_BUCKETS: Final = (1, 2, 5, 10, 20, 50, 100, 200, 500)

WRITER_BATCH_ROWS: Final = Histogram(
    "walletnet_writer_batch_rows", "Outbox rows in each transaction the chain writer signs, by kind",
    ["kind"], buckets=_BATCH_BUCKETS)
WRITER_BATCH_ITEMS: Final = Histogram(
    "walletnet_writer_batch_items", "Contract call items (e.g. relayed transfers) in each transaction the chain "
    "writer signs, by kind", ["kind"], buckets=_BATCH_BUCKETS)
