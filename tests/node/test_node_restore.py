"""A bank node restored from an older database backup, on SQLite and PostgreSQL (issue 18, finding 7).

The backup is taken after a top-up, a redemption, a refund or a settlement was recorded and before its effect was sent;
the node then runs, the effect is mined and the operation completes; then the backup is restored, so the
database again holds the row as ``received``, and the node runs once more. The contracts refuse the repeated
ref, the writer recognises its own effect in the refusal, and so the chain holds the effect once and the
operation completes (again, in the restored books) with what the chain recorded.
"""

from __future__ import annotations

import secrets
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from test_node_indexer_helpers import open_wallet, pay, sign_requests_for
from writer_support import FAST

from node.chain_ids import id_bytes
from node.db import transaction
from node.funding import service as funding
from node.ledger import SqlLedger
from node.ledger.accounts import CHAIN_ISSUED
from node.merchants import service as merchants
from node.merchants.models import PayoutMode
from node.operations.models import Operation, OperationStatus, get_operation
from node.settings import NodeSettings, load_settings
from node.wallets import service as wallets
from node.wallets.models import CustodyMode, Verification
from node.writer import ChainWriter
from tools.postgres import PgServer
from wallet_sdk.chain.events import Event, iter_events
from wallet_sdk.chain.network import Network

TELLER = wallets.Actor("teller")
Restore = Callable[[], None]


@dataclass(frozen=True)
class Node:
    """Bank A's node: its database, settings, chain connection and writer."""

    sessions: sessionmaker[Session]
    settings: NodeSettings
    network: Network
    writer: ChainWriter


@pytest.fixture
def node(system: Any, sessions: sessionmaker[Session], tmp_path: Path) -> Node:
    network = Network.from_web3(system.w3, system.deployment)
    return Node(sessions, load_settings(bank_id="BANKA", data_dir=tmp_path, second_factor_threshold=10**12), network,
                ChainWriter(sessions, network, system.banks["A"].operators[0], FAST))


@pytest.fixture
def backup(engine: Engine, db_url: str, backend: str,
           request: pytest.FixtureRequest) -> Iterator[Callable[[], Restore]]:
    """``backup()`` copies the node's database as an operator's backup does (the whole file; a database
    made from it as a template) and returns ``restore()``, which puts that copy back in its place."""
    copies: list[str] = []

    def take() -> Restore:
        engine.dispose()  # no open connection: SQLite's WAL is checkpointed, PostgreSQL may copy the database
        if backend == "sqlite":
            path = Path(db_url.removeprefix("sqlite:///"))
            saved = path.with_name(path.name + ".backup")
            shutil.copyfile(path, saved)

            def restore() -> None:
                engine.dispose()
                for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                    extra.unlink(missing_ok=True)
                shutil.copyfile(saved, path)
            return restore
        server: PgServer = request.getfixturevalue("pg_server")
        name, copy = db_url.rsplit("/", 1)[1], f"b_{uuid.uuid4().hex[:16]}"
        server.admin(f"CREATE DATABASE {copy} TEMPLATE {name}")
        copies.append(copy)

        def restore_pg() -> None:
            engine.dispose()
            server.admin(f"DROP DATABASE {name} WITH (FORCE)")
            server.admin(f"CREATE DATABASE {name} TEMPLATE {copy}")
        return restore_pg

    yield take
    for copy in copies:
        request.getfixturevalue("pg_server").admin(f"DROP DATABASE IF EXISTS {copy} WITH (FORCE)")


def _customer(node: Node, deposit: int) -> tuple[str, str]:
    """An active custodial wallet of bank A bound to a new deposit account holding ``deposit``."""
    customer, account = f"CUST-{secrets.token_hex(4)}", f"DEP-{secrets.token_hex(4)}"
    with transaction(node.sessions) as session:
        funding.open_deposit_account(session, node.settings, code=account, customer_ref=customer,
                                     opening_balance_minor=deposit)
        request = wallets.OpeningRequest(customer_ref=customer, verification=Verification.IN_PERSON,
                                         channel=wallets.Channel.TELLER, custody=CustodyMode.CUSTODIAL,
                                         account=account)
        wallet = wallets.open_wallet(session, node.settings, node.network, request, actor=TELLER).record.address
    node.writer.run(until_idle=True)
    return wallet, account


def _operation(node: Node, public_id: str) -> Operation:
    with transaction(node.sessions) as session:
        op = get_operation(session, public_id)
        session.expunge(op)
        return op


def _balance(node: Node, account: str) -> int:
    with transaction(node.sessions) as session:
        return SqlLedger(session).balance(account).amount_minor


def _restored_once(node: Node, public_id: str, restore: Restore, event: str) -> tuple[Operation, Event]:
    """Run the writer (the operation completes), restore the backup (it is pending again), run it again. The
    operation must be completed with the first transaction, which made the one ``event`` of its ref; returns
    the operation and that event."""
    node.writer.run(until_idle=True)
    first = _operation(node, public_id)
    assert first.status is OperationStatus.COMPLETED, first.error
    restore()
    assert _operation(node, public_id).status is OperationStatus.PENDING
    node.writer.run(until_idle=True)
    again = _operation(node, public_id)
    assert again.status is OperationStatus.COMPLETED and again.tx_hash == first.tx_hash, again.error
    (made,) = [e for e in iter_events(node.network, names=[event]) if bytes(e["ref"]) == id_bytes(again.ref or "")]
    assert made.tx_hash == first.tx_hash
    return again, made


def test_a_restored_top_up_is_minted_once(node: Node, backup: Callable[[], Restore]) -> None:
    wallet, account = _customer(node, deposit=10_000)
    with transaction(node.sessions) as session:
        public_id = funding.top_up(session, node.settings, node.network, wallet=wallet, amount_minor=2_500,
                                   channel="teller").public_id
    restore = backup()

    _, minted = _restored_once(node, public_id, restore, "Minted")

    assert (minted["wallet"], minted["amount"], node.network.balance(wallet)) == (wallet, 2_500, 2_500)
    assert (_balance(node, account), _balance(node, CHAIN_ISSUED)) == (7_500, 2_500)  # booked once


def test_a_restored_redemption_is_burned_once(node: Node, backup: Callable[[], Restore]) -> None:
    wallet, account = _customer(node, deposit=10_000)
    with transaction(node.sessions) as session:
        funding.top_up(session, node.settings, node.network, wallet=wallet, amount_minor=6_000, channel="teller")
    node.writer.run(until_idle=True)
    with transaction(node.sessions) as session:
        public_id = funding.redeem(session, node.settings, node.network, wallet=wallet, amount_minor=1_500,
                                   signed=None, channel="teller").public_id
    restore = backup()

    _, burned = _restored_once(node, public_id, restore, "Burned")

    assert (burned["wallet"], burned["amount"], node.network.balance(wallet)) == (wallet, 1_500, 4_500)
    assert (_balance(node, account), _balance(node, CHAIN_ISSUED)) == (5_500, 4_500)  # credited once


def _merchant(node: Node) -> str:
    """A merchant of bank A, onboarded by the node (paid to its wallet)."""
    merchant_id, account = f"SHOP-{secrets.token_hex(4)}", f"MRCH-{secrets.token_hex(4)}"
    with transaction(node.sessions) as session:
        funding.open_deposit_account(session, node.settings, code=account, customer_ref=merchant_id)
        merchants.onboard(session, node.settings, node.network, merchants.MerchantTerms(
            merchant_id=merchant_id, legal_name="Corner shop", mcc=5411, fee_bps=100, settlement_account=account,
            payout_mode=PayoutMode.WALLET))
    node.writer.run(until_idle=True)
    return merchant_id


def test_a_restored_refund_is_refunded_once(node: Node, system: Any, backup: Callable[[], Restore]) -> None:
    merchant_id = _merchant(node)
    bank = node.network.bank_operator(system.banks["A"].operators[1])  # the writer sends with operators[0]
    sign_requests_for(bank)  # the test signs the merchant's payment request itself
    payer = open_wallet(bank)
    bank.mint(payer, 5_000, f"MINT-{secrets.token_hex(4)}")
    pay(node.network, bank, payer, merchant_id, "O-1", 4_000)
    with transaction(node.sessions) as session:
        public_id = merchants.refund(session, node.settings, node.network, merchant_id, "O-1",
                                     amount_minor=1_500).public_id
    restore = backup()

    _, refunded = _restored_once(node, public_id, restore, "OrderRefunded")

    order = node.network.order("BANKA", merchant_id, "O-1")
    assert (refunded["amount"], order.refunded, node.network.balance(payer.address)) == (1_500, 1_500, 2_500)


def test_a_restored_settlement_is_settled_once(node: Node, backup: Callable[[], Restore]) -> None:
    merchant_id = _merchant(node)
    with transaction(node.sessions) as session:
        public_id = merchants.settle(session, node.settings, merchant_id, channel="admin")[0].public_id
    restore = backup()

    settlement, settled = _restored_once(node, public_id, restore, "MerchantSettled")

    # the completion read the batch from the original MerchantSettled event
    assert (settlement.details["batch_id"], settlement.details["booked"]) == (settled["batchId"], True) == (1, True)
