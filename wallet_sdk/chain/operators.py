"""Typed write methods for the roles that send transactions: a bank's node, the network operator, the regulator.

Every method signs locally with the role's account (through the network's shared
:class:`~wallet_sdk._sender.TransactionSender` for that account), waits for the receipt and returns a
:class:`TxResult` with the decoded events, or a small result type where the transaction produces data
(per-item outcomes of a batch, a settlement batch, a proposal id). A revert raises the typed
:class:`~wallet_sdk.exceptions.ContractRevertError` named after the Solidity error, before anything is mined
when gas estimation already reverts.

Wallet holders never send transactions: they sign authorizations (see :mod:`wallet_sdk.authorizations`)
and their bank's node relays them with these methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier, TxReceipt

from wallet_sdk._sender import TransactionSender, calldata
from wallet_sdk.amount import Amount
from wallet_sdk.authorizations import (
    Authorization,
    CancelAuthorization,
    HoldAuthorization,
    MerchantPayment,
    Redemption,
    RelayedTransfer,
    SignedAuthorization,
    TransferAuthorization,
    split_signature,
)
from wallet_sdk.chain import encoder
from wallet_sdk.chain.args import AddressLike
from wallet_sdk.chain.encoder import Deployed, PaymentItem, Ref, RelayItem, signed_as
from wallet_sdk.chain.events import Event, EventSource, decode_receipt
from wallet_sdk.chain.types import (
    Limits,
    MerchantStatus,
    PayoutMode,
    SettlementBatch,
    WalletKind,
    WalletOpening,
)
from wallet_sdk.exceptions import ContractRevertError, InvalidArgumentError
from wallet_sdk.keys import WalletKey
from wallet_sdk.reverts import NotBankOperator

__all__ = [
    "BankOperator",
    "CloseResult",
    "ItemResult",
    "NetworkLike",
    "NetworkOperator",
    "PaymentBatchResult",
    "ProposalResult",
    "Regulator",
    "RelayResult",
    "SettleResult",
    "TxResult",
]

Account = LocalAccount | WalletKey | TransactionSender


@runtime_checkable
class NetworkLike(Deployed, EventSource, Protocol):
    """What a role needs of the :class:`~wallet_sdk.chain.network.Network` it sends on: its contracts (for the
    :mod:`~wallet_sdk.chain.encoder`), one sender per account, the bank of an operator. (A Protocol, so this
    module does not import the network module, whose ``bank_operator()`` and friends make these roles.)"""

    def sender(self, account: Account, **options: Any) -> TransactionSender: ...

    def bank_of_operator(self, operator: AddressLike, *, block: BlockIdentifier = "latest") -> bytes | None: ...


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction and the walletnet events it emitted."""

    tx_hash: str
    block_number: int
    gas_used: int
    events: tuple[Event, ...]

    @classmethod
    def _fields_from(cls, network: EventSource, receipt: TxReceipt) -> dict[str, Any]:
        return {"tx_hash": HexBytes(receipt["transactionHash"]).to_0x_hex(),
                "block_number": int(receipt["blockNumber"]), "gas_used": int(receipt["gasUsed"]),
                "events": tuple(decode_receipt(network, receipt))}

    def events_named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]

    def event(self, name: str) -> Event:
        """The first event called ``name`` (KeyError if the transaction emitted none)."""
        for event in self.events:
            if event.name == name:
                return event
        raise KeyError(f"transaction {self.tx_hash} emitted no {name} event")


@dataclass(frozen=True)
class ItemResult:
    """One item of a batch: ``error`` is the typed revert of a failed item, None if it went through."""

    index: int
    authorization: Authorization
    error: ContractRevertError | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class RelayResult(TxResult):
    """relayTransfers: one :class:`ItemResult` per submitted transfer, in submission order."""

    items: tuple[ItemResult, ...]

    @property
    def succeeded(self) -> int:
        return sum(1 for item in self.items if item.ok)

    @property
    def failed(self) -> list[ItemResult]:
        return [item for item in self.items if not item.ok]


@dataclass(frozen=True)
class PaymentBatchResult(RelayResult):
    """payBatch: one :class:`ItemResult` per payment, in submission order."""


@dataclass(frozen=True)
class SettleResult(TxResult):
    """settle: the settlement batch recorded (``batch.batch_id`` is the merchant's batch number)."""

    batch: SettlementBatch

    @property
    def batch_id(self) -> int:
        return self.batch.batch_id


@dataclass(frozen=True)
class ProposalResult(TxResult):
    """propose: the new proposal's id."""

    proposal_id: int


@dataclass(frozen=True)
class CloseResult(TxResult):
    """closeWallet: the balance burned for payout to the bound bank account."""

    redeemed: int


_Batch = TypeVar("_Batch", bound=RelayResult)


def _relay_item(signed: SignedAuthorization[RelayedTransfer]) -> RelayItem:
    """The relayTransfers item of a signed RelayedTransfer (its fields were checked when it was made)."""
    auth = signed_as(signed, RelayedTransfer, "transfers").authorization
    return RelayItem(auth.from_, auth.to, auth.value, auth.valid_before, auth.nonce, signed.v, signed.r, signed.s)


def _payment_item(signed: SignedAuthorization[MerchantPayment], what: str) -> PaymentItem:
    """The pay/payBatch item of a signed MerchantPayment, which must carry its acquirer's request signature."""
    p = signed_as(signed, MerchantPayment, what).authorization
    if p.request_signature is None:
        raise InvalidArgumentError("payments", signed, "the payment carries no request signature of its acquirer")
    return PaymentItem(p.acquirer, p.merchant_id, p.order_id, p.payer, p.amount, p.valid_after, p.valid_before,
                       signed.v, signed.r, signed.s, *split_signature(p.request_signature))


class _Role:
    """What every role shares: an account, its sender, and governance votes."""

    def __init__(self, network: NetworkLike, account: Account) -> None:
        if not isinstance(network, NetworkLike):
            raise InvalidArgumentError("network", network, "expected a Network")
        self.network = network
        self.sender = network.sender(account)

    @property
    def address(self) -> ChecksumAddress:
        return self.sender.address

    def __repr__(self) -> str:
        return f"{type(self).__name__}(address='{self.address}')"

    def _send(self, call: ContractFunction) -> TxReceipt:
        return self.sender.send(call)

    def _result(self, call: ContractFunction) -> TxResult:
        return TxResult(**TxResult._fields_from(self.network, self._send(call)))

    def _batch(self, call: ContractFunction, signed: Sequence[SignedAuthorization[Any]],
               failures: Callable[[Iterable[Event]], dict[int, ContractRevertError]], result: type[_Batch]) -> _Batch:
        """Send a batch of ``signed`` authorizations and pair each with its outcome (``failures`` reads them)."""
        fields = TxResult._fields_from(self.network, self._send(call))
        errors = failures(fields["events"])
        items = tuple(ItemResult(i, item.authorization, errors.get(i)) for i, item in enumerate(signed))
        return result(**fields, items=items)

    # governance: any active bank operator approves; anyone may execute an approved proposal

    def approve(self, proposal_id: int) -> TxResult:
        """Approve a proposal for this operator's bank (one approval per bank). Emits ProposalApproved."""
        return self._result(encoder.approve(self.network, proposal_id))

    def execute(self, proposal_id: int) -> TxResult:
        """Execute a proposal with enough approvals (anyone may). Emits ProposalExecuted."""
        return self._result(encoder.execute(self.network, proposal_id))


class BankOperator(_Role):
    """Everything a member bank's node sends: wallets, issuance, relays, holds, redemptions, merchants.

    ``account`` must be an operator address of an active member bank in the Consortium; the bank is
    looked up once (:attr:`bank_id`). The calls are built by :mod:`wallet_sdk.chain.encoder`; this class
    signs and sends them and reads their results.
    """

    def __init__(self, network: NetworkLike, account: Account) -> None:
        super().__init__(network, account)
        self._bank_id: bytes | None = None

    @property
    def bank_id(self) -> bytes:
        """This operator's bank (raises NotBankOperator if the account is no bank's operator)."""
        if self._bank_id is None:
            bank = self.network.bank_of_operator(self.address)
            if bank is None:
                raise NotBankOperator.from_arguments({"caller": self.address})
            self._bank_id = bank
        return self._bank_id

    # --- wallets ---

    def open_wallet(self, wallet: AddressLike, *, tier: int = 1, kind: WalletKind = WalletKind.PERSONAL,
                    account_hash: bytes = bytes(32)) -> TxResult:
        """Open a wallet at this bank. Emits WalletOpened."""
        return self._result(encoder.open_wallet(self.network, wallet, self.bank_id, tier=tier, kind=kind,
                                                account_hash=account_hash))

    def open_wallets(self, openings: Sequence[WalletOpening], *, chunk_size: int = 100) -> list[TxResult]:
        """Bulk enrolment, ``chunk_size`` wallets per transaction; a chunk reverts as a whole if any item is bad."""
        if not openings:
            raise InvalidArgumentError("openings", openings, "nothing to open")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise InvalidArgumentError("chunk_size", chunk_size, "expected a positive int")
        bank = self.bank_id
        calls = [encoder.open_wallets(self.network, bank, openings[i:i + chunk_size])
                 for i in range(0, len(openings), chunk_size)]  # every chunk checked before the first is sent
        return [self._result(call) for call in calls]

    def set_tier(self, wallet: AddressLike, tier: int) -> TxResult:
        """Move a personal wallet to another tier (1-4). Emits WalletTierChanged."""
        return self._result(encoder.set_tier(self.network, wallet, tier))

    def bind_account(self, wallet: AddressLike, account_hash: bytes) -> TxResult:
        """Bind the wallet to a bank account by its salted hash. Emits AccountBound."""
        return self._result(encoder.bind_account(self.network, wallet, account_hash))

    def freeze(self, wallet: AddressLike, reason: int) -> TxResult:
        """Freeze a wallet of this bank with a reason code. Emits WalletFrozen."""
        return self._result(encoder.freeze(self.network, wallet, reason))

    def unfreeze(self, wallet: AddressLike) -> TxResult:
        """Lift this bank's freeze (a regulator's freeze only the regulator lifts). Emits WalletUnfrozen."""
        return self._result(encoder.unfreeze(self.network, wallet))

    def close_wallet(self, wallet: AddressLike, ref: Ref) -> CloseResult:
        """Close a wallet; its balance is burned for payout to the bound account. Emits WalletClosed."""
        fields = TxResult._fields_from(self.network, self._send(encoder.close_wallet(self.network, wallet, ref)))
        closed = [e for e in fields["events"] if e.name == "WalletClosed"]
        return CloseResult(**fields, redeemed=int(closed[0]["redeemed"]))

    # --- issuance and transfers ---

    def mint(self, wallet: AddressLike, amount: int | Amount, ref: Ref) -> TxResult:
        """Issue ``amount`` minor units into a wallet of this bank, within its quota. Emits Minted."""
        return self._result(encoder.mint(self.network, wallet, amount, ref))

    def mint_batch(self, items: Sequence[tuple[AddressLike, int | Amount, Ref]]) -> TxResult:
        """Issue ``(wallet, amount, ref)`` items in one transaction; all or nothing (one refused item reverts
        the batch with its own error). Emits Minted per item."""
        return self._result(encoder.mint_batch(self.network, items))

    def transfer_with_authorization(self, signed: SignedAuthorization[TransferAuthorization]) -> TxResult:
        """Relay a holder's signed EIP-3009 transfer. Emits Transfer and AuthorizationUsed."""
        auth = signed_as(signed, TransferAuthorization, "signed").authorization
        return self._result(encoder.transfer_with_authorization(
            self.network, auth.from_, auth.to, auth.value, auth.valid_after, auth.valid_before, auth.nonce,
            signed.v, signed.r, signed.s))

    def cancel_authorization(self, signed: SignedAuthorization[CancelAuthorization]) -> TxResult:
        """Relay a holder's signed cancellation of an unused nonce. Emits AuthorizationCanceled."""
        auth = signed_as(signed, CancelAuthorization, "signed").authorization
        return self._result(encoder.cancel_authorization(self.network, auth.authorizer, auth.nonce,
                                                         signed.v, signed.r, signed.s))

    def relay_transfers(self, transfers: Sequence[SignedAuthorization[RelayedTransfer]]) -> RelayResult:
        """Submit many signed RelayedTransfers in one transaction; a failing item does not stop the others.

        Returns one :class:`ItemResult` per transfer; a failed item carries its typed revert, decoded
        from the token's RelayFailed event.
        """
        if not transfers:
            raise InvalidArgumentError("transfers", transfers, "nothing to relay")
        call = encoder.relay_transfers(self.network, [_relay_item(t) for t in transfers])
        return self._batch(call, transfers, encoder.relay_failures, RelayResult)

    # --- holds (ATM cash-out) ---

    def place_hold(self, signed: SignedAuthorization[HoldAuthorization]) -> TxResult:
        """Set money aside for an ATM cash-out on the holder's signed Hold. Emits HoldPlaced."""
        auth = signed_as(signed, HoldAuthorization, "signed").authorization
        return self._result(encoder.place_hold(self.network, auth.holder, auth.value, auth.hold_id, auth.expires_at,
                                               signed.v, signed.r, signed.s))

    def capture_hold(self, hold_id: bytes, ref: Ref) -> TxResult:
        """Burn held money once the ATM dispensed it. Emits HoldCaptured and Burned."""
        return self._result(encoder.capture_hold(self.network, hold_id, ref))

    def release_hold(self, hold_id: bytes) -> TxResult:
        """Return held money to the holder (ATM reversal). Emits HoldReleased."""
        return self._result(encoder.release_hold(self.network, hold_id))

    def redeem(self, signed: SignedAuthorization[Redemption], ref: Ref) -> TxResult:
        """Burn a holder's money on their signed Redemption, for payout to their bank account. Emits Burned."""
        auth = signed_as(signed, Redemption, "signed").authorization
        return self._result(encoder.redeem_with_authorization(
            self.network, auth.holder, auth.value, auth.valid_before, auth.nonce, ref, signed.v, signed.r, signed.s))

    # --- merchants ---

    def register_merchant(self, merchant: bytes | str, wallet: AddressLike, *, fee_bps: int, mcc: int,
                          settlement_account_hash: bytes = bytes(32),
                          payout_mode: PayoutMode = PayoutMode.WALLET) -> TxResult:
        """Register a merchant acquired by this bank (wallet: an active Merchant wallet). Emits MerchantRegistered."""
        return self._merchant_terms(encoder.register_merchant, merchant, wallet, fee_bps, mcc,
                                    settlement_account_hash, payout_mode)

    def update_merchant(self, merchant: bytes | str, wallet: AddressLike, *, fee_bps: int, mcc: int,
                        settlement_account_hash: bytes = bytes(32),
                        payout_mode: PayoutMode = PayoutMode.WALLET) -> TxResult:
        """Change a merchant's wallet, fee, category code, account hash and payout mode. Emits MerchantUpdated."""
        return self._merchant_terms(encoder.update_merchant, merchant, wallet, fee_bps, mcc,
                                    settlement_account_hash, payout_mode)

    def _merchant_terms(self, encode: Callable[..., ContractFunction], merchant: bytes | str, wallet: AddressLike,
                        fee_bps: int, mcc: int, settlement_account_hash: bytes, payout_mode: PayoutMode) -> TxResult:
        """Send ``encode`` (registerMerchant or updateMerchant) with a merchant's terms."""
        return self._result(encode(self.network, merchant, wallet, fee_bps=fee_bps, mcc=mcc,
                                   settlement_account_hash=settlement_account_hash, payout_mode=payout_mode))

    def set_merchant_status(self, merchant: bytes | str, status: MerchantStatus) -> TxResult:
        """Suspend a merchant (it cannot be paid) or make it active again. Emits MerchantStatusChanged."""
        return self._result(encoder.set_merchant_status(self.network, merchant, status))

    def set_fee_wallet(self, wallet: AddressLike) -> TxResult:
        """Set the wallet that receives this bank's acquiring fees. Emits FeeWalletSet."""
        return self._result(encoder.set_fee_wallet(self.network, wallet))

    def set_request_signer(self, signer: AddressLike | None) -> TxResult:
        """Set the key that signs this bank's payment requests (None removes it: then only this bank's operators
        sign them). Emits RequestSignerSet."""
        return self._result(encoder.set_request_signer(self.network, signer))

    def pay(self, signed: SignedAuthorization[MerchantPayment]) -> TxResult:
        """Relay a payer's signed merchant payment with its acquirer's request signature (anyone may).
        Emits OrderPaid."""
        return self._result(encoder.pay(self.network, _payment_item(signed, "signed")))

    def pay_batch(self, payments: Sequence[SignedAuthorization[MerchantPayment]]) -> PaymentBatchResult:
        """Relay many payments in one transaction; failed ones come back with their typed revert."""
        if not payments:
            raise InvalidArgumentError("payments", payments, "nothing to pay")
        call = encoder.pay_batch(self.network, [_payment_item(p, "payments") for p in payments])
        return self._batch(call, payments, encoder.payment_failures, PaymentBatchResult)

    def refund(self, merchant: bytes | str, order: bytes | str, amount: int | Amount, ref: Ref) -> TxResult:
        """Refund part or all of an order to its payer, from the merchant's pending balance. Emits OrderRefunded."""
        return self._result(encoder.refund(self.network, merchant, order, amount, ref))

    def settle(self, merchant: bytes | str, ref: Ref) -> SettleResult:
        """Settle everything pending for a merchant: net to it, fee to this bank. Emits MerchantSettled."""
        fields = TxResult._fields_from(self.network, self._send(encoder.settle(self.network, merchant, ref)))
        e = next(e for e in fields["events"] if e.name == "MerchantSettled")
        batch = SettlementBatch(merchant_id=bytes(e["merchantId"]), batch_id=int(e["batchId"]),
                                acquirer=bytes(e["acquirer"]), gross=int(e["gross"]), refunds=int(e["refunds"]),
                                fee=int(e["fee"]), net=int(e["net"]), payout_mode=PayoutMode(e["payoutMode"]),
                                ref=bytes(e["ref"]), block_number=e.block_number, tx_hash=e.tx_hash)
        return SettleResult(**fields, batch=batch)


class NetworkOperator(_Role):
    """The network operator: tier limits, bank quotas, emergency pause, governance proposals."""

    def set_limits(self, limit_class: int, limits: Limits) -> TxResult:
        """Set a limit class's limits (tier 1-4, 5 merchant, 6 system). Emits LimitsSet (registry and token)."""
        return self._result(encoder.set_limits(self.network, limit_class, limits))

    def set_quota(self, bank: bytes | str, quota: int | Amount) -> TxResult:
        """Set a bank's issuance quota in minor units. Emits QuotaSet."""
        return self._result(encoder.set_quota(self.network, bank, quota))

    def pause(self) -> TxResult:
        """Stop every movement of money (emergency). Emits Paused."""
        return self._result(encoder.pause(self.network))

    def unpause(self) -> TxResult:
        """Emits Unpaused."""
        return self._result(encoder.unpause(self.network))

    def propose(self, target: AddressLike, data: bytes, description: str) -> ProposalResult:
        """Propose a call of ``target`` with ``data`` for the banks to approve. Emits ProposalCreated."""
        receipt = self._send(encoder.propose(self.network, target, data, description))
        fields = TxResult._fields_from(self.network, receipt)
        created = next(e for e in fields["events"] if e.name == "ProposalCreated")
        return ProposalResult(**fields, proposal_id=int(created["proposalId"]))

    def propose_call(self, call: ContractFunction, description: str) -> ProposalResult:
        """Propose a contract call built with web3 (``network.consortium.functions.addBank(...)``)."""
        if call.address is None:
            raise InvalidArgumentError("call", call, "a contract call with an address")
        return self.propose(call.address, bytes(HexBytes(calldata(call))), description)

    def cancel(self, proposal_id: int) -> TxResult:
        """Cancel a pending proposal. Emits ProposalCancelled."""
        return self._result(encoder.cancel(self.network, proposal_id))


class Regulator(_Role):
    """The regulator: freezes any wallet by order; only it lifts its own freezes."""

    def freeze(self, wallet: AddressLike, reason: int) -> TxResult:
        """Freeze any wallet with a reason code. Emits WalletFrozen (byRegulator true)."""
        return self._result(encoder.freeze(self.network, wallet, reason))

    def unfreeze(self, wallet: AddressLike) -> TxResult:
        """Lift a freeze. Emits WalletUnfrozen."""
        return self._result(encoder.unfreeze(self.network, wallet))
