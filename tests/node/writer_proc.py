"""The chain writer as a process of its own, for the crash tests (tests/node/test_node_writer_crash.py)::

    WRITER_KEY=0x... python tests/node/writer_proc.py --rpc-url URL --deployment FILE --db-url URL

It runs until no outbox row waits to be sent or confirmed, then exits 0. The operator's private key comes
from ``$WRITER_KEY``. With ``$WRITER_CRASH_AT`` set to a checkpoint (``signed_committed``, ``broadcast`` or
``receipt_seen``), the process SIGKILLs itself the ``$WRITER_CRASH_ON``-th time (default 1) it reaches that
point: no cleanup, no flush, no rollback, as in a power cut.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable

from eth_account import Account

from node.db import create_engine, session_factory
from node.writer import ChainWriter, WriterConfig, WriterStep, writer_web3
from wallet_sdk.chain.network import Network


def make_crash_hook(point: str | None, on: int) -> Callable[[WriterStep], None]:
    """A checkpoint hook that SIGKILLs this process the ``on``-th time it reaches ``point``."""
    seen = 0

    def hook(reached: WriterStep) -> None:
        nonlocal seen
        if reached.value != point:
            return
        seen += 1
        if seen == on:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rpc-url", required=True)
    parser.add_argument("--deployment", required=True)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--poll-interval", type=float, default=0.02)
    args = parser.parse_args()

    point = os.environ.get("WRITER_CRASH_AT") or None
    if point is not None and point not in {c.value for c in WriterStep}:
        parser.error(f"WRITER_CRASH_AT={point!r} is not a checkpoint")
    account = Account.from_key(os.environ["WRITER_KEY"])
    network = Network.from_web3(writer_web3(args.rpc_url), args.deployment, verify=False)
    engine = create_engine(args.db_url)
    try:
        writer = ChainWriter(session_factory(engine), network, account,
                             WriterConfig(poll_interval=args.poll_interval, backoff_initial=0.05, backoff_max=0.5),
                             checkpoint=make_crash_hook(point, int(os.environ.get("WRITER_CRASH_ON", "1"))))
        writer.run(until_idle=True)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
