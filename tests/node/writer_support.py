"""Helpers shared by the chain writer's tests (test_node_writer*.py)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from node.db import transaction
from node.outbox import OutboxRow, OutboxState, enqueue
from node.writer import ChainTransaction, ChainTxAttempt, ChainTxState, WriterConfig, relay_payload
from wallet_sdk import rawtx
from wallet_sdk.authorizations import RelayedTransfer, SignedAuthorization, id_to_text, relay_nonce
from wallet_sdk.chain.events import iter_events
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.operators import BankOperator
from wallet_sdk.chain.types import WalletOpening
from wallet_sdk.keys import WalletKey

FAST = WriterConfig(poll_interval=0.02, backoff_initial=0.02, backoff_max=0.2, displaced_after=0.2)
"""Short waits: anvil mines every transaction at once."""


@dataclass(frozen=True)
class RowView:
    key: str
    kind: str
    state: OutboxState
    tx_hash: str | None
    nonce: int | None
    attempts: int
    last_error: str | None


def open_wallets(bank: BankOperator, count: int, *, funds: Sequence[int] = ()) -> list[WalletKey]:
    """``count`` new wallets of ``bank`` in one transaction; the first ones funded with ``funds``."""
    keys = [WalletKey.create() for _ in range(count)]
    bank.open_wallets([WalletOpening(k.address) for k in keys])
    for i, amount in enumerate(funds):
        bank.mint(keys[i], amount, f"SETUP-{i}")
    return keys


def enqueue_rows(sessions: sessionmaker[Session], rows: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
    """Enqueue (key, kind, payload) rows, in one committed transaction, as a service would."""
    with transaction(sessions) as session:
        for key, kind, payload in rows:
            enqueue(session, key, kind, payload)


def mint_row(key: str, wallet: WalletKey, amount: int) -> tuple[str, str, dict[str, Any]]:
    """A mint row whose ref is its idempotency key."""
    return key, "mint", {"wallet": wallet.address, "amount": amount, "ref": key}


def relay(network: Network, signer: WalletKey, to: WalletKey, value: int, nonce: int) -> SignedAuthorization[Any]:
    transfer = RelayedTransfer(from_=signer.address, to=to.address, value=value, valid_before=network.now() + 3_600,
                               nonce=nonce)
    return transfer.sign(signer, network.domain())


def relay_row(key: str, *signed: SignedAuthorization[Any]) -> tuple[str, str, dict[str, Any]]:
    return key, "relay_transfers", relay_payload(list(signed))


def nonce_bit(i: int) -> int:
    return relay_nonce(0, i)


def rows_by_key(sessions: sessionmaker[Session]) -> dict[str, RowView]:
    with transaction(sessions) as session:
        return {r.idempotency_key: RowView(r.idempotency_key, r.kind, r.state, r.tx_hash, r.nonce, r.attempts,
                                           r.last_error)
                for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))}


def chain_txs(sessions: sessionmaker[Session]) -> list[tuple[ChainTransaction, list[ChainTxAttempt]]]:
    """Every stored transaction (by nonce) with its signed versions (oldest first)."""
    with transaction(sessions) as session:
        txs = session.scalars(select(ChainTransaction).order_by(ChainTransaction.nonce)).all()
        return [(tx, list(session.scalars(select(ChainTxAttempt).where(ChainTxAttempt.chain_tx_id == tx.id)
                                          .order_by(ChainTxAttempt.id))))
                for tx in txs]


def minted_refs(network: Network, from_block: int) -> Counter[str]:
    """How many Minted events each ref has since ``from_block``."""
    return Counter(id_to_text(e["ref"]) for e in iter_events(network, from_block, None, ["Minted"]))


def assert_all_written_once(network: Network, sessions: sessionmaker[Session], sender: str, first_nonce: int) -> None:
    """Every outbox row final; every stored transaction mined (by one of its versions) with the rows it
    carries; the account's nonces used by exactly the stored transactions, with no gap."""
    rows = rows_by_key(sessions)
    left = {key: row.state for key, row in rows.items()
            if row.state not in (OutboxState.CONFIRMED, OutboxState.FAILED)}
    assert not left, f"rows left behind: {left}"
    for row in rows.values():
        if row.state is OutboxState.FAILED:
            assert row.last_error, f"{row.key} failed without a reason"
    txs = chain_txs(sessions)
    assert [tx.nonce for tx, _ in txs] == list(range(first_nonce, first_nonce + len(txs)))
    assert rawtx.nonce_of(network.w3, sender) == first_nonce + len(txs)
    hashes = {}
    for tx, attempts in txs:
        assert tx.state is ChainTxState.MINED, tx
        assert tx.mined_hash in {a.tx_hash for a in attempts}
        receipt = rawtx.receipt_of(network.w3, tx.mined_hash)
        assert receipt is not None and receipt["status"] == 1
        mined = [a for a in attempts if rawtx.receipt_of(network.w3, a.tx_hash) is not None]
        assert [a.tx_hash for a in mined] == [tx.mined_hash]  # one version mined, the others never
        hashes[tx.mined_hash] = tx
    for row in rows.values():
        if row.state is OutboxState.CONFIRMED:
            assert row.tx_hash in hashes, f"{row.key} confirmed by {row.tx_hash}, which is no mined transaction"


class TcpProxy:
    """A loopback TCP forwarder to ``127.0.0.1:target_port`` that a test stops (new connections refused,
    open ones cut) and starts again on the same port: a chain node that goes away and comes back."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._server: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        server = socket.create_server(("127.0.0.1", self.port))
        server.settimeout(0.05)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        return self

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            sockets, self._open = self._open, []
        for sock in ([server] if server else []) + sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, server: socket.socket) -> None:
        while self._server is server:
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._open += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

