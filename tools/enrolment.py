"""Bulk enrolment from a CSV (`walletnet wallets enrol`, and the demo's bulk step): rows in, one result line per
customer out, resumable after an interruption."""

from __future__ import annotations

import csv
from pathlib import Path

from wallet_sdk.client import Client
from wallet_sdk.client.wallets import EnrolmentResult, EnrolmentRow
from wallet_sdk.exceptions import ApiProblemError, ValidationError

__all__ = ["DONE", "ENROL_COLUMNS", "RESULT_COLUMNS", "read_results", "read_rows", "send", "write_results"]

ENROL_COLUMNS = ("customer_ref", "verification", "tier", "custody", "address", "phone", "account")
RESULT_COLUMNS = ("customer_ref", "status", "wallet", "operation_id", "tier", "custody", "error_type", "error_detail",
                  "error_field")
DONE = frozenset({"opened", "existing"})  # result statuses a resumed run skips


def read_rows(path: Path) -> list[dict[str, str]]:
    """The CSV's rows (the columns of ENROL_COLUMNS that it has; ``customer_ref`` and ``verification`` needed)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"customer_ref", "verification"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path} lacks the column(s) {', '.join(sorted(missing))}")
        return [{c: (row.get(c) or "").strip() for c in ENROL_COLUMNS} for row in reader]


def read_results(path: Path) -> dict[str, dict[str, str]]:
    """The last result per customer of an earlier (maybe interrupted) run."""
    if not path.exists() or path.stat().st_size == 0:
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["customer_ref"]: row for row in csv.DictReader(handle) if row.get("customer_ref")}


def _result_row(result: EnrolmentResult) -> dict[str, str]:
    line = {"customer_ref": result.customer_ref, "status": result.status, "wallet": result.wallet or "",
            "operation_id": result.operation_id or "", "tier": "" if result.tier is None else str(result.tier),
            "custody": result.custody or ""}
    if result.error is not None:
        line |= {"error_type": result.error.slug, "error_detail": result.error.detail or result.error.title,
                 "error_field": result.error.field or ""}
    return line


def _failed_row(customer_ref: str, exc: Exception) -> dict[str, str]:
    slug = (exc.type or "").rsplit("/", 1)[-1] if isinstance(exc, ApiProblemError) else type(exc).__name__
    detail = (exc.detail or exc.title) if isinstance(exc, ApiProblemError) else str(exc)
    return dict.fromkeys(RESULT_COLUMNS, "") | {"customer_ref": customer_ref, "status": "failed", "error_type": slug,
                                                "error_detail": detail or ""}


def send(client: Client, chunk: list[dict[str, str]]) -> list[dict[str, str]]:
    """One chunk's results; a chunk the API refuses as a whole (422) is sent again row by row, so that only the
    bad row fails."""
    rows = [EnrolmentRow(**{k: v or None for k, v in row.items()}) for row in chunk]
    try:
        return [_result_row(r) for r in client.enrol_wallets(rows).results]
    except ValidationError as exc:
        if len(rows) == 1:
            return [_failed_row(chunk[0]["customer_ref"], exc)]
    return [line for row in chunk for line in send(client, [row])]


def write_results(path: Path, results: dict[str, dict[str, str]], order: list[str], *, append: bool) -> None:
    new = not append or not path.exists() or path.stat().st_size == 0
    with path.open("a" if append else "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=RESULT_COLUMNS, extrasaction="ignore")
        if new:
            writer.writeheader()
        for ref in order:
            if ref in results:
                writer.writerow({c: results[ref].get(c, "") for c in RESULT_COLUMNS})
        handle.flush()
