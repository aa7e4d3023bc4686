"""What ``/metrics`` exports: the process's own metrics (node/instruments.py, the API's request histogram) beside
the bank's state read from the database at scrape time (:class:`VitalsCollector`, node/vitals.py).

:func:`metrics_registry` builds the registry a scrape reads. With ``PROMETHEUS_MULTIPROC_DIR`` set (several uvicorn
workers; prometheus-client's multiprocess mode), the process-local part is every worker's files added up;
otherwise it is this process's default registry. The database part is read once per scrape whichever worker
answers, so it is the same in every process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Final

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from node.db.base import utcnow
from node.operations.models import IN_FLIGHT, OperationKind
from node.reconcile.report import DifferenceKind
from node.vitals import OUTBOX_WAITING, DatabaseVitals, indexer_lag, read_database
from wallet_sdk.chain.network import Network

__all__ = ["MULTIPROC_ENV", "VitalsCollector", "metrics_registry"]

log = logging.getLogger("walletnet.metrics")

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"


class _ProcessLocal(Collector):
    """This process's default registry (its own histograms, and the process and GC collectors)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


class VitalsCollector(Collector):
    """The bank's state at scrape time: operations and outbox rows not final, the writer's transactions in flight,
    the indexer's lag (needs ``network``), the newest reconciliation, who holds each background role and since
    when it last said so, and the roles this process holds."""

    def __init__(self, sessions: sessionmaker[Session], *, network: Callable[[], Network] | None = None,
                 confirmations: int = 1, held_roles: Callable[[], Iterable[str]] = frozenset) -> None:
        self.sessions = sessions
        self.network = network
        self.confirmations = confirmations
        self.held_roles = held_roles

    def collect(self) -> Iterator[Metric]:
        try:
            with self.sessions() as session:
                vitals: DatabaseVitals | None = read_database(session)
        except SQLAlchemyError as exc:
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            vitals = None
        yield _gauge("walletnet_database_up", "1 if the node's database answered this scrape", vitals is not None)
        yield _roles(frozenset(self.held_roles()))
        if vitals is None:
            return
        yield from _database_metrics(vitals, utcnow())
        if self.network is not None:
            yield from self._lag(vitals)

    def _lag(self, vitals: DatabaseVitals) -> Iterator[Metric]:
        try:
            lag = indexer_lag(vitals.checkpoint, self.network, self.confirmations)  # type: ignore[arg-type]
        except Exception as exc:  # any failure means the chain did not answer; the kind is enough
            log.warning("metrics: the chain did not answer (%s)", type(exc).__name__)
            yield _gauge("walletnet_chain_up", "1 if the chain node answered this scrape", 0)
            return
        yield _gauge("walletnet_chain_up", "1 if the chain node answered this scrape", 1)
        yield _gauge("walletnet_chain_confirmed_head_block", "Newest block with enough confirmations", lag.head)
        yield _gauge("walletnet_indexer_lag_blocks", "Confirmed blocks the indexer has not applied yet", lag.blocks)
        yield _gauge("walletnet_indexer_lag_seconds", "Chain time between the indexer's checkpoint block and the "
                     "newest confirmed block", lag.seconds)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def _labelled(name: str, documentation: str, label: str, values: dict[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in values.items():
        family.add_metric([key], float(value))
    return family


def _roles(held: frozenset[str]) -> GaugeMetricFamily:
    family = GaugeMetricFamily("walletnet_role_held", "1 for each role this process holds", labels=["role"])
    for role in sorted(held):
        family.add_metric([role], 1.0)
    return family


def _database_metrics(vitals: DatabaseVitals, now: datetime) -> Iterator[Metric]:
    operations = GaugeMetricFamily("walletnet_operations_open", "Operations not final yet, by kind and state",
                                   labels=["kind", "state"])
    for kind in OperationKind:
        for status in IN_FLIGHT:
            operations.add_metric([kind.value, status.value], float(vitals.operations.get((kind.value, status.value),
                                                                                          0)))
    yield operations
    yield _labelled("walletnet_outbox_depth", "Outbox rows waiting, by state", "state",
                    {s.value: vitals.outbox[s.value].depth for s in OUTBOX_WAITING})
    yield _labelled("walletnet_outbox_oldest_age_seconds", "Age of the oldest outbox row waiting, by state (0: none)",
                    "state", {s.value: vitals.outbox[s.value].oldest_age or 0.0 for s in OUTBOX_WAITING})
    yield _gauge("walletnet_writer_transactions_in_flight", "Chain transactions signed and not final yet",
                 vitals.transactions.depth)
    yield _gauge("walletnet_writer_oldest_in_flight_age_seconds", "Age of the oldest chain transaction not final "
                 "(0: none)", vitals.transactions.oldest_age or 0.0)
    if vitals.checkpoint is not None:
        yield _gauge("walletnet_indexer_checkpoint_block", "Block of the indexer's checkpoint",
                     vitals.checkpoint.block)
    heartbeat = GaugeMetricFamily("walletnet_role_heartbeat_age_seconds", "Seconds since the holder of each "
                                  "background role last said it holds it (no sample: nobody holds it)",
                                  labels=["role"])
    holders = GaugeMetricFamily("walletnet_role_holder_info", "1 for the process (host:pid) holding each "
                                "background role", labels=["role", "holder"])
    for role, holder in vitals.roles.items():
        if holder is not None:
            heartbeat.add_metric([role.value], max(holder.silent_for(now).total_seconds(), 0.0))
            holders.add_metric([role.value, holder.holder], 1.0)
    yield heartbeat
    yield holders
    run = vitals.reconciliation
    if run is not None:
        yield _labelled("walletnet_reconciliation_differences", "Differences the newest reconciliation found, by "
                        "kind", "kind", {k.value: int(run.by_kind.get(k.value, 0)) for k in DifferenceKind})
        yield _gauge("walletnet_reconciliation_last_run_timestamp_seconds", "When the newest reconciliation "
                     "finished (Unix seconds)", run.finished_at.timestamp())
        yield _gauge("walletnet_reconciliation_chain_block", "Block the newest reconciliation read the chain at",
                     run.chain_block)


def metrics_registry(*collectors: Collector) -> CollectorRegistry:
    """A registry of the process-local metrics (every worker's, in multiprocess mode) and ``collectors``."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)
    else:
        registry.register(_ProcessLocal())
    for collector in collectors:
        registry.register(collector)
    return registry
