"""The node's log lines: one JSON object per line for machines, or the text format for people.

What a line is about travels in context variables, set where it is known: the API's request middleware sets the
request id (api/metrics.py), authentication the API key id (api/auth.py), the chain writer the transaction hash
and the operations of the rows it sends or confirms (node/writer/chain_writer.py). :class:`JsonFormatter` adds
the ones set to every line, so a log line carries them without each call site passing them.

Secrets are never logged: nothing here reads a request's headers or body, the fields are ids only, and as a last
guard anything shaped like an API key or a customer session token (``wn_...``, ``wnc_...``) in a message or a
traceback is masked before the line is written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final, Literal

__all__ = ["API_KEY_ID", "OPERATION_IDS", "REQUEST_ID", "TX_HASH", "JsonFormatter", "LogFormat", "bound",
           "configure_logging", "mask_secrets", "remove_logging"]

LogFormat = Literal["json", "text"]
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"

REQUEST_ID: contextvars.ContextVar[str | int | None] = contextvars.ContextVar("walletnet_request_id", default=None)
"""The request's id: the client's ``X-Request-Id``, or a number of this process's own (formatted when logged)."""
API_KEY_ID: contextvars.ContextVar[int | None] = contextvars.ContextVar("walletnet_api_key_id", default=None)
OPERATION_IDS: contextvars.ContextVar[Sequence[str] | None] = contextvars.ContextVar(
    "walletnet_operation_ids", default=None)
TX_HASH: contextvars.ContextVar[str | None] = contextvars.ContextVar("walletnet_tx_hash", default=None)

_SECRET: Final = re.compile(r"\bwnc?_[A-Za-z0-9_-]{16,}")
_PROCESS: Final = f"{os.getpid():x}"


def mask_secrets(text: str) -> str:
    """``text`` with anything shaped like an API key or session token masked (a last guard, not the policy)."""
    return _SECRET.sub("wn_[masked]", text) if "wn" in text else text


@contextmanager
def bound(*, tx_hash: str | None = None, operation_ids: Sequence[str] | None = None) -> Iterator[None]:
    """Log lines inside the block carry ``tx_hash`` and ``operation_ids`` (the writer's rows)."""
    tokens = (TX_HASH.set(tx_hash), OPERATION_IDS.set(list(operation_ids) if operation_ids else None))
    try:
        yield
    finally:
        TX_HASH.reset(tokens[0])
        OPERATION_IDS.reset(tokens[1])


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, the context's ids where set
    (``request_id``, ``api_key_id``, ``operation_id`` or ``operation_ids``, ``tx_hash``), ``thread`` and, for
    an exception, ``exception`` (its traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id if isinstance(request_id, str) else f"{_PROCESS}-{request_id:x}"
        key_id = API_KEY_ID.get()
        if key_id is not None:
            line["api_key_id"] = key_id
        operations = OPERATION_IDS.get()
        if operations:
            line["operation_ids"] = list(operations)
        tx_hash = TX_HASH.get()
        if tx_hash is not None:
            line["tx_hash"] = tx_hash
        line["thread"] = record.threadName
        if record.exc_info:
            line["exception"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


class _MaskedText(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is logged (a test runner may swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(log_format: LogFormat = "json", *, level: int = logging.INFO) -> logging.Handler:
    """Log the root logger's lines to stderr in ``log_format`` (replacing what an earlier call installed; other
    handlers stay) and have uvicorn's loggers hand their lines to it, so they come out the same way. Returns the
    handler, for :func:`remove_logging`."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else _MaskedText(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    return handler


def remove_logging(handler: logging.Handler) -> None:
    """Take away what :func:`configure_logging` installed (a command that ends inside a longer-lived process)."""
    logging.getLogger().removeHandler(handler)
