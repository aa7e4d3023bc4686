"""P2P transfers: a payer's RelayedTransfer, relayed by the payer's bank in batches (``relayTransfers``).

The payer's app signs the transfer (the bank signs for custodial wallets, with the key it keeps); the payer's
bank, which must keep the payer's wallet, checks it off chain against its own view of the chain
(:mod:`node.operations.local_state`; no JSON-RPC call when that view admits it), records a ``p2p`` operation
and enqueues one ``relay_transfers`` row. The chain writer puts up to 100 transfers in one transaction; a
transfer the token refuses (the payee's balance cap, a frozen payee, a nonce the wallet used on chain itself
...) is reported in a RelayFailed event and fails only its row, and so its operation, with the decoded
reason. Moving money between two wallets changes no bank's issuance, so nothing is booked in the ledger.
Each bank's indexer shows the transfer once in its customer's history (the payer's as ``transfer_out``, the
payee's as ``transfer_in``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Row
from sqlalchemy.orm import Session

from node.errors import AuthorizationInvalidError, FlowValidationError
from node.funding.service import MAX_AMOUNT
from node.operations.checks import (
    check_authorization,
    check_outflow,
    decode_signed,
    nonce_in_flight,
)
from node.operations.local_state import local_now, local_wallet
from node.operations.models import (
    Operation,
    OperationKind,
    completes,
    completes_in_bulk,
    confirmed,
    new_operation,
    operation_payload,
    refused,
)
from node.risk import service as risk
from node.settings import NodeSettings
from node.wallets.access import custodied_wallet
from node.wallets.models import CustodyMode, custodial_key
from node.writer.kinds import relay_payload
from wallet_sdk.authorizations import RelayedTransfer, SignedAuthorization, relay_nonce
from wallet_sdk.chain.network import Network, to_address

if TYPE_CHECKING:
    from node.outbox import OutboxRow, RowOutcome

__all__ = ["CUSTODIAL_VALIDITY", "decode_transfer", "signed_transfer", "transfer"]

CUSTODIAL_VALIDITY: Final = 3600  # seconds (chain time) a transfer the bank signs for a custodial wallet is valid


def signed_transfer(network: Network, *, from_: str, to: str, value: int, valid_before: int, nonce: int, v: int,
                    r: bytes, s: bytes) -> SignedAuthorization[RelayedTransfer]:
    """A RelayedTransfer the app sent as fields, in this network's EIP-712 domain (checked by :func:`transfer`)."""
    try:
        auth = RelayedTransfer(from_=to_address(from_, "from"), to=to_address(to, "to"), value=value,
                               valid_before=valid_before, nonce=nonce)
        return SignedAuthorization(authorization=auth, domain=network.domain(), v=v, r=r, s=s)
    except ValueError as exc:
        raise AuthorizationInvalidError(str(exc)) from None


def decode_transfer(network: Network, text: str) -> SignedAuthorization[RelayedTransfer]:
    """A RelayedTransfer the app sent as its QR/text payload (``WALLETNET:1:RELAY:...``); see
    :func:`decode_signed`."""
    return decode_signed(network, text, RelayedTransfer)


_CUSTODIAL_WORDS: OrderedDict[str, tuple[int, int]] = OrderedDict()  # payer -> (word, next bit) in this process
_CUSTODIAL_WORDS_KEPT: Final = 100_000  # payers remembered; one forgotten starts a new word (one dearer relay)
_CUSTODIAL_WORDS_LOCK = threading.Lock()


def _next_custodial_nonce(session: Session, payer: str) -> int:
    """The bitmap nonce for the payer's next bank-signed transfer, with no JSON-RPC call: bits of one word used
    in turn (cheap on chain), the word new in each process (its clock in microseconds when the payer's first
    transfer there was signed), skipping any nonce a transfer of this node carries. So a node restored from an
    older backup, which does not know every nonce it used, never picks one of them again: it signs in words
    of its own. The payer's record is locked."""
    while True:
        with _CUSTODIAL_WORDS_LOCK:
            word, bit = _CUSTODIAL_WORDS.pop(payer, None) or (time.time_ns() // 1_000, 0)
            _CUSTODIAL_WORDS[payer] = (word, bit + 1) if bit < 255 else (max(time.time_ns() // 1_000, word + 1), 0)
            if len(_CUSTODIAL_WORDS) > _CUSTODIAL_WORDS_KEPT:
                _CUSTODIAL_WORDS.popitem(last=False)
        nonce = relay_nonce(word, bit)
        if not nonce_in_flight(session, payer, OperationKind.P2P, str(nonce), completed=True):
            return nonce


def transfer(session: Session, settings: NodeSettings, network: Network, *, payer: str, payee: str,
             amount_minor: int, signed: SignedAuthorization[RelayedTransfer] | None, channel: str,
             api_key_id: int | None = None, totp_code: str | None = None) -> Operation:
    """Relay a payment of ``amount_minor`` from ``payer`` (a wallet this bank keeps) to ``payee`` (any bank's).

    ``signed`` is the payer's RelayedTransfer; for a custodial payer it may be None and the bank signs.

    Raises:
        FlowNotFoundError, NotCustodianError, WalletFrozenError, WalletNotActiveError: the payer's wallet.
        FlowValidationError: the payee is no registered wallet, or a self-custody payer sent no signature.
        AuthorizationInvalidError: from/to/value differ from the request, another chain or token, bad
            signature, expired, or its nonce is used.
        InsufficientBalanceError / LimitExceededError: the payer's side would be refused on chain.
        SecondFactorRequiredError / SecondFactorInvalidError (above the threshold, or the risk rules' step-up).
        RiskDeclinedError: the bank's risk rules decline it (or froze the wallet); one they hold for review is
            written ``pending_review`` and waits for a risk officer (node.risk.service).
    """
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or not 1 <= amount_minor <= MAX_AMOUNT:
        raise FlowValidationError("amount", f"expected an integer of minor units from 1 to {MAX_AMOUNT}")
    payee_address = to_address(payee, "payee")
    found = custodied_wallet(session, network, settings, payer, from_view=True)
    if payee_address == found.address:
        raise FlowValidationError("payee", "payer and payee are the same wallet")
    if local_wallet(session, payee_address) is None and not network.wallet(payee_address).registered:
        raise FlowValidationError("payee", f"no wallet is registered at {payee_address}", payee=payee_address)
    now = local_now(session, found.address)
    if signed is None:
        if found.record.custody is not CustodyMode.CUSTODIAL:
            raise FlowValidationError("authorization", "a self-custody wallet's transfer needs the payer's signed "
                                                       "RelayedTransfer (authorization or payload)")
        auth = RelayedTransfer(from_=found.address, to=payee_address, value=amount_minor,
                               valid_before=now + CUSTODIAL_VALIDITY,
                               nonce=_next_custodial_nonce(session, found.address))
        signed = auth.sign(custodial_key(settings, found.record), network.domain())
        signed_by = "bank"
    else:
        check_authorization(signed, network, signer=found.address, now=now)
        auth = signed.authorization
        if auth.to != payee_address or auth.value != amount_minor:
            raise AuthorizationInvalidError(f"the signed transfer pays {auth.value} to {auth.to}, the request "
                                            f"{amount_minor} to {payee_address}")
        # used through this node (in flight or relayed); one the wallet used on chain itself fails the relay
        if nonce_in_flight(session, found.address, OperationKind.P2P, str(auth.nonce), completed=True):
            raise AuthorizationInvalidError("this transfer's nonce was used already", nonce=str(auth.nonce))
        signed_by = "customer"
    check_outflow(session, network, found.address, amount_minor, now=now)
    screening = risk.screen(session, settings, risk.Payment(
        "p2p", found.address, payee_address, amount_minor, channel, signed_by, now), totp_code=totp_code,
        api_key_id=api_key_id)
    details: dict[str, Any] = {"nonce": str(auth.nonce), "valid_before": auth.valid_before, "signed_by": signed_by}
    op = new_operation(session, OperationKind.P2P, channel=channel, api_key_id=api_key_id, wallet=found.address,
                       counterparty=payee_address, amount_minor=amount_minor, currency=settings.currency,
                       details=details, status=screening.status)
    risk.admit(session, settings, screening, op, f"{op.public_id}:relay", "relay_transfers",
               operation_payload(op, **relay_payload([signed])))
    return op


@completes_in_bulk(OperationKind.P2P)
def _transfers_done(_session: Session, _ops: Sequence[Row[Any]], _tx_hash: str) -> None:
    """:func:`_transfer_done` for a relay batch the chain confirmed whole: completing the operations is all."""


@completes(OperationKind.P2P)
def _transfer_done(session: Session, op: Operation, row: OutboxRow, outcome: RowOutcome) -> None:
    if outcome.confirmed:
        confirmed(op, row)
    else:
        refused(op, row, outcome, "the transfer failed", tx_hash=row.tx_hash)

