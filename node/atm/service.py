"""ATM cash: device registry, cash-in (mint) and two-phase cash-out (hold, then capture or release).

Ledger (built-in account codes in :mod:`node.ledger.accounts`): each ATM has its cash account
``cash:atm:<id>`` (an asset); replenishing moves notes from ``cash:vault``, unloading moves them back.

Cash-in: the ATM reports counted notes for a wallet -> an operation and a ``mint`` of their total (ref
``CASHIN-...``); :mod:`node.atm.completions` books the outcome.

Cash-out, like a card network's authorization and capture: the customer's app signs a
:class:`~wallet_sdk.authorizations.HoldAuthorization` and shows it as a QR code; the ATM submits the text. The
payer's side is checked as for any payment (:func:`~node.operations.checks.check_outflow`: the hold counts as
outflow on chain), then the hold is placed; the ATM dispenses once it is held and confirms (capture), or
reports a fault (release). The stages of a cash-out, their only moves, and what the chain's answer to each step
does are in :mod:`node.atm.completions`.

Cash promised to cash-outs in progress stays reserved in the ATM: unloads and new cash-outs cannot take it.
A held cash-out not dispensed within ``settings.atm_hold_timeout`` seconds is released by
:func:`sweep_expired_cash_outs`, which the node runner calls every round.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from eth_utils.address import is_hex_address, to_checksum_address
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from node import outbox
from node.atm.auth import prune_messages
from node.atm.completions import CashOutStage, cash_out_stage, move_cash_out
from node.atm.models import Atm, AtmState
from node.chain_ids import id_bytes, id_text
from node.custody import custody_for
from node.db import reads_of, transaction
from node.db.base import one_or_none, utcnow
from node.db.inserts import insert_new
from node.errors import (
    AuthorizationInvalidError,
    FlowConflictError,
    FlowNotFoundError,
    FlowValidationError,
    InsufficientBalanceError,
    InvalidStateError,
    LimitExceededError,
    NotCustodianError,
    WalletFrozenError,
    WalletNotActiveError,
)
from node.indexer.models import ChainHold
from node.ledger import open_ledger
from node.ledger.accounts import EQUITY, VAULT, atm_account, ensure_system_accounts
from node.ledger.adapter import CoreBankingLedger
from node.ledger.errors import AccountNotFoundError
from node.ledger.types import AccountKind
from node.operations.checks import check_outflow, decode_signed
from node.operations.local_state import LocalWallet, chain_now, indexed_block, local_wallet
from node.operations.models import (
    Operation,
    OperationKind,
    OperationStatus,
    get_operation,
    hold_key,
    new_operation,
    new_ref,
    operation_payload,
    operation_row,
)
from node.outbox import OutboxRow
from node.risk import service as risk
from node.settings import NodeSettings
from node.wallets.models import WalletState, find_wallet
from node.writer.kinds import hold_payload
from wallet_sdk.authorizations import HoldAuthorization, SignedAuthorization
from wallet_sdk.chain.network import Network
from wallet_sdk.chain.types import UNLIMITED, WalletStatus
from wallet_sdk.client.atm import CashMovement, NoteCount
from wallet_sdk.client.models import Money
from wallet_sdk.exceptions import AuthorizationError, PayloadError

__all__ = [
    "CAPTURE_MARGIN",
    "CHANNEL",
    "MAX_CODE_VALIDITY",
    "AtmCashError",
    "AuthorizationInvalidError",
    "InsufficientBalanceError",
    "LimitExceededError",
    "NoteCount",
    "Registration",
    "WalletFrozenError",
    "WalletNotActiveError",
    "atm_cash",
    "cash_in",
    "confirm_dispense",
    "deliver_to_vault",
    "disable_atm",
    "get_atm",
    "register_atm",
    "replenish",
    "report_fault",
    "reserved_cash",
    "rotate_secret",
    "submit_cash_out",
    "sweep_expired_cash_outs",
    "unload",
    "vault_cash",
]

CHANNEL: Final = "atm"
CAPTURE_MARGIN: Final = 120
"""Seconds a withdrawal code must outlive the dispense timeout: the customer may release an expired hold
themselves, so the bank's capture must land well before the code expires."""
MAX_CODE_VALIDITY: Final = 3600  # a withdrawal code valid for longer is refused: a stolen screenshot ages out
MAX_RELEASE_ATTEMPTS: Final = 5
PRUNE_EVERY: Final = 60  # seconds between two clean-ups of old ATM message signatures
_last_prune: dict[str, float] = {}  # bank id -> when the sweep last pruned (several banks may share a process)
_OPEN: Final = (OperationStatus.PENDING, OperationStatus.HELD)


# ------------------------------------------------------------------ errors


class AtmCashError(FlowConflictError):
    """The vault or an ATM does not hold the notes a movement or a cash-out needs."""


# ------------------------------------------------------------------ registry


@dataclass(frozen=True)
class Registration:
    atm: Atm
    secret: str  # the device secret: returned once, stored encrypted

    def __repr__(self) -> str:
        return f"Registration({self.atm!r}, secret=<hidden>)"


def _ledger(session: Session, settings: NodeSettings) -> CoreBankingLedger:
    ledger = open_ledger(session, settings.ledger_adapter)
    ensure_system_accounts(ledger, settings.currency)
    return ledger


def register_atm(session: Session, settings: NodeSettings, *, atm_id: str, name: str,
                 location: str | None = None) -> Registration:
    """Register an ATM and open its cash account; its device secret is made here and returned once.

    Raises:
        FlowConflictError: ``atm_id`` is registered already.
    """
    if session.scalars(select(Atm.id).where(Atm.atm_id == atm_id)).first() is not None:
        raise FlowConflictError(f"ATM {atm_id} is registered already", atm_id=atm_id)
    secret = "atms_" + secrets.token_urlsafe(32)
    now = utcnow()
    atm = Atm(atm_id=atm_id, name=name, location=location, state=AtmState.ACTIVE,
              secret_ciphertext=custody_for(settings).encrypt(secret.encode("utf-8")), created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(atm)
    except IntegrityError:
        raise FlowConflictError(f"ATM {atm_id} is registered already", atm_id=atm_id) from None
    ledger = _ledger(session, settings)
    ledger.open_account(atm_account(atm_id), AccountKind.ATM_CASH, settings.currency, name=f"ATM {atm_id}: {name}")
    return Registration(atm, secret)


def get_atm(session: Session, atm_id: str, *, lock: bool = False) -> Atm:
    atm = one_or_none(session, select(Atm).where(Atm.atm_id == atm_id), lock=lock)
    if atm is None:
        raise FlowNotFoundError(f"no ATM {atm_id!r}", atm_id=atm_id)
    return atm


def rotate_secret(session: Session, settings: NodeSettings, atm_id: str) -> Registration:
    """Give the ATM a new device secret (returned once); the old one stops working at once."""
    atm = get_atm(session, atm_id, lock=True)
    secret = "atms_" + secrets.token_urlsafe(32)
    atm.secret_ciphertext = custody_for(settings).encrypt(secret.encode("utf-8"))
    atm.updated_at = utcnow()
    session.flush()
    return Registration(atm, secret)


def disable_atm(session: Session, atm_id: str) -> Atm:
    """Refuse every further message of the ATM (idempotent). Its held cash-outs are released by the timeout."""
    atm = get_atm(session, atm_id, lock=True)
    if atm.state is not AtmState.DISABLED:
        atm.state = AtmState.DISABLED
        atm.disabled_at = atm.updated_at = utcnow()
        session.flush()
    return atm


# ------------------------------------------------------------------ cash: vault and ATMs


def reserved_cash(session: Session, atm_id: str) -> int:
    """Cash of the ATM promised to cash-outs in progress (placing or held, not yet captured or released)."""
    total = session.scalar(select(func.coalesce(func.sum(Operation.amount_minor), 0)).where(
        Operation.kind == OperationKind.ATM_CASH_OUT, Operation.account == atm_account(atm_id),
        Operation.status.in_(_OPEN)))
    return int(total or 0)


def _balance(session: Session, settings: NodeSettings, code: str) -> int:
    """An account's balance by the ledger (read only: an account not opened yet holds nothing)."""
    try:
        return open_ledger(session, settings.ledger_adapter).balance(code).amount_minor
    except AccountNotFoundError:
        return 0


def atm_cash(session: Session, settings: NodeSettings, atm_id: str) -> tuple[int, int]:
    """(the notes in the ATM by the ledger, the part of them reserved for cash-outs in progress)."""
    get_atm(session, atm_id)
    return _balance(session, settings, atm_account(atm_id)), reserved_cash(session, atm_id)


def vault_cash(session: Session, settings: NodeSettings) -> int:
    return _balance(session, settings, VAULT)


def _positive(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise FlowValidationError("amount", "a positive integer of minor units")
    return amount


def _movement(ledger: CoreBankingLedger, settings: NodeSettings, reference: str, amount_minor: int,
              atm_id: str | None = None) -> CashMovement:
    """A booked movement as the API serves it (the SDK's CashMovement): the vault's cash after it, and the ATM's
    when one was involved."""

    def cash(account: str) -> Money:
        return Money(amount=ledger.balance(account).amount_minor, currency=settings.currency)

    return CashMovement(reference=reference, amount=Money(amount=amount_minor, currency=settings.currency),
                        vault_cash=cash(VAULT), atm_id=atm_id,
                        atm_cash=None if atm_id is None else cash(atm_account(atm_id)))


def replenish(session: Session, settings: NodeSettings, atm_id: str, amount_minor: int, *,
              reference: str) -> CashMovement:
    """Book notes taken from the vault into the ATM: debit the ATM's cash, credit the vault.

    Raises:
        AtmCashError: the vault holds less than ``amount_minor``.
    """
    _positive(amount_minor)
    get_atm(session, atm_id, lock=True)
    ledger = _ledger(session, settings)
    vault = ledger.balance(VAULT).amount_minor
    if vault < amount_minor:
        raise AtmCashError(f"the vault holds {vault}, not the {amount_minor} to replenish", vault=vault)
    ledger.debit(atm_account(atm_id), amount_minor, contra=VAULT, reference=reference,
                 memo=f"replenish ATM {atm_id} from the vault")
    return _movement(ledger, settings, reference, amount_minor, atm_id)


def unload(session: Session, settings: NodeSettings, atm_id: str, amount_minor: int, *,
           reference: str) -> CashMovement:
    """Book notes taken out of the ATM into the vault: debit the vault, credit the ATM's cash.

    Raises:
        AtmCashError: the ATM holds less than ``amount_minor`` beyond the cash reserved for cash-outs.
    """
    _positive(amount_minor)
    get_atm(session, atm_id, lock=True)
    ledger = _ledger(session, settings)
    free = ledger.balance(atm_account(atm_id)).amount_minor - reserved_cash(session, atm_id)
    if free < amount_minor:
        raise AtmCashError(f"ATM {atm_id} holds {free} not reserved for cash-outs, not the {amount_minor} to "
                           "unload", available=free)
    ledger.debit(VAULT, amount_minor, contra=atm_account(atm_id), reference=reference,
                 memo=f"unload ATM {atm_id} into the vault")
    return _movement(ledger, settings, reference, amount_minor, atm_id)


def deliver_to_vault(session: Session, settings: NodeSettings, amount_minor: int, *, reference: str) -> CashMovement:
    """Book notes delivered to the vault by the central bank's cash centre (against the bank's own funds)."""
    _positive(amount_minor)
    ledger = _ledger(session, settings)
    ledger.debit(VAULT, amount_minor, contra=EQUITY, reference=reference, memo="notes delivered to the vault")
    return _movement(ledger, settings, reference, amount_minor)


# ------------------------------------------------------------------ wallets


def _address(field: str, value: str) -> str:
    if not isinstance(value, str) or not is_hex_address(value):
        raise FlowValidationError(field, "a 0x wallet address")
    return to_checksum_address(value)


def _served_wallet(session: Session, settings: NodeSettings, network: Network, address: str) -> LocalWallet | None:
    """Check that ``address`` is an active wallet this bank keeps: against the node's view (the indexer's
    checkpoint, no JSON-RPC call), which it returns; against the chain when the view does not know the wallet or
    would refuse it (it may be behind: a wallet unfrozen a moment ago), and then None."""
    local = local_wallet(session, address) if indexed_block(session) is not None else None
    record = find_wallet(session, address)
    if local is not None and local.bank_id == settings.bank_id and local.status == "active" \
            and (record is None or record.state is WalletState.ACTIVE):
        return local
    info = network.wallet(address)
    if not info.registered:
        raise FlowNotFoundError(f"wallet {address} is not registered", wallet=address)
    if info.bank_id != id_bytes(settings.bank_id):
        raise NotCustodianError(f"wallet {address} is kept by {info.bank_code}: only its own bank can serve it "
                                "at an ATM", wallet=address, bank=info.bank_code)
    if info.status is WalletStatus.FROZEN:
        raise WalletFrozenError(f"wallet {address} is frozen", wallet=address)
    if info.status is not WalletStatus.ACTIVE or (record is not None and record.state is not WalletState.ACTIVE):
        raise WalletNotActiveError(f"wallet {address} is not active", wallet=address)
    return None


# ------------------------------------------------------------------ cash-in


def cash_in(session: Session, settings: NodeSettings, network: Network, atm: Atm, *, event_id: str, wallet: str,
            amount_minor: int, notes: Sequence[NoteCount], api_key_id: int | None = None) -> Operation:
    """The ATM counted ``notes`` for ``wallet``: record the operation and enqueue the mint of their total.

    Raises:
        FlowValidationError: the notes do not add up to ``amount_minor``.
        NotCustodianError, WalletFrozenError, WalletNotActiveError, FlowNotFoundError: not a wallet this bank
            can mint into.
        LimitExceededError: the wallet's balance cap would be exceeded.

    The wallet and its cap are checked against the node's view, and against the chain only where the view would
    refuse (:func:`_served_wallet`): money coming in that the view does not show yet is the chain's to judge,
    and a mint it refuses fails its operation, the notes booked as owed to the customer.
    """
    address = counted(wallet, amount_minor, notes)
    local = _served_wallet(session, settings, network, address)
    limits = None if local is not None and local.has_room_for(amount_minor) else network.wallet_limits(address)
    if limits is not None and limits.balance_cap != UNLIMITED:
        owned = network.balance(address) + network.held_balance(address)
        if owned + amount_minor > limits.balance_cap:
            raise LimitExceededError(f"wallet {address} may hold at most {limits.balance_cap}; it holds {owned}",
                                     balance_cap=limits.balance_cap, balance=owned)
    values, row = cash_in_rows(settings, atm.atm_id, event_id=event_id, wallet=address, amount_minor=amount_minor,
                               notes=notes, api_key_id=api_key_id)
    op = insert_new(session, Operation, values, unique=("public_id",))
    assert op is not None, "public ids are 128 random bits"
    outbox.enqueue(session, row["idempotency_key"], row["kind"], row["payload"])
    return op


def counted(wallet: str, amount_minor: int, notes: Sequence[NoteCount]) -> str:
    """The checksummed address of a cash-in's ``wallet``, once its notes add up to ``amount_minor``.

    Raises:
        FlowValidationError: a bad amount or address; no notes, or notes that add up to another amount.
    """
    _positive(amount_minor)
    if not notes:
        raise FlowValidationError("notes", "report the counted notes")
    total = sum(n.denomination * n.count for n in notes)
    if total != amount_minor:
        raise FlowValidationError("amount", f"the notes add up to {total}, not {amount_minor}")
    return _address("wallet", wallet)


def cash_in_rows(settings: NodeSettings, atm_id: str, *, event_id: str, wallet: str, amount_minor: int,
                 notes: Sequence[NoteCount], api_key_id: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The operation and the outbox row (its mint) of a cash-in that passed its checks, as column values."""
    ref = new_ref("CASHIN")
    values = operation_row(OperationKind.ATM_CASH_IN, channel=CHANNEL, api_key_id=api_key_id, wallet=wallet,
                           amount_minor=amount_minor, currency=settings.currency, account=atm_account(atm_id), ref=ref,
                           details={"atm_id": atm_id, "event_id": event_id,
                                    "notes": [{"denomination": n.denomination, "count": n.count} for n in notes]},
                           ledger=settings.ledger_adapter)
    public_id = values["public_id"]
    return values, outbox.new_row(f"{public_id}:mint", "mint",
                                  {"wallet": wallet, "amount": amount_minor, "ref": ref, "operation": public_id})


# ------------------------------------------------------------------ cash-out


def _decode_code(network: Network, code: str, now: int) -> SignedAuthorization[HoldAuthorization]:
    try:
        return decode_signed(network, code, HoldAuthorization, now=now)
    except (PayloadError, AuthorizationError) as exc:
        raise AuthorizationInvalidError(f"the withdrawal code is not valid: {exc}") from None


def _hold_used(session: Session, hold_id: str, indexed_id: str) -> bool:
    """Whether this node placed the hold (its outbox row), or the indexer saw it placed: no JSON-RPC call. A
    withdrawal code whose id the wallet used on chain in another way (a cancelled authorization) is the chain's
    to refuse: the placement fails, and nothing is dispensed."""
    db = session.connection()
    return db.execute(_PLACED_HERE, {"key": hold_key(hold_id, "place")}).first() is not None \
        or db.execute(_HOLD_INDEXED, {"hold_id": indexed_id}).first() is not None


_PLACED_HERE = select(OutboxRow.id).where(OutboxRow.idempotency_key == bindparam("key"))
_HOLD_INDEXED = select(ChainHold.id).where(ChainHold.hold_id == bindparam("hold_id"))


def submit_cash_out(session: Session, settings: NodeSettings, network: Network, atm: Atm, *, event_id: str,
                    code: str, totp: str | None = None, api_key_id: int | None = None) -> Operation:
    """The ATM scanned a withdrawal code: check it off chain and enqueue the hold.

    Raises:
        AuthorizationInvalidError: malformed, tampered, for another network, expired or expiring before the
            cash-out could settle, valid for too long, or used before.
        NotCustodianError, WalletFrozenError, WalletNotActiveError, FlowNotFoundError: not a wallet this bank
            can hold money of.
        InsufficientBalanceError, LimitExceededError: the chain would refuse the hold (the payer's spendable
            balance less its outflows in flight, its single-payment and daily limits: the shared outflow check).
        AtmCashError: the ATM does not have the cash.
        SecondFactorRequiredError, SecondFactorInvalidError: above the bank's threshold without a valid TOTP.
    """
    now = chain_now(session)
    signed = _decode_code(network, code, now)
    auth = signed.authorization
    earliest = now + settings.atm_hold_timeout + CAPTURE_MARGIN
    if auth.expires_at < earliest:
        raise AuthorizationInvalidError(f"the withdrawal code expires at {auth.expires_at}, too soon to settle a "
                                        f"cash-out: make a new one valid until at least {earliest}")
    if auth.expires_at > now + MAX_CODE_VALIDITY:
        raise AuthorizationInvalidError(f"the withdrawal code is valid for more than {MAX_CODE_VALIDITY} s: make "
                                        "a new one with a shorter validity")
    holder = auth.holder
    _served_wallet(session, settings, network, holder)
    hold_id = "0x" + auth.hold_id.hex()
    if _hold_used(session, hold_id, id_text(auth.hold_id)):
        raise AuthorizationInvalidError("this withdrawal code was used before: make a new one")
    value = auth.value
    check_outflow(session, network, holder, value, now=now)
    cash, reserved = atm_cash(session, settings, atm.atm_id)
    if cash - reserved < value:
        raise AtmCashError(f"ATM {atm.atm_id} cannot dispense {value}: it has {cash - reserved} available",
                           available=cash - reserved)
    screening = risk.screen(session, settings, risk.Payment("atm_cash_out", holder, None, value, CHANNEL, "customer",
                                                            now), totp_code=totp, api_key_id=api_key_id)
    op = new_operation(session, OperationKind.ATM_CASH_OUT, channel=CHANNEL, api_key_id=api_key_id, wallet=holder,
                       amount_minor=value, currency=settings.currency, account=atm_account(atm.atm_id),
                       ref=new_ref("ATMOUT"),
                       details={"atm_id": atm.atm_id, "event_id": event_id, "hold_id": hold_id,
                                "expires_at": auth.expires_at, "stage": CashOutStage.PLACING.value},
                       ledger=settings.ledger_adapter)
    risk.admit(session, settings, screening, op, hold_key(hold_id, "place"), "place_hold",
               operation_payload(op, "place", **hold_payload(signed)))  # (never held: an ATM's review declines)
    return op


def _cash_out(session: Session, atm: Atm, operation_id: str) -> Operation:
    op = get_operation(session, operation_id, lock=True)
    if op.kind is not OperationKind.ATM_CASH_OUT or (op.details or {}).get("atm_id") != atm.atm_id:
        raise FlowNotFoundError(f"ATM {atm.atm_id} has no cash-out {operation_id}")
    return op


def confirm_dispense(session: Session, atm: Atm, operation_id: str, *, event_id: str) -> Operation:
    """The ATM dispensed a held cash-out: enqueue the capture (burn) of the hold.

    Raises:
        InvalidStateError: the hold is not placed yet (retry), or the cash-out failed or is being released.
    """
    op = _cash_out(session, atm, operation_id)
    stage = cash_out_stage(op)
    if stage in (CashOutStage.CAPTURING, CashOutStage.CAPTURED):
        return op  # confirmed before (another event id): nothing more to do
    if stage is CashOutStage.PLACING:
        raise InvalidStateError(f"cash-out {operation_id} is not held yet: dispense nothing, retry when it is held",
                                stage=stage.value, retry=True)
    if stage not in (CashOutStage.HELD, CashOutStage.CAPTURE_FAILED):
        raise InvalidStateError(f"cash-out {operation_id} is {op.status.value} ({stage.value}): dispense nothing",
                                stage=stage.value)
    attempt = int(op.details.get("capture_attempts", 0)) + 1
    outbox.enqueue(session, hold_key(op.details["hold_id"], "capture", attempt), "capture_hold",
                   operation_payload(op, "capture", hold_id=op.details["hold_id"], ref=op.ref,
                                     amount=op.amount_minor))
    move_cash_out(op, CashOutStage.CAPTURING, capture_attempts=attempt, dispense_event=event_id,
                  dispensed_at=utcnow().isoformat())
    session.flush()
    return op


def _release(session: Session, op: Operation, reason: str) -> None:
    attempt = int(op.details.get("release_attempts", 0)) + 1
    outbox.enqueue(session, hold_key(op.details["hold_id"], "release", attempt), "release_hold",
                   operation_payload(op, "release", hold_id=op.details["hold_id"]))
    move_cash_out(op, CashOutStage.RELEASING, release_attempts=attempt, release_reason=reason)
    session.flush()


def report_fault(session: Session, atm: Atm, operation_id: str, *, event_id: str, reason: str) -> Operation:
    """The ATM could not dispense a held cash-out: enqueue the release of the hold back to the wallet.

    Raises:
        InvalidStateError: the hold is not placed yet (retry), or the dispense was confirmed, or it failed.
    """
    op = _cash_out(session, atm, operation_id)
    stage = cash_out_stage(op)
    if stage in (CashOutStage.RELEASING, CashOutStage.RELEASED):
        return op
    if stage is CashOutStage.PLACING:
        raise InvalidStateError(f"cash-out {operation_id} is not held yet: retry the fault report when it is held",
                                stage=stage.value, retry=True)
    if stage not in (CashOutStage.HELD, CashOutStage.RELEASE_FAILED):
        raise InvalidStateError(f"cash-out {operation_id} is {op.status.value} ({stage.value}): it cannot be "
                                "reversed", stage=stage.value)
    _release(session, op, f"dispense fault: {reason}")
    op.details = {**op.details, "fault_event": event_id}
    session.flush()
    return op


def sweep_expired_cash_outs(sessions: sessionmaker[Session], settings: NodeSettings, *,
                            now: datetime | None = None) -> int:
    """Release the holds of cash-outs held longer than ``settings.atm_hold_timeout`` without a dispense
    confirmation (and retry failed releases, a few times); also forget ATM message signatures too old to
    matter. One transaction per cash-out. Returns how many releases were enqueued."""
    moment = now or utcnow()
    deadline = moment - timedelta(seconds=settings.atm_hold_timeout)
    with transaction(reads_of(sessions)) as look:  # most rounds find nothing held: no write lock taken
        candidates = look.scalars(select(Operation.public_id).where(
            Operation.kind == OperationKind.ATM_CASH_OUT, Operation.status == OperationStatus.HELD)).all()
    last = _last_prune.get(settings.bank_id)
    if last is None or abs(moment.timestamp() - last) >= PRUNE_EVERY:
        with sessions.begin() as session:
            prune_messages(session, settings, now=moment.timestamp())
        _last_prune[settings.bank_id] = moment.timestamp()
    released = 0
    for public_id in candidates:
        with sessions.begin() as session:
            op = get_operation(session, public_id, lock=True)
            if op.status is not OperationStatus.HELD:
                continue
            stage, details = cash_out_stage(op), op.details or {}
            held_at = details.get("held_at")
            if stage is CashOutStage.HELD and held_at and datetime.fromisoformat(held_at) <= deadline:
                _release(session, op, f"no dispense confirmed within {settings.atm_hold_timeout} s")
                released += 1
            elif (stage is CashOutStage.RELEASE_FAILED
                  and int(details.get("release_attempts", 0)) < MAX_RELEASE_ATTEMPTS):
                _release(session, op, str(details.get("release_reason", "retry")))
                released += 1
    return released

