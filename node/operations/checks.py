"""Checks shared by the flows that move a customer's money (top-up, redemption, P2P, merchant payment, ATM
cash-out), before anything is written.

The chain has the last word on every effect; these checks only make obviously bad requests fail at once with
a clear problem instead of as a failed operation later. What money *leaves* a wallet is checked here against
the chain (spendable balance, single-payment limit, what is left of today's outflow limit), counting this
node's own outflows that are still in flight. What a wallet may *receive* (its balance cap, the payee's
status) is left to the chain: the operation then fails with the contract's reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.atm.models import hold_key
from node.errors import (
    AuthorizationInvalidError,
    FlowNotFoundError,
    FlowValidationError,
    InsufficientBalanceError,
    LimitExceededError,
    NotCustodianError,
    WalletFrozenError,
    WalletNotActiveError,
)
from node.ledger.adapter import CoreBankingLedger
from node.ledger.errors import AccountNotFoundError
from node.operations.models import Operation, OperationKind, OperationStatus
from node.outbox import OutboxRow, OutboxState
from node.settings import NodeSettings
from node.wallets.models import WalletRecord, WalletState, find_wallet
from wallet_sdk.authorizations import Authorization, SignedAuthorization, verify
from wallet_sdk.chain.network import Network, to_address
from wallet_sdk.chain.types import WalletInfo, WalletStatus
from wallet_sdk.exceptions import AuthorizationError
from wallet_sdk.payload import decode_payload

__all__ = [
    "OUTFLOW_KINDS",
    "UNLIMITED_FROM",
    "CustodiedWallet",
    "channel_of",
    "check_authorization",
    "check_outflow",
    "custodied_wallet",
    "decode_signed",
    "deposit_currency",
    "nonce_in_flight",
    "pending_outflow",
    "unlimited",
]

UNLIMITED_FROM: Final = 2**80 - 1  # DigitalCash stores any limit at or above this as "no limit"
# this node's flows that take spendable money, and their outbox keys' steps ("<operation id>:<step>"); an ATM
# cash-out takes it when its hold is placed (the hold counts as outflow on chain), under the hold's own key
OUTFLOW_KINDS: Final = (OperationKind.REDEMPTION, OperationKind.P2P, OperationKind.MERCHANT_PAYMENT,
                        OperationKind.ATM_CASH_OUT)
OUTFLOW_STEPS: Final = ("redeem", "relay", "pay")


def unlimited(value: int) -> bool:
    return value >= UNLIMITED_FROM


def channel_of(scopes: frozenset[str] | set[str], *allowed: str) -> str:
    """The channel an operation is recorded under: the first of the endpoint's ``allowed`` scopes the key has."""
    return str(next((scope for scope in allowed if scope in scopes), allowed[0] if allowed else "api"))


@dataclass(frozen=True)
class CustodiedWallet:
    """A wallet of this bank as both the node's record and the chain see it."""

    record: WalletRecord
    chain: WalletInfo

    @property
    def address(self) -> str:
        return self.record.address


def custodied_wallet(session: Session, network: Network, settings: NodeSettings, address: str, *,
                     active: bool = True) -> CustodiedWallet:
    """The wallet at ``address``, which this bank must keep (and, with ``active``, be able to move money).

    The record is locked, so concurrent requests for one wallet run one after the other.

    Raises:
        FlowNotFoundError: no wallet is registered at ``address``.
        NotCustodianError: another bank keeps it.
        WalletFrozenError / WalletNotActiveError: ``active`` and the wallet cannot move money now.
    """
    wallet = to_address(address, "wallet")
    info = network.wallet(wallet)
    record = find_wallet(session, wallet, lock=True)
    if record is None or (info.registered and info.bank_code != settings.bank_id):
        if not info.registered:
            raise FlowNotFoundError(f"no wallet is registered at {wallet}", wallet=wallet)
        raise NotCustodianError(f"wallet {wallet} is kept by {info.bank_code}, not {settings.bank_id}: "
                                "its own bank acts for it", wallet=wallet, bank=info.bank_code)
    found = CustodiedWallet(record, info)
    if active:
        require_active(found)
    return found


def require_active(wallet: CustodiedWallet) -> None:
    info, record = wallet.chain, wallet.record
    if info.status is WalletStatus.FROZEN or record.state is WalletState.FROZEN:
        raise WalletFrozenError(f"wallet {record.address} is frozen", wallet=record.address,
                                reason=info.freeze_reason or record.freeze_reason,
                                by_regulator=info.frozen_by_regulator)
    if info.status is not WalletStatus.ACTIVE or record.state is not WalletState.ACTIVE:
        shown = info.status.name.lower() if info.status is not WalletStatus.ACTIVE else record.state.value
        raise WalletNotActiveError(f"wallet {record.address} is {shown}", wallet=record.address, status=shown)


def _outflow_keys(public_id: str, kind: OperationKind, details: object) -> list[str]:
    """The outbox keys under which an operation's outflow may be enqueued."""
    if kind is OperationKind.ATM_CASH_OUT:
        hold_id = details.get("hold_id") if isinstance(details, dict) else None
        return [hold_key(str(hold_id), "place")]
    return [f"{public_id}:{step}" for step in OUTFLOW_STEPS]


def pending_outflow(session: Session, network: Network, wallet: str, block: int) -> int:
    """What this node is still sending out of ``wallet`` that the chain's state at ``block`` does not show yet:
    redemptions, P2P transfers, merchant payments and ATM holds whose transaction is not sent, or not mined by
    ``block``. (Counting a mined one again would refuse a good request in the moment between mining and the
    writer recording it.) A held ATM cash-out is no longer pending: the chain shows its hold."""
    query = select(Operation.public_id, Operation.kind, Operation.details, Operation.amount_minor).where(
        Operation.wallet == wallet, Operation.kind.in_(OUTFLOW_KINDS), Operation.status == OperationStatus.PENDING)
    pending: dict[str, int] = {}
    keys: dict[str, str] = {}
    for op in session.execute(query):
        pending[op.public_id] = op.amount_minor or 0
        keys.update({key: op.public_id for key in _outflow_keys(op.public_id, op.kind, op.details)})
    if not pending:
        return 0
    total = 0
    for row in session.scalars(select(OutboxRow).where(OutboxRow.idempotency_key.in_(keys))):
        if row.state is OutboxState.RECEIVED or (row.state is OutboxState.SUBMITTED
                                                 and not _mined_by(network, row.tx_hash, block)):
            total += pending[keys[row.idempotency_key]]
    return total


def _mined_by(network: Network, tx_hash: str | None, block: int) -> bool:
    mined = network.mined(tx_hash) if tx_hash is not None else None
    return mined is not None and mined[1] <= block


def nonce_in_flight(session: Session, wallet: str, kind: OperationKind, nonce: str) -> bool:
    """True if a pending operation of ``kind`` of ``wallet`` carries the authorization nonce ``nonce``."""
    details: Iterable[object] = session.scalars(select(Operation.details).where(
        Operation.wallet == wallet, Operation.kind == kind, Operation.status == OperationStatus.PENDING))
    return any(isinstance(d, dict) and d.get("nonce") == nonce for d in details)


def check_outflow(session: Session, network: Network, wallet: str, amount_minor: int) -> None:
    """Refuse at once a payment out of ``wallet`` that the chain would refuse.

    Raises:
        InsufficientBalanceError: spendable balance less pending outflow < amount.
        LimitExceededError: above the tier's single-payment limit, or above what is left of today's limit.
    """
    block = network.block_number
    spendable = network.balance(wallet, block=block)
    pending = pending_outflow(session, network, wallet, block)
    if amount_minor > spendable - pending:
        raise InsufficientBalanceError(
            f"wallet {wallet} can spend {max(spendable - pending, 0)}, {amount_minor} requested",
            wallet=wallet, balance=spendable, pending=pending, requested=amount_minor)
    limits = network.wallet_limits(wallet, block=block)
    if limits is not None and not unlimited(limits.single_payment_limit) and amount_minor > limits.single_payment_limit:
        raise LimitExceededError(
            f"{amount_minor} is above the single-payment limit of {limits.single_payment_limit} of the wallet's tier",
            wallet=wallet, limit="single_payment", limit_minor=limits.single_payment_limit, requested=amount_minor)
    remaining = network.remaining_daily_allowance(wallet, block=block)
    if not unlimited(remaining) and amount_minor > remaining - pending:
        left = max(remaining - pending, 0)
        raise LimitExceededError(
            f"{amount_minor} is above what is left of today's outflow limit ({left})", wallet=wallet,
            limit="daily_outflow", limit_minor=limits.daily_outflow_limit if limits else None, remaining=left,
            requested=amount_minor)


def check_authorization(signed: SignedAuthorization[Authorization], network: Network, *, signer: str,
                        now: int | None = None) -> None:
    """Check a customer's signed authorization off chain as the contract will: our chain and token, the
    stated signer's signature, and its deadline against the chain's clock.

    Raises:
        AuthorizationInvalidError: for another chain or token, not signed by ``signer``, or expired.
    """
    domain = network.domain()
    if signed.domain != domain:
        raise AuthorizationInvalidError("the authorization was signed for another chain or token contract",
                                        expected_chain_id=domain.chain_id, chain_id=signed.domain.chain_id)
    if signed.signer != signer:
        raise AuthorizationInvalidError(f"the authorization is for wallet {signed.signer}, not {signer}")
    try:
        verify(signed, domain)
        signed.authorization.check_time(network.now() if now is None else now)
    except AuthorizationError as exc:
        raise AuthorizationInvalidError(str(exc)) from None


def deposit_currency(ledger: CoreBankingLedger, account: str, currency: str, *, field: str = "account") -> None:
    """The deposit ``account`` exists in the ledger and keeps ``currency`` (the wallet's)."""
    try:
        balance = ledger.balance(account)
    except AccountNotFoundError:
        raise FlowNotFoundError(f"the bank account {account} does not exist in the ledger", account=account) from None
    if balance.currency != currency:
        raise FlowValidationError(field, f"the bank account {account} is in {balance.currency}, wallets in {currency}")


A = TypeVar("A", bound=Authorization)


def decode_signed(network: Network, text: str, kind: type[A], *, now: int | None = None) -> SignedAuthorization[A]:
    """A signed authorization of ``kind`` the app sent as its QR/text payload (``WALLETNET:1:<KIND>:...``),
    checked against this network's chain, token and clock (``now``: chain time, read if not given).

    Raises:
        PayloadError / AuthorizationError: malformed, for another chain or token, tampered or expired.
        AuthorizationInvalidError: a payload of another kind.
    """
    domain = network.domain()
    item = decode_payload(text, chain_id=domain.chain_id, contract=domain.verifying_contract, token_name=domain.name,
                          now=network.now() if now is None else now)
    if not isinstance(item, SignedAuthorization) or not isinstance(item.authorization, kind):
        raise AuthorizationInvalidError(f"the payload is not a signed {kind.__name__}")
    return cast("SignedAuthorization[A]", item)
