"""Wallet opening (counter, app, bulk), tier changes, freeze/unfreeze, bank-account binding, closure.

Each service checks the request against the bank's record (:class:`~node.wallets.models.WalletRecord`)
and the chain, then records an :class:`~node.operations.models.Operation` and enqueues the WalletRegistry call
in the same transaction; the completions (:mod:`node.wallets.completions`) apply the chain's answer to the
record.

- Opening: the channel decides which verifications are allowed, the verification decides the tier (counter:
  ``in_person`` -> 1; app: ``bank_account`` -> 2, ``identity_document`` -> 3, ``phone`` -> 4; bulk: any, with
  an optional weaker tier). One opening per customer and channel (``enrolment_key``): asking again returns
  the same wallet, unless that one failed or was closed.
- Bank accounts: a deposit account of this bank's ledger; the chain gets ``keccak256(salt || code)`` with a
  fresh 32-byte salt per binding, so account numbers never appear on chain.
- Closure: ``closeWallet`` burns the whole balance under the closure's ref; the completion credits the burned
  amount to the bound account against ``chain:issued`` (reconciliation's rule for every burn): the amount of
  the ``WalletClosed`` event, or the balance seen here, which is exact because the closure is refused while
  any other operation on the wallet is in flight.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from eth_utils.crypto import keccak
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from node.db.base import utcnow
from node.errors import (
    AccountNotBoundError,
    FlowConflictError,
    FlowError,
    FlowNotFoundError,
    FlowValidationError,
    InvalidStateError,
    NotCustodianError,
)
from node.ledger import open_ledger
from node.ledger.errors import AccountNotFoundError
from node.ledger.types import AccountKind
from node.operations.models import IN_FLIGHT, Operation, OperationKind, new_operation, new_ref, operation_payload
from node.outbox import enqueue
from node.second_factor import service as second_factor
from node.settings import NodeSettings
from node.wallets import completions as _completions  # noqa: F401  (registers the wallet flows' completions)
from node.wallets.models import CustodyMode, Verification, WalletRecord, WalletState, find_wallet, seal_key
from wallet_sdk.chain.network import Network, to_address
from wallet_sdk.chain.types import WalletInfo, WalletStatus
from wallet_sdk.client.wallets import registration_signer
from wallet_sdk.keys import WalletKey

__all__ = [
    "ADMIN_KINDS",
    "CHANNEL_VERIFICATIONS",
    "TIER_OF",
    "Actor",
    "Channel",
    "EnrolmentOutcome",
    "Opened",
    "Opening",
    "OpeningRequest",
    "account_hash",
    "bind_account",
    "change_tier",
    "check_request",
    "close_wallet",
    "enrol_row",
    "freeze",
    "open_wallet",
    "opening_request",
    "unfreeze",
    "wallet_record",
]


class Channel(StrEnum):
    TELLER = "teller"
    APP = "app"
    BULK = "bulk"


TIER_OF: Final = {Verification.IN_PERSON: 1, Verification.BANK_ACCOUNT: 2, Verification.IDENTITY_DOCUMENT: 3,
                  Verification.PHONE: 4}
CHANNEL_VERIFICATIONS: Final = {
    Channel.TELLER: frozenset({Verification.IN_PERSON}),
    Channel.APP: frozenset({Verification.BANK_ACCOUNT, Verification.IDENTITY_DOCUMENT, Verification.PHONE}),
    Channel.BULK: frozenset(Verification),
}
ADMIN_KINDS: Final = frozenset({OperationKind.TIER_CHANGE, OperationKind.FREEZE, OperationKind.UNFREEZE,
                                OperationKind.ACCOUNT_BINDING, OperationKind.WALLET_CLOSE})

_CUSTOMER_REF: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
_PHONE: Final = re.compile(r"\+?[0-9]{6,15}")
_PHONE_NOISE: Final = re.compile(r"[\s().-]")
_MAX_ACCOUNT: Final = 128


@dataclass(frozen=True)
class Actor:
    """Who asks: the channel the operation is recorded under and the API key (None from the CLI or tests)."""

    channel: str
    api_key_id: int | None = None


# ------------------------------------------------------------------ chain and record checks


def _address(value: object, field: str = "address") -> str:
    try:
        return str(to_address(value, field))
    except ValueError as exc:
        raise FlowValidationError(field, str(exc)) from None


def _bank_code(info: WalletInfo) -> str:
    return info.bank_id.rstrip(b"\0").decode("ascii", errors="replace")


def _own_wallet(session: Session, settings: NodeSettings, network: Network, address: str, *,
                lock: bool = True) -> tuple[WalletRecord, WalletInfo]:
    """This bank's record of ``address`` (locked unless ``lock`` is False) and the chain's.

    Raises:
        FlowNotFoundError: no wallet at ``address`` (or one this node has no record of).
        NotCustodianError: another bank keeps it.
    """
    checked = _address(address)
    record = find_wallet(session, checked, lock=lock)
    info = network.wallet(checked)
    if record is not None:
        return record, info
    if not info.registered:
        raise FlowNotFoundError(f"no wallet is registered at {checked}", address=checked)
    bank = _bank_code(info)
    if bank != settings.bank_id:
        raise NotCustodianError(f"wallet {checked} is kept by {bank or 'the network'}, not by {settings.bank_id}: "
                                "only its custodian bank can act for it", address=checked, custodian=bank or None)
    raise FlowNotFoundError(f"wallet {checked} is registered to {bank} on chain, but this node did not open it",
                            address=checked)


def wallet_record(session: Session, settings: NodeSettings, network: Network, address: str) -> WalletRecord:
    """This bank's record of the wallet at ``address`` (not-found / not-custodied-here errors as for changes)."""
    return _own_wallet(session, settings, network, address, lock=False)[0]


def _require_open(record: WalletRecord, info: WalletInfo) -> None:
    """The wallet is registered and not closed, and no other change of it is waiting for the chain."""
    if record.state is WalletState.PENDING:
        raise InvalidStateError(f"wallet {record.address} is not open yet: its opening waits for the chain",
                                wallet=record.address, state=record.state.value)
    if record.state in (WalletState.FAILED, WalletState.CLOSING, WalletState.CLOSED) or \
            info.status in (WalletStatus.NONE, WalletStatus.CLOSED):
        state = WalletState.CLOSED.value if info.status is WalletStatus.CLOSED else record.state.value
        raise InvalidStateError(f"wallet {record.address} is {state}", wallet=record.address, state=state)


def _in_flight(session: Session, address: str, kinds: frozenset[OperationKind] | None = None) -> Operation | None:
    query = select(Operation).where(or_(Operation.wallet == address, Operation.counterparty == address),
                                    Operation.status.in_(IN_FLIGHT))
    if kinds is not None:
        query = query.where(Operation.kind.in_(kinds))
    return session.scalars(query.order_by(Operation.id).limit(1)).first()


def _no_change_in_flight(session: Session, address: str) -> None:
    pending = _in_flight(session, address, ADMIN_KINDS)
    if pending is not None:
        raise InvalidStateError(f"another change of wallet {address} ({pending.kind.value}, {pending.public_id}) is "
                                "waiting for the chain; retry when it is final", wallet=address,
                                operation=pending.public_id)


# ------------------------------------------------------------------ bank accounts


def account_hash(salt_hex: str, account_code: str) -> str:
    """``keccak256(salt || utf8(account_code))`` as 0x-hex: what WalletRegistry keeps of a bound account."""
    return "0x" + keccak(bytes.fromhex(salt_hex.removeprefix("0x")) + account_code.encode()).hex()


@dataclass(frozen=True)
class _Binding:
    code: str
    salt: str
    hash: str


def _deposit_account(session: Session, settings: NodeSettings, code: object, customer_ref: str) -> _Binding:
    """A deposit account of this bank owned by ``customer_ref`` (as the core-banking ledger says, whatever the
    adapter: an account whose owner it cannot tell is refused, never bound unchecked), in the node's currency,
    with a fresh salt."""
    if not isinstance(code, str) or not 1 <= len(code.strip()) <= _MAX_ACCOUNT:
        raise FlowValidationError("account", f"an account code is 1..{_MAX_ACCOUNT} characters")
    code = code.strip()
    ledger = open_ledger(session, settings.ledger_adapter)
    try:
        info = ledger.account_info(code)
    except AccountNotFoundError:
        raise FlowValidationError("account", f"this bank has no deposit account {code!r}", account=code) from None
    if info.kind is not AccountKind.CUSTOMER_DEPOSIT:
        raise FlowValidationError("account", f"{code!r} is not a customer deposit account", account=code)
    if not info.owner_ref:
        raise FlowValidationError("account", f"the bank's ledger names no owner of deposit account {code!r}, so it "
                                             "cannot be bound to a customer's wallet", account=code)
    if info.owner_ref != customer_ref:
        raise FlowValidationError("account", f"deposit account {code!r} belongs to another customer", account=code)
    if info.currency != settings.currency:
        raise FlowValidationError("account", f"{code!r} is in {info.currency}, wallets in {settings.currency}",
                                  account=code)
    salt = "0x" + secrets.token_hex(32)
    return _Binding(code, salt, account_hash(salt, code))


# ------------------------------------------------------------------ opening


@dataclass(frozen=True)
class OpeningRequest:
    """What an opening asks for (already parsed: see :func:`opening_request` for raw bulk rows)."""

    customer_ref: str
    verification: Verification
    channel: Channel
    custody: CustodyMode = CustodyMode.CUSTODIAL
    address: str | None = None  # self-custody
    proof: str | None = None  # self-custody: the key's signature of the registration (required in the app)
    phone: str | None = None
    account: str | None = None
    tier: int | None = None  # bulk only: a weaker tier than the verification allows

    @property
    def enrolment_key(self) -> str:
        return f"{self.channel.value}:{self.customer_ref}"


@dataclass(frozen=True)
class Opening:
    record: WalletRecord
    operation: Operation
    created: bool


def _enum(kind: type[Any], value: object, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise FlowValidationError(field, f"{value!r} is not one of {allowed}") from None


def _tier(value: object) -> int:
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
        raise FlowValidationError("tier", f"a tier is 1, 2, 3 or 4, not {value!r}")
    return value


def _text(row: Mapping[str, Any], name: str) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FlowValidationError(name, "expected text")
    return value.strip() or None


def opening_request(row: Mapping[str, Any], channel: Channel = Channel.BULK) -> OpeningRequest:
    """An :class:`OpeningRequest` from loosely typed fields (a bulk enrolment row)."""
    customer_ref = _text(row, "customer_ref") or ""
    verification = _enum(Verification, _text(row, "verification"), "verification")
    custody = _enum(CustodyMode, _text(row, "custody") or CustodyMode.CUSTODIAL.value, "custody")
    tier = row.get("tier")
    return OpeningRequest(customer_ref=customer_ref, verification=verification, channel=channel, custody=custody,
                          address=_text(row, "address"), proof=_text(row, "proof"), phone=_text(row, "phone"),
                          account=_text(row, "account"),
                          tier=None if tier is None or tier == "" else _tier(tier))


def check_request(request: OpeningRequest, settings: NodeSettings) -> tuple[int, str | None, str | None]:
    """The tier, the normalized phone and the (checksummed) self-custody address of a valid request."""
    if not _CUSTOMER_REF.fullmatch(request.customer_ref):
        raise FlowValidationError("customer_ref", "a customer reference is 1..64 letters, digits and ._:/-, "
                                                  "starting with a letter or digit")
    allowed = CHANNEL_VERIFICATIONS[request.channel]
    if request.verification not in allowed:
        raise FlowValidationError("verification", f"the {request.channel.value} channel opens wallets with "
                                                  f"{', '.join(sorted(v.value for v in allowed))}, "
                                                  f"not {request.verification.value}")
    tier = TIER_OF[request.verification]
    if request.tier is not None:
        if request.channel is not Channel.BULK:
            raise FlowValidationError("tier", "the tier follows from the verification")
        if request.tier < tier:
            raise FlowValidationError("tier", f"tier {request.tier} needs a stronger verification than "
                                              f"{request.verification.value} (tier {tier} at most)")
        tier = request.tier
    phone = None
    if request.phone is not None:
        phone = _PHONE_NOISE.sub("", request.phone)
        if not _PHONE.fullmatch(phone):
            raise FlowValidationError("phone", "a phone number is 6..15 digits, optionally after +")
    if request.verification is Verification.PHONE and phone is None:
        raise FlowValidationError("phone", "a phone-verified wallet needs the phone number")
    if request.verification is Verification.BANK_ACCOUNT and request.account is None:
        raise FlowValidationError("account", "a bank-account-verified wallet needs the account")
    address = None
    if request.custody is CustodyMode.SELF:
        if request.address is None:
            raise FlowValidationError("address", "a self-custody wallet needs the address of the customer's key")
        address = _address(request.address)
        if request.proof is not None or request.channel is Channel.APP:
            _check_proof(address, request, settings)
    elif request.address is not None:
        raise FlowValidationError("address", "a custodial wallet's key (and address) is made by the bank")
    return tier, phone, address


def _check_proof(address: str, request: OpeningRequest, settings: NodeSettings) -> None:
    if request.proof is None:
        raise FlowValidationError("proof", "a self-custody wallet opened in the app needs the key's signature of "
                                           "the registration (wallet_sdk.client.wallets.sign_registration)")
    try:
        signer = registration_signer(address, settings.bank_id, request.customer_ref, request.proof)
    except ValueError as exc:
        raise FlowValidationError("proof", str(exc)) from None
    if signer != address:
        raise FlowValidationError("proof", f"the proof is not signed by {address} for this bank and customer")


def _opening_of(session: Session, record: WalletRecord) -> Operation:
    op = session.scalars(select(Operation).where(Operation.kind == OperationKind.WALLET_OPEN,
                                                 Operation.wallet == record.address)
                         .order_by(Operation.id.desc()).limit(1)).first()
    if op is None:  # pragma: no cover - every record is written with its opening
        raise FlowNotFoundError(f"wallet {record.address} has no opening operation")
    return op


def _replay(session: Session, existing: WalletRecord, request: OpeningRequest, tier: int,
            address: str | None) -> Opening:
    same = (existing.verification is request.verification and existing.tier == tier
            and existing.custody is request.custody and (address is None or existing.address == address))
    if not same:
        raise FlowConflictError(f"customer {request.customer_ref} was enrolled in the {request.channel.value} channel "
                                f"with other details (wallet {existing.address})", wallet=existing.address)
    return Opening(existing, _opening_of(session, existing), created=False)


def _by_enrolment(session: Session, key: str) -> WalletRecord | None:
    return session.scalars(select(WalletRecord).where(WalletRecord.enrolment_key == key).with_for_update()
                           ).one_or_none()


def open_wallet(session: Session, settings: NodeSettings, network: Network | None, request: OpeningRequest, *,
                actor: Actor | None = None) -> Opening:
    """Open a wallet, or return the one this enrolment (customer + channel) opened before.

    Raises:
        FlowValidationError: a field is wrong for the channel or verification (or the account is unknown).
        FlowConflictError: the enrolment opened a wallet with other details, or the address is taken.
    """
    tier, phone, address = check_request(request, settings)
    key = request.enrolment_key
    existing = _by_enrolment(session, key)
    if existing is not None:
        if existing.state not in (WalletState.FAILED, WalletState.CLOSED):
            return _replay(session, existing, request, tier, address)
        existing.enrolment_key = None  # that wallet is gone: this enrolment opens a new one
        session.flush()
    binding = _deposit_account(session, settings, request.account, request.customer_ref) if request.account else None
    if address is not None:
        taken = find_wallet(session, address)
        if taken is not None or (network is not None and network.wallet(address).registered):
            raise FlowConflictError(f"wallet {address} is registered already", wallet=address)
        key_ciphertext = None
    else:
        wallet_key = WalletKey.create()
        address = str(wallet_key.address)
        key_ciphertext = seal_key(settings, wallet_key)
    now = utcnow()
    record = WalletRecord(address=address, customer_ref=request.customer_ref, enrolment_key=key,
                          channel=request.channel.value, verification=request.verification, tier=tier,
                          custody=request.custody, state=WalletState.PENDING, phone=phone,
                          account_code=binding.code if binding else None,
                          account_salt=binding.salt if binding else None,
                          account_hash=binding.hash if binding else None, key_ciphertext=key_ciphertext,
                          created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:  # a concurrent twin of this enrolment committed first
        twin = _by_enrolment(session, key)
        if twin is None:
            raise FlowConflictError(f"wallet {address} is registered already", wallet=address) from None
        return _replay(session, twin, request, tier, address if request.custody is CustodyMode.SELF else None)
    who = actor or Actor(request.channel.value)
    op = new_operation(session, OperationKind.WALLET_OPEN, channel=who.channel, api_key_id=who.api_key_id,
                       wallet=address, account=binding.code if binding else None,
                       details={"customer_ref": request.customer_ref, "verification": request.verification.value,
                                "tier": tier, "custody": request.custody.value})
    payload: dict[str, Any] = {"wallet": address, "tier": tier}
    if binding is not None:
        payload["account_hash"] = binding.hash
    enqueue(session, f"{op.public_id}:open", "open_wallet", operation_payload(op, **payload))
    return Opening(record, op, created=True)


@dataclass(frozen=True)
class Opened:
    """What an enrolment's answer shows of one opening."""

    wallet: str
    operation_id: str
    tier: int
    custody: CustodyMode
    created: bool


@dataclass(frozen=True)
class EnrolmentOutcome:
    """One bulk row: its opening (the records, or what the answer shows of them), or the error that stopped it
    (nothing of that row was written)."""

    index: int
    customer_ref: str
    opening: Opening | None = None
    error: FlowError | None = None
    opened: Opened | None = None  # a batch's opening: no ORM object is made for the answer

    @property
    def shown(self) -> Opened | None:
        if self.opened is not None or self.opening is None:
            return self.opened
        record = self.opening.record
        return Opened(record.address, self.opening.operation.public_id, record.tier, record.custody,
                      self.opening.created)


def enrol_row(session: Session, settings: NodeSettings, network: Network | None, index: int,
              row: Mapping[str, Any], *, actor: Actor) -> EnrolmentOutcome:
    """One row of a bulk enrolment on its own: it opens (or finds) the wallet of ``bulk:<customer_ref>`` in a
    savepoint of its own, so a bad row is reported and the others go through (:mod:`node.wallets.bulk` sends the
    rows it cannot batch here)."""
    customer_ref = str(row.get("customer_ref") or "")
    try:
        with session.begin_nested():
            opening = open_wallet(session, settings, network, opening_request(row), actor=actor)
    except FlowError as exc:
        return EnrolmentOutcome(index, customer_ref, error=exc)
    return EnrolmentOutcome(index, customer_ref, opening=opening)


# ------------------------------------------------------------------ tier, freeze, binding


def _admin_operation(session: Session, kind: OperationKind, record: WalletRecord, actor: Actor, outbox_kind: str,
                     payload: Mapping[str, Any], **details: Any) -> Operation:
    op = new_operation(session, kind, channel=actor.channel, api_key_id=actor.api_key_id, wallet=record.address,
                       details=details)
    enqueue(session, f"{op.public_id}:{outbox_kind}", outbox_kind,
            operation_payload(op, wallet=record.address, **payload))
    return op


def change_tier(session: Session, settings: NodeSettings, network: Network, address: str, tier: int, *,
                actor: Actor, reason: str | None = None) -> Operation:
    """Move the wallet to ``tier`` (its limits change with it once the chain has it)."""
    new_tier = _tier(tier)
    record, info = _own_wallet(session, settings, network, address)
    _require_open(record, info)
    _no_change_in_flight(session, record.address)
    if info.tier == new_tier:
        raise FlowValidationError("tier", f"wallet {record.address} is tier {new_tier} already")
    return _admin_operation(session, OperationKind.TIER_CHANGE, record, actor, "set_tier", {"tier": new_tier},
                            previous_tier=info.tier, tier=new_tier, reason=reason)


def freeze(session: Session, settings: NodeSettings, network: Network, address: str, reason: int, *,
           actor: Actor, note: str | None = None) -> Operation:
    """Freeze an active wallet with a reason code (1..65535): it can neither send nor receive."""
    if isinstance(reason, bool) or not isinstance(reason, int) or not 1 <= reason <= 0xFFFF:
        raise FlowValidationError("reason", "a freeze reason is a code from 1 to 65535")
    record, info = _own_wallet(session, settings, network, address)
    _require_open(record, info)
    _no_change_in_flight(session, record.address)
    if info.status is not WalletStatus.ACTIVE:
        raise InvalidStateError(f"wallet {record.address} is {info.status.name.lower()}, not active",
                                wallet=record.address, state=info.status.name.lower())
    return _admin_operation(session, OperationKind.FREEZE, record, actor, "freeze", {"reason": reason},
                            reason=reason, note=note)


def unfreeze(session: Session, settings: NodeSettings, network: Network, address: str, *, actor: Actor,
             note: str | None = None) -> Operation:
    """Lift the bank's own freeze (a regulator's freeze is the regulator's to lift)."""
    record, info = _own_wallet(session, settings, network, address)
    _require_open(record, info)
    _no_change_in_flight(session, record.address)
    if info.status is not WalletStatus.FROZEN:
        raise InvalidStateError(f"wallet {record.address} is not frozen", wallet=record.address,
                                state=info.status.name.lower())
    if info.frozen_by_regulator:
        raise InvalidStateError(f"wallet {record.address} is frozen by the regulator; only the regulator lifts it",
                                wallet=record.address, state="frozen")
    return _admin_operation(session, OperationKind.UNFREEZE, record, actor, "unfreeze", {},
                            reason=info.freeze_reason, note=note)


def bind_account(session: Session, settings: NodeSettings, network: Network, address: str, account: str, *,
                 actor: Actor) -> Operation:
    """Bind a deposit account of this bank to the wallet (replacing any earlier one once confirmed)."""
    record, info = _own_wallet(session, settings, network, address)
    _require_open(record, info)
    _no_change_in_flight(session, record.address)
    binding = _deposit_account(session, settings, account, record.customer_ref)
    op = _admin_operation(session, OperationKind.ACCOUNT_BINDING, record, actor, "bind_account",
                          {"account_hash": binding.hash}, account_hash=binding.hash, account_salt=binding.salt)
    op.account = binding.code
    return op


# ------------------------------------------------------------------ closure


def close_wallet(session: Session, settings: NodeSettings, network: Network, address: str, *, actor: Actor,
                 totp: str | None = None) -> Operation:
    """Close the wallet: the chain burns its balance, which is then credited to the bound account.

    Raises:
        InvalidStateError: money on hold, a regulator's freeze, or another operation on the wallet in flight.
        AccountNotBoundError: a balance to pay out and no bound account.
        SecondFactorRequiredError / SecondFactorInvalidError: the balance is above the threshold.
    """
    record, info = _own_wallet(session, settings, network, address)
    _require_open(record, info)
    pending = _in_flight(session, record.address)
    if pending is not None:
        raise InvalidStateError(f"operation {pending.public_id} ({pending.kind.value}) on wallet {record.address} "
                                "is still in flight; close the wallet when it is final", wallet=record.address,
                                operation=pending.public_id)
    if info.frozen_by_regulator:
        raise InvalidStateError(f"wallet {record.address} is frozen by the regulator and cannot be closed",
                                wallet=record.address, state="frozen")
    held = network.held_balance(record.address)
    if held:
        raise InvalidStateError(f"wallet {record.address} has {held} minor units on hold (an ATM cash-out); close "
                                "it once the hold is captured or released", wallet=record.address, held=held)
    balance = network.balance(record.address)
    if balance and record.account_code is None:
        raise AccountNotBoundError(f"wallet {record.address} holds {balance} minor units and no bank account is "
                                   "bound to pay them out to: bind one first", wallet=record.address, balance=balance)
    second_factor.require(session, settings, record.address, balance, totp, api_key_id=actor.api_key_id)
    ref = new_ref("CLOSE")
    op = new_operation(session, OperationKind.WALLET_CLOSE, channel=actor.channel, api_key_id=actor.api_key_id,
                       wallet=record.address, amount_minor=balance, currency=settings.currency,
                       account=record.account_code, ref=ref, details={"previous_state": record.state.value},
                       ledger=settings.ledger_adapter)
    enqueue(session, f"{op.public_id}:close", "close_wallet",
            operation_payload(op, wallet=record.address, ref=ref, expected_amount=balance))
    record.state = WalletState.CLOSING
    record.updated_at = utcnow()
    return op
