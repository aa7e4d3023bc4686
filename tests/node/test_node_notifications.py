"""Notifications in the node (issue 22): each (wallet, type, source) is stored once on SQLite and PostgreSQL, read
marks, languages, and the texts of docs/notifications.md's examples as the node renders them."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from node.db import transaction
from node.errors import FlowValidationError
from node.indexer.models import ChainLimits, ChainWallet, HistoryKind, WalletHistory
from node.merchants.models import WebhookEvent
from node.notifications import service
from node.notifications.models import Notification, NotificationType
from node.notifications.producer import NotificationProducer
from node.notifications.store import insert_notifications
from node.notifications.texts import TEMPLATES, render
from node.settings import load_settings
from node.subscriptions import service as subscriptions
from wallet_sdk.chain.events import Event

DOC = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"
WALLET = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20


def _row(source: str, amount: int, wallet: str = WALLET, type_: str = "top_up") -> dict[str, object]:
    return {"wallet": wallet, "type": type_, "params": {"amount": amount, "currency": "DCASH", "decimals": 2},
            "source": source}


def test_a_source_is_stored_once_per_wallet_and_type(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        insert_notifications(session, [_row("tx:0x01:0", 100), _row("tx:0x01:1", 200)])
    with transaction(sessions) as session:  # a round applied again, with one new event
        insert_notifications(session, [_row("tx:0x01:0", 100), _row("tx:0x01:1", 200), _row("tx:0x02:0", 300),
                                       _row("tx:0x02:0", 300, wallet=OTHER, type_="payment_received")])
    with transaction(sessions) as session:
        rows = list(session.scalars(select(Notification).order_by(Notification.id)))
        assert [(r.wallet, r.source, r.params["amount"]) for r in rows] == [
            (WALLET, "tx:0x01:0", 100), (WALLET, "tx:0x01:1", 200), (WALLET, "tx:0x02:0", 300),
            (OTHER, "tx:0x02:0", 300)]
        assert [r.id for r in rows] == sorted({r.id for r in rows})
        assert all(r.read_at is None and r.created_at is not None for r in rows)


def test_read_marks_and_languages(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        insert_notifications(session, [_row(f"tx:0x0{i}:0", i) for i in range(1, 5)] + [_row("tx:0x09:0", 9, OTHER)])
    with transaction(sessions) as session:
        ids = list(session.scalars(select(Notification.id).where(Notification.wallet == WALLET)
                                   .order_by(Notification.id)))
        other = session.scalar(select(Notification.id).where(Notification.wallet == OTHER))
        assert service.mark_read(session, WALLET, up_to=ids[1]) == 2
        assert service.mark_read(session, WALLET, ids=[ids[3], other]) == 1  # another wallet's id: ignored
        assert service.mark_read(session, WALLET, up_to=ids[3]) == 1
        assert service.mark_read(session, WALLET, up_to=ids[3]) == 0
    with transaction(sessions) as session:
        unread = session.scalar(select(func.count()).select_from(Notification).where(Notification.read_at.is_(None)))
        assert unread == 1  # the other wallet's
        assert [n.id for n in service.newer_than(session, WALLET, ids[1])] == ids[2:]
        assert service.language_of(session, "C-1") == "en"
        service.set_language(session, "C-1", "zh")
        service.set_language(session, "C-1", "zh")
        assert service.language_of(session, "C-1") == "zh" and service.language_of(session, None) == "en"
        with pytest.raises(FlowValidationError):
            service.set_language(session, "C-1", "fr")


def _documented() -> list[tuple[str, dict[str, object], str, str]]:
    """(type, params, en text, zh text) of each type's example in docs/notifications.md."""
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"^### `(\w+)`\n.*?^```json\n(.*?)\n```\n\n- en: (.*?)\n- zh: (.*?)\n", text,
                       re.MULTILINE | re.DOTALL)
    return [(kind, json.loads(params), en, zh) for kind, params, en, zh in found]


def test_the_documented_examples_are_what_the_node_renders() -> None:
    documented = _documented()
    assert [kind for kind, *_ in documented] == [t.value for t in NotificationType]  # every type, in order
    for kind, params, en, zh in documented:
        assert render(kind, params, "en") == en, kind
        assert render(kind, params, "zh") == zh, kind
    assert set(TEMPLATES) == {t.value for t in NotificationType}
    assert all(set(texts) == {"en", "zh"} for texts in TEMPLATES.values())


def test_a_text_is_always_there() -> None:
    assert render("payment_received", {}, "en").startswith("You received ?")
    assert render("no_such_type", {"amount": 1}, "zh") == "no_such_type"
    assert render("top_up", {"amount": 12_345, "currency": "DCASH", "decimals": 2}, "de") == (
        "Your wallet was topped up with 123.45 DCASH from your bank account.")  # unknown language: English


def test_a_subscription_makes_one_event_per_notification_even_when_collected_twice_at_once(
        sessions: sessionmaker[Session], db_url: str, tmp_path: Path) -> None:
    settings = load_settings(bank_id="BANKA", db_url=db_url, data_dir=tmp_path)
    with transaction(sessions) as session:
        insert_notifications(session, [_row("tx:0x01:0", 100)])
        before, secret = subscriptions.create(session, settings, "backend", "http://127.0.0.1:9/hooks")
        replaying, _ = subscriptions.create(session, settings, "replay", "http://127.0.0.1:9/hooks", start_after=0)
        assert (before.after_id, replaying.after_id) == (1, 0) and secret.startswith("whsec_")
        assert "whsec_" not in before.secret_ciphertext and secret not in repr(before)
        with pytest.raises(subscriptions.SubscriptionExistsError):
            subscriptions.create(session, settings, "backend", "http://127.0.0.1:9/other")
        with pytest.raises(FlowValidationError):
            subscriptions.create(session, settings, "ftp", "ftp://example.org/hooks")
    with transaction(sessions) as session:
        insert_notifications(session, [_row(f"tx:0x0{i}:0", i) for i in range(2, 6)])
    racers = [threading.Thread(target=subscriptions.collect, args=(sessions, settings)) for _ in range(3)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(30)
    assert subscriptions.collect(sessions, settings) == 0  # nothing left to make
    with transaction(sessions) as session:
        events = list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))
        by_subscription = Counter(e.subscription_id for e in events)
        assert by_subscription == {before.id: 4, replaying.id: 5}
        assert len({e.source for e in events}) == 9 and all(e.merchant_id is None for e in events)
        assert {e.payload["data"]["params"]["amount"] for e in events if e.subscription_id == before.id} == {2, 3, 4, 5}
        assert subscriptions.get(session, "backend").after_id == subscriptions.get(session, "replay").after_id
        assert subscriptions.delivery_counts(session, subscriptions.get(session, "backend"))["pending"] == 4


class _Chain:
    """What the producer reads of the network: the token's decimals and the contracts' addresses."""

    decimals = 2
    addresses: ClassVar[dict[str, str]] = {"MerchantSettlement": "0x" + "51" * 20, "DigitalCash": "0x" + "7c" * 20}


def _event(name: str, block: int, log: int, **args: object) -> Event:
    return Event("DigitalCash", name, args, block, f"0x{block:064x}", log, "0x" + "7c" * 20)  # type: ignore[arg-type]


def test_the_producer_crosses_the_daily_limit_inside_one_round_once(sessions: sessionmaker[Session]) -> None:
    payee, today = "0x" + "ee" * 20, datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    with transaction(sessions) as session:
        session.add(ChainLimits(limit_class=4, balance_cap=100_000, single_payment_limit=50_000,
                                daily_outflow_limit=100_000, updated_block=1))
        session.add(ChainWallet(address=WALLET, bank_id="BANKA", kind="personal", tier=4, status="active",
                                currency="DCASH", spendable_minor=0, held_minor=0, updated_block=1))
        session.add(WalletHistory(wallet=WALLET, kind=HistoryKind.TRANSFER_OUT, amount_minor=50_000,
                                  spendable_delta_minor=-50_000, held_delta_minor=0, currency="DCASH",
                                  counterparty=payee, block_number=5, block_time=today, tx_hash="0x" + "05" * 32,
                                  log_index=0))  # a round before: 50% of the day's limit
    events = [_event("Transfer", 10, 0, **{"from": WALLET, "to": payee, "value": 29_999}),
              _event("Transfer", 10, 1, **{"from": WALLET, "to": payee, "value": 1}),
              _event("HoldPlaced", 11, 0, holdId=b"\x01" * 32, holder=WALLET, amount=20_000, expiresAt=0)]
    produce = NotificationProducer("BANKA", "DCASH", 25_000, _Chain(), lambda _s, _ids: {})  # type: ignore[arg-type]
    times = {10: today + timedelta(hours=1), 11: today + timedelta(hours=2)}
    for _ in range(2):  # the same round applied twice makes nothing twice
        with transaction(sessions) as session:
            produce(session, events, times)
    with transaction(sessions) as session:
        made = [(n.type, n.source, n.params.get("spent")) for n in
                session.scalars(select(Notification).order_by(Notification.id))]
    assert made == [
        ("payment_sent", "tx:" + f"0x{10:064x}:0", None), ("large_payment", "tx:" + f"0x{10:064x}:0", None),
        ("payment_sent", "tx:" + f"0x{10:064x}:1", None),
        ("cash_out_held", "tx:" + f"0x{11:064x}:0", None),
        ("daily_limit_80", "tx:" + f"0x{10:064x}:1", 80_000), ("daily_limit_100", "tx:" + f"0x{11:064x}:0", 100_000)]


def test_notification_writers_take_turns_so_ids_become_visible_in_order(sessions: sessionmaker[Session]) -> None:
    """A reader paging by id must never see an id before a lower one commits: a second writer waits for the first
    writer's commit (an advisory lock on PostgreSQL, the write lock on SQLite) before it takes its id."""
    first = sessions()
    first.begin()
    insert_notifications(first, [_row("tx:0xa1:0", 1)])
    second_done = threading.Event()

    def second_writer() -> None:
        with transaction(sessions) as session:
            insert_notifications(session, [_row("tx:0xa2:0", 2)])
        second_done.set()

    writer = threading.Thread(target=second_writer)
    writer.start()
    try:
        assert not second_done.wait(1.0), "the second writer did not wait for the first one's commit"
        first.commit()
    finally:
        first.close()
    writer.join(30)
    assert second_done.is_set()
    with transaction(sessions) as session:
        rows = list(session.scalars(select(Notification).order_by(Notification.id)))
        assert [r.params["amount"] for r in rows] == [1, 2]
