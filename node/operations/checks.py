"""Checks shared by the flows that move a customer's money (top-up, redemption, P2P, merchant payment, ATM
cash-out), before anything is written.

The chain has the last word on every effect; these checks only make obviously bad requests fail at once with
a clear problem instead of as a failed operation later. What money *leaves* a wallet (spendable balance,
single-payment limit, what is left of today's outflow limit) is checked first against the node's own view
(:mod:`node.operations.local_state`: the indexer's checkpoint and this node's outflows it does not show yet),
with no JSON-RPC call; only when that view would refuse, or does not know the wallet, is it checked against the
chain, counting this node's own outflows that are still in flight. What a wallet may *receive* (its balance
cap, the payee's status) is left to the chain: the operation then fails with the contract's reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final, TypeVar, cast

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import Session

from node.errors import (
    AuthorizationInvalidError,
    FlowNotFoundError,
    FlowValidationError,
    InsufficientBalanceError,
    LimitExceededError,
)
from node.ledger.adapter import CoreBankingLedger
from node.ledger.errors import AccountNotFoundError
from node.operations.local_state import (
    LocalWallet,
    indexed_block,
    keys_mined,
    keys_mined_after,
    local_now,
    local_wallet,
    spent_today,
)
from node.operations.models import Operation, OperationKind, OperationStatus, hold_key, hold_key_expression
from node.outbox import OutboxRow, OutboxState
from node.writer.models import ChainTransaction
from wallet_sdk.authorizations import Authorization, SignedAuthorization, verify
from wallet_sdk.chain.network import Network
from wallet_sdk.exceptions import AuthorizationError
from wallet_sdk.payload import decode_payload

__all__ = [
    "OUTFLOW_KINDS",
    "UNLIMITED_FROM",
    "admits",
    "channel_of",
    "check_authorization",
    "check_outflow",
    "decode_signed",
    "deposit_currency",
    "nonce_in_flight",
    "nonces_in_flight",
    "pending_outflow",
    "unindexed_outflows",
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


def _outflow_keys(public_id: str, kind: OperationKind, hold_id: object) -> list[str]:
    """The outbox keys under which an operation's outflow may be enqueued (an ATM cash-out's: its hold's)."""
    if kind is OperationKind.ATM_CASH_OUT:
        return [hold_key(str(hold_id), "place")]
    return [f"{public_id}:{step}" for step in OUTFLOW_STEPS]


_HOLD_ID = Operation.details["hold_id"].as_string()  # (not the whole of details: decoding it cost every payment)


def pending_outflow(session: Session, network: Network, wallet: str, block: int) -> int:
    """What this node is still sending out of ``wallet`` that the chain's state at ``block`` does not show yet:
    redemptions, P2P transfers, merchant payments and ATM holds whose transaction is not sent, or not mined by
    ``block``. (Counting a mined one again would refuse a good request in the moment between mining and the
    writer recording it.) A held ATM cash-out is no longer pending: the chain shows its hold. A row the writer
    confirmed between the two reads below (the operation read as pending, its row then confirmed) counts unless
    its transaction was mined by ``block``: the chain's state at ``block`` does not show a later one, and leaving
    it out let two API processes admit one payment more than a balance covered (tests/api/test_failover.py)."""
    query = select(Operation.public_id, Operation.kind, _HOLD_ID.label("hold_id"), Operation.amount_minor).where(
        Operation.wallet == wallet, Operation.kind.in_(OUTFLOW_KINDS), Operation.status == OperationStatus.PENDING)
    pending: dict[str, int] = {}
    keys: dict[str, str] = {}
    for op in session.execute(query):
        pending[op.public_id] = op.amount_minor or 0
        keys.update({key: op.public_id for key in _outflow_keys(op.public_id, op.kind, op.hold_id)})
    if not pending:
        return 0
    total = 0
    for row in session.scalars(select(OutboxRow).where(OutboxRow.idempotency_key.in_(keys))):
        if row.state is OutboxState.RECEIVED or (row.state in (OutboxState.SUBMITTED, OutboxState.CONFIRMED)
                                                 and not _mined_by(network, row.tx_hash, block)):
            total += pending[keys[row.idempotency_key]]
    return total


def _mined_by(network: Network, tx_hash: str | None, block: int) -> bool:
    mined = network.mined(tx_hash) if tx_hash is not None else None
    return mined is not None and mined[1] <= block


_OUTFLOWS = select(Operation.wallet, Operation.public_id, Operation.kind, _HOLD_ID.label("hold_id"),
                   Operation.amount_minor).where(Operation.wallet.in_(bindparam("wallets", expanding=True)),
                                                 Operation.kind.in_(OUTFLOW_KINDS))
_PENDING_OUTFLOWS = _OUTFLOWS.where(Operation.status == OperationStatus.PENDING)
_REFLECTED = keys_mined(ChainTransaction.block_number <= bindparam("block")).where(  # keys as _outflow_keys
    OutboxRow.idempotency_key.in_([Operation.public_id + f":{step}" for step in OUTFLOW_STEPS]
                                  + [hold_key_expression(_HOLD_ID, "place")]))
_PENDING_UNREFLECTED = (
    select(Operation.wallet, func.sum(Operation.amount_minor))
    .where(Operation.wallet.in_(bindparam("wallets", expanding=True)), Operation.kind.in_(OUTFLOW_KINDS),
           Operation.status == OperationStatus.PENDING, ~exists(_REFLECTED))
    .group_by(Operation.wallet))
_MINED_OUTFLOWS = _OUTFLOWS.where(  # done (or released) since: their keys say which transaction they were
    Operation.status.not_in((OperationStatus.PENDING, OperationStatus.FAILED)),
    Operation.public_id.in_(bindparam("ids", expanding=True)) | (Operation.kind == OperationKind.ATM_CASH_OUT))


def unindexed_outflows(session: Session, wallets: Iterable[str], block: int) -> dict[str, int]:
    """What this node sends out of each of ``wallets`` that the indexer's checkpoint at ``block`` does not show:
    outflow operations still pending whose transaction was not recorded as mined by ``block``, and later ones
    (held, completed, released) whose transaction was mined after it. Counting a released hold's placement, or
    an operation mined at ``block`` + 1 that the indexer is applying right now, only makes the view stricter.
    (Two Core statements on the session's connection for any number of wallets, the pending ones summed in the
    database: every payment runs them, and a writer behind leaves many pending; see local_state's docstring.)"""
    wanted = list(wallets)
    totals = dict.fromkeys(wanted, 0)
    db = session.connection()
    for wallet, amount in db.execute(_PENDING_UNREFLECTED, {"wallets": wanted, "block": block}):
        totals[wallet] += int(amount or 0)
    recent = keys_mined_after(session, block)
    if recent:
        ids = list({key.split(":", 1)[0] for key in recent})
        for op in db.execute(_MINED_OUTFLOWS, {"wallets": wanted, "ids": ids}):
            if recent.intersection(_outflow_keys(op.public_id, op.kind, op.hold_id)):
                totals[op.wallet] += op.amount_minor or 0
    return totals


def unindexed_outflow(session: Session, wallet: str, block: int) -> int:
    """:func:`unindexed_outflows` of one wallet."""
    return unindexed_outflows(session, [wallet], block)[wallet]


def admits(local: LocalWallet, amount_minor: int, unindexed: int, spent_today: Callable[[], int]) -> bool:
    """Whether the chain takes ``amount_minor`` out of the wallet ``local`` shows, with ``unindexed`` more sent
    out of it that ``local`` does not show yet; ``spent_today`` reads what the indexed history shows it sent
    today (only asked when the wallet has a daily limit)."""
    if local.status != "active":
        return False
    if local.single_payment_limit is not None and amount_minor > local.single_payment_limit:
        return False
    if amount_minor > local.spendable - unindexed:
        return False
    return local.daily_outflow_limit is None or spent_today() + unindexed + amount_minor <= local.daily_outflow_limit


def _admitted_locally(session: Session, wallet: str, amount_minor: int, now: int | None) -> bool:
    """True if the node's own view (module docstring) says the chain takes ``amount_minor`` out of ``wallet``;
    False if it would refuse or does not know the wallet, its limits or how far the chain is indexed."""
    block = indexed_block(session)
    local = local_wallet(session, wallet) if block is not None else None
    if block is None or local is None or local.status != "active":
        return False
    return admits(local, amount_minor, unindexed_outflow(session, wallet, block),
                  lambda: spent_today(session, wallet, local_now(session, wallet) if now is None else now))


_NONCES_USED = select(Operation.wallet, Operation.auth_nonce, Operation.kind, Operation.status).where(
    Operation.wallet.in_(bindparam("wallets", expanding=True)),
    Operation.auth_nonce.in_(bindparam("nonces", expanding=True)))
"""By wallet and nonce only (their index finds the few rows), kind and status checked by the caller: given them
too, SQLite chose the (kind, status) index and read every P2P operation of the node's life."""


def nonces_in_flight(session: Session, kind: OperationKind, pairs: Iterable[tuple[str, str]], *,
                     completed: bool = False) -> set[tuple[str, str]]:
    """Those of the (wallet, authorization nonce) ``pairs`` that a pending operation of ``kind`` carries (with
    ``completed``, or a completed one: its nonce is used on chain); one query for all."""
    wanted = set(pairs)
    if not wanted:
        return set()
    statuses = [OperationStatus.PENDING, OperationStatus.PENDING_REVIEW]  # a held one's nonce is spoken for
    if completed:
        statuses.append(OperationStatus.COMPLETED)
    rows = session.connection().execute(_NONCES_USED, {
        "wallets": list({w for w, _ in wanted}), "nonces": list({n for _, n in wanted})})
    return wanted.intersection((row.wallet, row.auth_nonce) for row in rows
                               if row.kind == kind and row.status in statuses)


def nonce_in_flight(session: Session, wallet: str, kind: OperationKind, nonce: str, *,
                    completed: bool = False) -> bool:
    """:func:`nonces_in_flight` of one wallet and nonce."""
    return bool(nonces_in_flight(session, kind, [(wallet, nonce)], completed=completed))


def check_outflow(session: Session, network: Network, wallet: str, amount_minor: int, *,
                  now: int | None = None) -> None:
    """Refuse at once a payment out of ``wallet`` that the chain would refuse (``now``: the chain's clock as
    the caller read it from the node's view, :func:`node.operations.local_state.local_now`).

    Raises:
        InsufficientBalanceError: spendable balance less pending outflow < amount.
        LimitExceededError: above the tier's single-payment limit, or above what is left of today's limit.
    """
    if _admitted_locally(session, wallet, amount_minor, now):
        return
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
                        now: int | None = None, recovered: bool = False) -> None:
    """Check a customer's signed authorization off chain as the contract will: our chain and token, the
    stated signer's signature (not again if it was ``recovered`` in this domain already, as decoding a payload
    does), and its deadline against the chain's clock.

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
        if not recovered:
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
