"""One part of a bank of the local network in a process of its own (``walletnet up --bank-processes``): its
node or its API (``part``) as :func:`tools.localnet_nodes.start_bank` runs them, until SIGTERM or SIGINT.

It reads its settings as one JSON object on standard input (with the operator's private key for the node, which
so never shows on a command line), and answers with one JSON line on standard output once it runs: the API's
URL (empty for the node), its database and whether that was new."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from contextlib import ExitStack
from pathlib import Path

from node.runner import freeze_startup_objects
from tools.localnet_nodes import start_bank


def main() -> None:
    config = json.loads(sys.stdin.read())
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with ExitStack() as stack:
        bank, new_db = start_bank(stack, config["code"], config["rpc_url"], config["operator_key"],
                                  Path(config["data_dir"]), config["api_port"], config["fresh_chain"],
                                  config.get("part", "both"), db_url_template=config.get("db_url_template"),
                                  api_workers=config.get("api_workers"))
        print(json.dumps({"url": bank.url, "db_url": bank.db_url, "new_db": new_db}), flush=True)
        os.dup2(2, 1)  # nobody reads the pipe after that line: anything written later goes to standard error
        freeze_startup_objects()  # this process serves one bank from now on
        stop.wait()  # a failed node thread is logged; the API keeps answering, as in `walletnet up`


if __name__ == "__main__":
    main()
