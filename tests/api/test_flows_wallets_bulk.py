"""Bulk enrolment of existing customers on the two-bank network: the endpoint through the SDK client (one
result per row, idempotent per customer) and ``walletnet wallets enrol`` (chunks, result file, resuming)."""

from __future__ import annotations

import csv
import os
import secrets
import threading
from pathlib import Path
from typing import Any

import pytest
from flow_network import BankNetwork
from sqlalchemy import event
from typer.testing import CliRunner

from tools.cli import app as cli
from wallet_sdk.client import Client
from wallet_sdk.client.wallets import Enrolment, EnrolmentRow
from wallet_sdk.exceptions import ApiConnectionError, ForbiddenError, ValidationError
from wallet_sdk.keys import WalletKey

KEY_ENV = "WALLETNET_TEST_ENROL_KEY"
# In os.environ from import on (before any bank's threads run): CliRunner's env= then only changes its value
# and puts the old one back. Adding and deleting the key made the environment change size while a node thread
# iterated it (requests looks for proxy settings on every call): the writer died of a KeyError in one CI run.
os.environ.setdefault(KEY_ENV, "")


def fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def settle(client: Client, enrolment: Enrolment) -> None:
    """Wait for every opening of ``enrolment``; each must have completed."""
    for result in enrolment.results:
        if result.operation_id is not None:
            assert client.wait_for_operation(result.operation_id).status == "completed", result


# ------------------------------------------------------------------ the endpoint


def test_each_row_is_enrolled_or_refused_on_its_own(bank_network: BankNetwork) -> None:
    bank = bank_network.a
    admin = bank.client("admin")
    key = WalletKey.create()
    account_owner = fresh("CUST")
    account = bank.fund_account(fresh("DEP"), 0, customer_ref=account_owner)
    rows = [
        EnrolmentRow(fresh("CUST"), "in_person"),
        EnrolmentRow(fresh("CUST"), "identity_document", custody="self", address=key.address),
        EnrolmentRow(fresh("CUST"), "phone", phone="+15550123"),
        EnrolmentRow(account_owner, "bank_account", account=account),
        EnrolmentRow(fresh("CUST"), "in_person", tier="3"),  # a weaker tier than the check allows
        EnrolmentRow(fresh("CUST"), "phone", phone="+15550124", tier=1),  # stronger than a phone allows
        EnrolmentRow(fresh("CUST"), "passport"),
        EnrolmentRow(fresh("CUST"), "phone"),
        EnrolmentRow(fresh("CUST"), "in_person", custody="self", address="0x1234"),
        EnrolmentRow("", "in_person"),
        EnrolmentRow(fresh("CUST"), "bank_account", account="NO-SUCH-ACCOUNT"),
    ]
    enrolment = admin.enrol_wallets(rows)
    results = enrolment.results
    assert [r.index for r in results] == list(range(len(rows)))
    assert [r.customer_ref for r in results] == [r.customer_ref for r in rows]
    assert [r.status for r in results] == ["opened"] * 5 + ["failed"] * 6
    assert [r.tier for r in results[:5]] == [1, 3, 4, 2, 3]
    assert results[1].wallet == key.address and results[1].custody == "self"
    assert [r.error.field for r in results[5:] if r.error] == ["tier", "verification", "phone", "address",
                                                                "customer_ref", "account"]
    assert all(r.error and r.error.slug == "validation" and r.error.detail for r in results[5:])
    assert all(r.wallet is None and r.operation_id is None for r in results[5:])

    settle(admin, enrolment)
    for result in results[:5]:
        assert result.wallet is not None
        on_chain = admin.get_wallet(result.wallet)
        assert (on_chain.bank, on_chain.status, on_chain.tier) == ("BANKA", "active", result.tier)
        record = admin.get_wallet_record(result.wallet)
        assert record.channel == "bulk" and record.state == "active"
    assert admin.get_wallet_record(str(results[3].wallet)).account == account
    opening = admin.get_operation(str(results[0].operation_id))
    assert (opening.kind, opening.channel) == ("wallet_open", "admin")


def test_openings_the_chain_confirmed_whole_are_completed_at_once(bank_network: BankNetwork) -> None:
    """The writer completes a batch whose every opening the chain confirmed in one go (node.outbox.confirm_batch):
    one UPDATE of the batch's operations rather than one per row, with the same outcome as row by row."""
    bank = bank_network.a
    admin = bank.client("admin")
    updates: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "writer" in threading.current_thread().name and statement.startswith("UPDATE operations"):
            updates.append(statement)

    event.listen(bank.engine, "before_cursor_execute", watch)
    try:
        enrolment = admin.enrol_wallets([EnrolmentRow(fresh("CUST"), "in_person") for _ in range(12)])
        settle(admin, enrolment)
    finally:
        event.remove(bank.engine, "before_cursor_execute", watch)
    for result in enrolment.results:
        assert result.wallet is not None and result.operation_id is not None
        assert admin.get_wallet_record(result.wallet).state == "active"
        assert admin.get_wallet(result.wallet).status == "active"
        opening = admin.get_operation(result.operation_id)
        assert opening.status == "completed" and opening.tx_hash is not None and opening.completed_at is not None
    assert updates and all(" IN (" in statement for statement in updates), updates


def test_sending_rows_again_returns_the_same_wallets(bank_network: BankNetwork) -> None:
    teller = bank_network.a.client("teller")
    rows = [EnrolmentRow(fresh("CUST"), "in_person"), EnrolmentRow(fresh("CUST"), "phone", phone="+15550125")]
    first = teller.enrol_wallets(rows)
    settle(teller, first)
    again = teller.enrol_wallets([*rows, EnrolmentRow(fresh("CUST"), "identity_document")])
    assert [r.status for r in again.results] == ["existing", "existing", "opened"]
    assert [r.wallet for r in again.results[:2]] == [r.wallet for r in first.results]
    assert [r.operation_id for r in again.results[:2]] == [r.operation_id for r in first.results]
    settle(teller, again)
    # the same customer with other details is a conflict for that row only
    changed = teller.enrol_wallets([EnrolmentRow(rows[0].customer_ref, "identity_document")])
    (only,) = changed.results
    assert only.status == "failed" and only.error is not None and only.error.slug == "conflict"


def test_a_chunk_the_api_cannot_read_is_refused_whole(bank_network: BankNetwork) -> None:
    admin = bank_network.a.client("admin")
    with pytest.raises(ValidationError):
        admin.enrol_wallets([EnrolmentRow(fresh("CUST"), "in_person")] * 501)
    with pytest.raises(ValidationError):
        admin.enrol_wallets([{"customer_ref": fresh("CUST"), "verification": ["in_person"]}])


@pytest.mark.parametrize("scope", ["app", "merchant", "atm", "regulator"])
def test_only_admin_and_teller_keys_enrol_in_bulk(bank_network: BankNetwork, scope: str) -> None:
    client = bank_network.a.client(scope, merchant_id="SHOP-1" if scope == "merchant" else None)
    with pytest.raises(ForbiddenError) as refused:
        client.enrol_wallets([EnrolmentRow(fresh("CUST"), "in_person")])
    assert refused.value.status == 403


# ------------------------------------------------------------------ the command line


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["customer_ref", "verification", "tier", "custody", "address",
                                                    "phone", "account", "branch"])
        writer.writeheader()
        for row in rows:
            writer.writerow({"branch": "12", **row})  # a column the command does not use
    return path


def read_results(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def enrol(bank_url: str, secret: str, source: Path, result: Path, *extra: str) -> Any:
    return CliRunner().invoke(cli, ["wallets", "enrol", str(source), "--api-url", bank_url, "--api-key-env", KEY_ENV,
                                    "--result", str(result), *extra], env={KEY_ENV: secret})


def test_the_command_enrols_a_csv_in_chunks_and_writes_a_result_per_row(bank_network: BankNetwork,
                                                                       tmp_path: Path) -> None:
    bank = bank_network.a
    refs = [fresh("CUST") for _ in range(5)]
    rows = [
        {"customer_ref": refs[0], "verification": "in_person"},
        {"customer_ref": refs[1], "verification": "phone", "phone": "+15550126"},
        {"customer_ref": refs[2], "verification": "phone"},  # no phone: fails alone
        {"customer_ref": refs[3], "verification": "identity_document", "tier": "4"},
        {"customer_ref": refs[4], "verification": "in_person", "custody": "self",
         "address": WalletKey.create().address},
    ]
    source = write_csv(tmp_path / "customers.csv", rows)
    result = tmp_path / "result.csv"
    run = enrol(bank.url, bank.key("admin"), source, result, "--chunk", "2")
    assert run.exit_code == 1, run.output  # one row failed
    assert "5 customers: 4 opened, 0 enrolled before, 1 failed" in run.output
    lines = read_results(result)
    assert [line["customer_ref"] for line in lines] == refs
    assert [line["status"] for line in lines] == ["opened", "opened", "failed", "opened", "opened"]
    assert lines[2]["error_type"] == "validation" and lines[2]["error_field"] == "phone" and lines[2]["wallet"] == ""
    assert [line["tier"] for line in lines] == ["1", "4", "", "4", "1"]

    client = bank.client("admin")
    for line in lines:
        if line["operation_id"]:
            assert client.wait_for_operation(line["operation_id"]).status == "completed"
            assert client.get_wallet(line["wallet"]).status == "active"

    # fix the bad row and run again: only that row is enrolled now; the others stay as they were
    rows[2]["phone"] = "+15550127"
    write_csv(source, rows)
    rerun = enrol(bank.url, bank.key("teller"), source, result)
    assert rerun.exit_code == 0, rerun.output
    assert "5 customers: 5 opened, 0 enrolled before, 0 failed" in rerun.output
    fixed = read_results(result)
    assert fixed[2]["status"] == "opened" and fixed[2]["wallet"] and fixed[2]["error_type"] == ""
    assert [line for i, line in enumerate(fixed) if i != 2] == [line for i, line in enumerate(lines) if i != 2]


def test_the_command_resumes_after_an_interruption(bank_network: BankNetwork, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    bank = bank_network.a
    refs = [fresh("CUST") for _ in range(6)]
    source = write_csv(tmp_path / "customers.csv", [{"customer_ref": r, "verification": "in_person"} for r in refs])
    result = tmp_path / "result.csv"
    sent: list[list[str]] = []
    dropped: list[bool] = []
    real = Client.enrol_wallets

    def dropping(self: Client, rows: list[EnrolmentRow], **kwargs: Any) -> Enrolment:
        sent.append([row.customer_ref for row in rows])
        if len(sent) == 2 and not dropped:  # the second request of the first run never gets an answer
            dropped.append(True)
            raise ApiConnectionError("POST /v1/wallets/enrolments: the connection dropped")
        return real(self, rows, **kwargs)

    monkeypatch.setattr(Client, "enrol_wallets", dropping)
    interrupted = enrol(bank.url, bank.key("admin"), source, result, "--chunk", "2")
    assert interrupted.exit_code == 1 and "run again to resume" in interrupted.output
    done_first = read_results(result)
    assert [line["customer_ref"] for line in done_first] == refs[:2]
    assert all(line["status"] == "opened" for line in done_first)

    sent.clear()
    resumed = enrol(bank.url, bank.key("admin"), source, result, "--chunk", "2")
    assert resumed.exit_code == 0, resumed.output
    assert sent == [refs[2:4], refs[4:6]]  # the first chunk is not sent again
    lines = read_results(result)
    assert [line["customer_ref"] for line in lines] == refs  # one line per customer, in the CSV's order
    assert all(line["status"] == "opened" for line in lines)
    assert lines[:2] == done_first

    sent.clear()
    nothing_left = enrol(bank.url, bank.key("admin"), source, result)
    assert nothing_left.exit_code == 0 and sent == []
    assert read_results(result) == lines
    client = bank.client("admin")
    for line in lines:
        assert client.wait_for_operation(line["operation_id"]).status == "completed"


def test_the_command_explains_what_it_needs(bank_network: BankNetwork, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "customers.csv", [{"customer_ref": fresh("CUST"), "verification": "in_person"}])
    no_key = CliRunner().invoke(cli, ["wallets", "enrol", str(source), "--api-url", bank_network.a.url,
                                      "--api-key-env", KEY_ENV, "--result", str(tmp_path / "r.csv")], env={KEY_ENV: ""})
    assert no_key.exit_code == 2 and KEY_ENV in no_key.output
    bad = tmp_path / "bad.csv"
    bad.write_text("name,phone\nAda,+15550128\n")
    missing = enrol(bank_network.a.url, bank_network.a.key("admin"), bad, tmp_path / "r.csv")
    assert missing.exit_code == 2 and "customer_ref" in missing.output
    app_key = enrol(bank_network.a.url, bank_network.a.key("app"), source, tmp_path / "r.csv")
    assert app_key.exit_code == 1 and "forbidden" in app_key.output
