"""JSON-RPC requests answered as the node's raw JSON: web3's provider and web3's check of the answer (an error
raises as web3 raises it), without web3's result formatting, which costs more than the request for logs, blocks,
receipts and call results that the caller reads a field or two of."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.types import RPCEndpoint

__all__ = ["raw_batch", "raw_request"]


def raw_request(w3: Web3, method: str, params: list[Any],
                error_formatter: Callable[..., Any] | None = None) -> Any:
    """The ``result`` of ``method(params)`` as the node sent it; the node's error raised by web3
    (``error_formatter`` first, as web3 passes one for some methods)."""
    return w3.manager.formatted_response(w3.provider.make_request(RPCEndpoint(method), params), params,
                                         error_formatter)


def raw_batch(w3: Web3, requests: Sequence[tuple[str, list[Any]]]) -> list[Any]:
    """The ``result`` of each ``(method, params)``, in order, asked for in ONE JSON-RPC batch (one HTTP round trip,
    one answer to parse): what makes reading many wallets cost the node's work rather than the client's. The first
    error in the answers raises as :func:`raw_request` would raise it."""
    if not requests:
        return []
    batch = getattr(w3.provider, "make_batch_request", None)  # every JSON-RPC provider of web3 has it
    calls = [(RPCEndpoint(method), params) for method, params in requests]
    answers = batch(calls) if batch else [w3.provider.make_request(*call) for call in calls]
    if not isinstance(answers, list) or len(answers) != len(calls):  # the node refused the batch as a whole
        if not isinstance(answers, list):
            w3.manager.formatted_response(answers, [])  # raises the node's error, if it sent one
        raise Web3RPCError(f"unexpected answer to a batch of {len(calls)} requests: {str(answers)[:200]}")
    results = []
    for (_, params), answer in zip(calls, answers, strict=True):
        if "error" in answer or "result" not in answer:
            w3.manager.formatted_response(answer, params)
        results.append(answer.get("result"))
    return results
