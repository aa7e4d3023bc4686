"""The bank's notification subscription (issue 22) on the two-bank network: a named, durable webhook subscription
of the bank's backend gets every notification once, signed and retried by the merchants' webhook delivery, even
with a second node process running the same jobs at the same time, and resumes where it left off."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from flow_network import BankNetwork
from merchant_support import webhook_receiver
from money_flows_support import completed, fund_wallet, open_customer, wait_for

from node.db import session_factory
from node.merchants import webhooks
from node.subscriptions import service as subscriptions
from wallet_sdk.exceptions import ConflictError, ForbiddenError, NotFoundError, ValidationError


def test_a_subscription_gets_each_notification_once_signed_and_retried(bank_network: BankNetwork) -> None:
    a, b = bank_network.a, bank_network.b
    admin = a.client("admin")
    payee = open_customer(b, deposit=None)
    with webhook_receiver(fail_first=1) as receiver:  # the backend's first answer is a 500: retried
        name = f"backend-{payee.ref}"
        created = admin.create_notification_subscription(name, receiver.url)
        assert created.secret is not None and created.secret.startswith("whsec_")
        receiver.secret = created.secret
        with pytest.raises(ConflictError):
            admin.create_notification_subscription(name, receiver.url)

        customer = open_customer(a, deposit=5_000)
        a.client("teller").set_notification_settings(customer.ref, language="zh")  # the texts sent are in it
        fund_wallet(customer, 3_000)
        app = customer.app()
        completed(app, app.transfer(customer.wallet, payee.wallet, 1_000))
        a.wait_idle()
        expected = [n for n in app.list_notifications(customer.wallet).items]
        assert [n.type for n in expected] == ["top_up", "payment_sent"]

        # a second node process running the same jobs at the same time: still one delivery per notification
        sessions = session_factory(a.engine)
        racers = [threading.Thread(target=job, args=(sessions, a.settings))
                  for job in (subscriptions.collect, webhooks.deliver_due) * 2]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(30)

        def mine() -> list[dict[str, object]]:
            return [r.body["data"] for r in receiver.of_type("notification.created")
                    if r.body["data"]["wallet"] == customer.wallet]  # type: ignore[index]

        wait_for(lambda: len(mine()) >= 2, "both notifications at the backend")
        a.wait_idle()
        wait_for(lambda: admin.get_notification_subscription(name).pending == 0, "nothing pending")
        got = sorted(mine(), key=lambda d: int(d["id"]))  # type: ignore[call-overload]  # a retried one comes later
        assert [(d["id"], d["type"], d["customer_ref"]) for d in got] == [
            (n.id, n.type, customer.ref) for n in expected]
        assert got[0]["params"] == expected[0].params and got[0]["language"] == "zh"
        assert str(got[0]["text"]).startswith("您的钱包已从银行账户充值")
        ids = [r.event_id for r in receiver.of_type("notification.created")]
        assert len(ids) == len(set(ids))  # no event twice
        everything = Counter(r.body["data"]["id"] for r in receiver.of_type("notification.created"))  # type: ignore[index]
        assert all(count == 1 for count in everything.values()), everything
        assert receiver.failed == 1 and receiver.refused == 0  # retried after the 500; every signature verified
        assert {r.body["subscription"] for r in receiver.of_type("notification.created")} == {name}
        state = admin.get_notification_subscription(name)
        assert state.after_id >= expected[-1].id and state.failed == 0 and state.delivered >= 2
        assert name in {s.name for s in admin.list_notification_subscriptions(limit=200).items}

        # a subscription made later starts from now, or from where it is told to
        late = admin.create_notification_subscription(f"late-{payee.ref}", receiver.url)
        assert late.after_id >= expected[-1].id
        replay = admin.create_notification_subscription(f"replay-{payee.ref}", receiver.url,
                                                        start_after=expected[0].id - 1)
        assert replay.after_id == expected[0].id - 1


def test_only_the_banks_admin_manages_subscriptions(bank_network: BankNetwork) -> None:
    a = bank_network.a
    with pytest.raises(ForbiddenError):
        a.client("teller").create_notification_subscription("nope", "http://127.0.0.1:9/hooks")
    with pytest.raises(ForbiddenError):
        a.client("teller").list_notification_subscriptions()
    with pytest.raises(NotFoundError):
        a.client("admin").get_notification_subscription("no-such-subscription")
    with pytest.raises(ValidationError):
        a.client("admin").create_notification_subscription("bad url", "ftp://example.org")
