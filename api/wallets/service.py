"""Wallet reads, and the documents the wallet endpoints answer with; free of FastAPI.

The flows themselves (opening, tier, freeze, binding, closure) live in :mod:`node.wallets.service`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.operations.schemas import OperationOut, operation_out
from api.problems import KINDS, NotFoundError, ProblemKind
from api.wallets.schemas import EnrolmentOut, EnrolmentResultOut, Money, RowErrorOut, WalletOut, WalletRecordOut
from node.errors import FlowError, FlowValidationError
from node.wallets.models import WalletRecord
from node.wallets.service import EnrolmentOutcome, Opening
from wallet_sdk.chain.network import Network, to_address
from wallet_sdk.chain.types import WalletStatus

__all__ = ["WalletNotFoundError", "WalletOpeningOut", "enrolment_out", "get_wallet", "opening_out", "record_out",
           "row_error"]


class WalletNotFoundError(NotFoundError):
    def __init__(self, address: str) -> None:
        super().__init__(f"no wallet is registered at {address}", address=address)


class WalletOpeningOut(BaseModel):
    wallet: WalletRecordOut
    operation: OperationOut = Field(description="the opening; the wallet is usable once it is completed")
    created: bool = Field(description="false when this customer's enrolment in this channel had opened the "
                                      "wallet before (the same wallet and operation are returned)")


def _bank_code(bank_id: bytes) -> str:
    return bank_id.rstrip(b"\0").decode("ascii", errors="replace")


def get_wallet(network: Network, address: str, *, currency: str) -> WalletOut:
    """The wallet's record and spendable balance at the latest block.

    Raises:
        InvalidArgumentError: ``address`` is not an address (or has a wrong EIP-55 checksum).
        WalletNotFoundError: no wallet was ever registered at ``address``.
    """
    checked = to_address(address, "address")
    info = network.wallet(checked)
    if info.status == WalletStatus.NONE:
        raise WalletNotFoundError(checked)
    return WalletOut(address=checked, bank=_bank_code(info.bank_id), tier=info.tier, status=info.status.name.lower(),
                     balance=Money(amount=network.balance(checked), currency=currency))


def record_out(record: WalletRecord) -> WalletRecordOut:
    return WalletRecordOut(address=record.address, customer_ref=record.customer_ref, channel=record.channel,
                           verification=record.verification.value, tier=record.tier, custody=record.custody.value,
                           state=record.state.value, phone=record.phone, account=record.account_code,
                           freeze_reason=record.freeze_reason, created_at=record.created_at,
                           updated_at=record.updated_at)


def opening_out(opening: Opening) -> WalletOpeningOut:
    return WalletOpeningOut(wallet=record_out(opening.record), operation=operation_out(opening.operation),
                            created=opening.created)


def row_error(exc: FlowError) -> RowErrorOut:
    """A row's error as the problem it would be on its own."""
    kind = ProblemKind(exc.problem)
    field = exc.field if isinstance(exc, FlowValidationError) else None
    return RowErrorOut(type=kind.uri, title=KINDS[kind].title, detail=exc.detail, field=field)


def enrolment_out(outcomes: list[EnrolmentOutcome]) -> EnrolmentOut:
    results = []
    for outcome in outcomes:
        if outcome.opening is None:
            assert outcome.error is not None
            results.append(EnrolmentResultOut(index=outcome.index, customer_ref=outcome.customer_ref, status="failed",
                                              error=row_error(outcome.error)))
            continue
        record = outcome.opening.record
        results.append(EnrolmentResultOut(
            index=outcome.index, customer_ref=outcome.customer_ref,
            status="opened" if outcome.opening.created else "existing", wallet=record.address,
            operation_id=outcome.opening.operation.public_id, tier=record.tier, custody=record.custody.value))
    return EnrolmentOut(results=results)
