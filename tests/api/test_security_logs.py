"""Issue 21: the node's log lines never carry a secret. Requests that present or reveal secrets (API keys, a
customer session token, a TOTP secret and code, a merchant's API key and webhook secret, a customer's signature)
go through the two-bank network while every log line is captured as it would be written (JSON, at INFO, uvicorn's
access lines included); then the captured lines are searched for each secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from flow_network import BankNetwork
from merchant_support import onboard_shop
from money_flows_support import fund_wallet, open_customer, totp_code
from test_flows_transfers import signed_transfer

from node.logs import JsonFormatter, mask_secrets
from wallet_sdk.client import Client
from wallet_sdk.exceptions import SecondFactorInvalidError

CAPTURED_LOGGERS = ("", "uvicorn.access", "uvicorn.error")  # the root logger, and uvicorn's own (no propagation)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every log line written while the test runs, formatted as the node writes it."""
    handler = _Lines()
    loggers = [logging.getLogger(name) for name in CAPTURED_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield handler.lines
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def test_no_secret_reaches_a_log_line(bank_network: BankNetwork, log_lines: list[str]) -> None:
    a, b = bank_network.a, bank_network.b
    teller_key, admin_key = a.key("teller"), a.key("admin")
    secrets: dict[str, str] = {"teller key": teller_key, "admin key": admin_key}
    # a key and a token presented in headers, an unknown key refused
    assert httpx.get(f"{a.url}/v1/api-keys", headers={"Authorization": f"Bearer {admin_key}"}).status_code == 200
    unknown = "wn_" + "Q" * 43
    secrets["unknown key"] = unknown
    assert httpx.get(f"{a.url}/v1/api-keys", headers={"X-API-Key": unknown}).status_code == 401
    # a customer session token; a TOTP secret shown once, then a code and a wrong code sent
    threshold = a.settings.second_factor_threshold
    payer = open_customer(a, deposit=threshold + 1)
    payee = open_customer(b, deposit=None)
    fund_wallet(payer, threshold)  # each top-up at the threshold: no second factor yet
    fund_wallet(payer, 1)
    session = a.mint_session(payer.ref)
    secrets["customer session token"] = session.token
    with Client(a.url, session.token, timeout=30.0) as app:
        totp_secret = app.enrol_totp(payer.wallet).secret
        secrets["TOTP secret"] = totp_secret
        code = totp_code(totp_secret)
        secrets["TOTP code"] = code
        with pytest.raises(SecondFactorInvalidError):
            app.transfer(payer.wallet, payee.wallet, threshold + 1, totp="000000" if code != "000000" else "111111")
        app.transfer(payer.wallet, payee.wallet, threshold + 1, totp=code)
    # a merchant's API key and webhook secret, shown once at onboarding
    shop = onboard_shop(a, webhook_url="http://127.0.0.1:9/hooks")  # nobody listens: deliveries fail and log
    assert shop.onboarding.api_key and shop.webhook_secret
    secrets["merchant key"], secrets["webhook secret"] = shop.onboarding.api_key, shop.webhook_secret
    # a customer's signature on a relayed transfer
    signer = open_customer(a, self_custody=True, deposit=500)
    fund_wallet(signer, 500)
    signed = signed_transfer(signer, payee.wallet, 500)
    secrets["signature"] = signed.signature.hex()
    secrets["signature r"], secrets["signature s"] = signed.r.hex(), signed.s.hex()
    signer.app().transfer(signer.wallet, payee.wallet, 500, authorization=signed)
    bank_network.wait_idle()

    assert log_lines, "nothing was logged: the capture is broken"
    records = [json.loads(line) for line in log_lines]  # every line is one JSON object
    assert any("request_id" in r and r.get("api_key_id") for r in records), "the access lines name request and key"
    assert any("tx_hash" in r for r in records), "the writer's lines name their transaction"
    leaked = {name for name, secret in secrets.items() for line in log_lines if secret in line}
    assert not leaked, f"secrets in the log: {sorted(leaked)}"


def test_a_key_shaped_string_in_a_message_is_masked() -> None:
    record = logging.LogRecord("walletnet.test", logging.WARNING, __file__, 1, "refused %s", ("wn_" + "a1B2" * 11,),
                               None)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "refused wn_[masked]"
    assert mask_secrets("session wnc_" + "Z" * 43 + " ended") == "session wn_[masked] ended"
