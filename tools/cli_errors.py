"""What `walletnet` says when a command fails for a reason outside it: one line naming the cause and what to do,
instead of a traceback (``--debug`` shows the traceback). A failure not listed here is a bug, and keeps its
traceback."""

from __future__ import annotations

import errno
import re

from requests.exceptions import ConnectionError as HttpConnectionError
from requests.exceptions import Timeout as HttpTimeout
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError

from wallet_sdk.exceptions import NodeConnectionError

__all__ = ["describe"]

_HOST_PORT = re.compile(r"host='([^']+)', port=(\d+)")


def describe(exc: BaseException) -> str | None:
    """The one line for an expected failure (unreachable chain node or database, busy port), or None for
    anything else. (A missing or bad settings file, a wrong operator password and the like are said by the
    commands themselves.)"""
    if isinstance(exc, NodeConnectionError):
        return f"{exc}. Check --rpc-url (or rpc_url in the settings) and that the node runs."
    if isinstance(exc, (HttpConnectionError, HttpTimeout)):
        found = _HOST_PORT.search(str(exc))
        where = f"http://{found.group(1)}:{found.group(2)}" if found else "the RPC URL"
        return (f"cannot reach the chain node at {where} ({type(exc).__name__}). Check --rpc-url (or rpc_url in "
                "the settings) and that the node runs.")
    if isinstance(exc, (OperationalError, InterfaceError, ProgrammingError)):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc).splitlines()[0]
        if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
            return f"the database has no walletnet tables yet ({reason}): run `walletnet db upgrade` first."
        if isinstance(exc, ProgrammingError):
            return None  # a statement walletnet got wrong: a bug, with its traceback
        return (f"cannot use the database: {reason}. Check --db-url (or db_url in the settings), that the database "
                "server runs and that its user may connect.")
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return f"a port is in use already ({exc.strerror}). Stop what listens there, or choose another port."
    return None
