"""The exactly-once chain writer: outbox rows become on-chain effects, each once (see chain_writer).

``ChainWriter(sessions, network, operator_account).run()`` is the loop; kinds of outbox rows are pluggable
(:func:`register_kind`); the writer's tables are in :mod:`node.writer.models`.
"""

from node.writer.chain_writer import ChainWriter, WriterConfig, WriterRound, WriterStep, writer_web3
from node.writer.kinds import (
    KINDS,
    InvalidPayloadError,
    OutboxKind,
    WriterContext,
    hold_payload,
    redeem_payload,
    register_kind,
    relay_item,
    relay_payload,
)
from node.writer.models import ChainTransaction, ChainTxAttempt, ChainTxRow, ChainTxState

__all__ = [
    "KINDS",
    "ChainTransaction",
    "ChainTxAttempt",
    "ChainTxRow",
    "ChainTxState",
    "ChainWriter",
    "InvalidPayloadError",
    "OutboxKind",
    "WriterConfig",
    "WriterContext",
    "WriterRound",
    "WriterStep",
    "hold_payload",
    "redeem_payload",
    "register_kind",
    "relay_item",
    "relay_payload",
    "writer_web3",
]
