"""One JSON-RPC request answered as the node's raw JSON: web3's provider and web3's check of the answer (an error
raises as web3 raises it), without web3's result formatting, which costs more than the request for logs, blocks,
receipts and call results that the caller reads a field or two of."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

__all__ = ["raw_request"]


def raw_request(w3: Web3, method: str, params: list[Any],
                error_formatter: Callable[..., Any] | None = None) -> Any:
    """The ``result`` of ``method(params)`` as the node sent it; the node's error raised by web3
    (``error_formatter`` first, as web3 passes one for some methods)."""
    return w3.manager.formatted_response(w3.provider.make_request(RPCEndpoint(method), params), params,
                                         error_formatter)
