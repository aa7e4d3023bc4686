"""``/v1/atm``: the ATMs' own messages (cash-in, cash-out and its dispense or fault), each authenticated by a key of
scope ``atm`` and the device's signature (:mod:`api.atm_calls`); the flows are :mod:`node.atm.service`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.atm_calls import AtmCallDep, handle_event
from api.common import SECOND_FACTOR_PROBLEMS, check_currency
from api.deps import NetworkDep, SessionDep, SettingsDep
from api.problems import ProblemKind, problem_responses
from api.schemas.atm import CashInIn, CashOutIn, DispenseIn, FaultIn
from api.schemas.operations import OperationOut
from node.atm import service

router = APIRouter(prefix="/v1/atm", tags=["atm"])

OperationIdPath = Annotated[str, Path(pattern=r"^op_[0-9a-f]{32}$", description="the cash-out's operation id")]

_AUTH = (ProblemKind.UNAUTHORIZED, ProblemKind.FORBIDDEN)
_ATM = (*_AUTH, ProblemKind.ATM_AUTHENTICATION_FAILED, ProblemKind.ATM_MESSAGE_REPLAYED,
        ProblemKind.IDEMPOTENCY_KEY_REUSED, ProblemKind.IDEMPOTENCY_KEY_IN_FLIGHT)
_WALLET = (ProblemKind.NOT_FOUND, ProblemKind.WALLET_NOT_CUSTODIED_HERE, ProblemKind.WALLET_FROZEN,
           ProblemKind.WALLET_NOT_ACTIVE, ProblemKind.CHAIN_UNAVAILABLE)


@router.post(
    "/cash-ins",
    operation_id="atm_report_cash_in",
    summary="ATM: notes counted for a wallet (mint)",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_ATM, *_WALLET, ProblemKind.LIMIT_EXCEEDED),
)
def atm_report_cash_in(body: CashInIn, call: AtmCallDep, session: SessionDep, settings: SettingsDep,
                       network: NetworkDep) -> OperationOut:
    """The ATM counted `notes` for `wallet`; the bank mints their total into it. The answer is the
    `atm_cash_in` operation, `pending` until the mint is confirmed (`completed`); if the chain refuses the
    mint the operation `failed` and the notes are booked as owed to the customer. The wallet must be an
    active wallet of this bank (`wallet-not-custodied-here` otherwise) with room under its balance cap."""
    check_currency(body.currency, settings)
    notes = [service.NoteCount(n.denomination, n.count) for n in body.notes]
    return handle_event(session, call, body.event_id, lambda atm: service.cash_in(
        session, settings, network, atm, event_id=body.event_id, wallet=body.wallet, amount_minor=body.amount,
        notes=notes, api_key_id=call.api_key_id))


@router.post(
    "/cash-outs",
    operation_id="atm_submit_withdrawal",
    summary="ATM: a scanned withdrawal code (place the hold)",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_ATM, *_WALLET, ProblemKind.AUTHORIZATION_INVALID,
                                ProblemKind.INSUFFICIENT_BALANCE, ProblemKind.LIMIT_EXCEEDED, ProblemKind.CONFLICT,
                                *SECOND_FACTOR_PROBLEMS),
)
def atm_submit_withdrawal(body: CashOutIn, call: AtmCallDep, session: SessionDep, settings: SettingsDep,
                          network: NetworkDep) -> OperationOut:
    """The customer's signed hold, as scanned from the app's QR code. The bank checks it (signature,
    network, expiry, the wallet is its own and active, balance and limits, the ATM's cash) and places the
    hold on chain. The answer is the `atm_cash_out` operation, `pending`; dispense once it is `held`
    (poll `GET /v1/operations/{id}`), or not at all if it `failed`."""
    return handle_event(session, call, body.event_id, lambda atm: service.submit_cash_out(
        session, settings, network, atm, event_id=body.event_id, code=body.code, totp=body.totp,
        api_key_id=call.api_key_id))


@router.post(
    "/cash-outs/{operation_id}/dispense",
    operation_id="atm_confirm_dispense",
    summary="ATM: the notes of a held cash-out were dispensed (capture)",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_ATM, ProblemKind.NOT_FOUND, ProblemKind.INVALID_STATE),
)
def atm_confirm_dispense(operation_id: OperationIdPath, body: DispenseIn, call: AtmCallDep,
                         session: SessionDep) -> OperationOut:
    """The bank captures (burns) the hold; the operation is `completed` once that is confirmed. 409
    `invalid-state` if the cash-out is not held yet (retry) or was released or failed."""
    return handle_event(session, call, body.event_id, lambda atm: service.confirm_dispense(
        session, atm, operation_id, event_id=body.event_id))


@router.post(
    "/cash-outs/{operation_id}/fault",
    operation_id="atm_report_dispense_fault",
    summary="ATM: a held cash-out could not be dispensed (release)",
    status_code=202,
    response_model=OperationOut,
    responses=problem_responses(*_ATM, ProblemKind.NOT_FOUND, ProblemKind.INVALID_STATE),
)
def atm_report_dispense_fault(operation_id: OperationIdPath, body: FaultIn, call: AtmCallDep,
                              session: SessionDep) -> OperationOut:
    """The bank releases the hold back to the wallet; the operation is `released` once that is confirmed.
    409 `invalid-state` if the cash-out is not held yet (retry) or its dispense was confirmed."""
    return handle_event(session, call, body.event_id, lambda atm: service.report_fault(
        session, atm, operation_id, event_id=body.event_id, reason=body.reason))
