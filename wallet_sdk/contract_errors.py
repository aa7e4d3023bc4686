"""One exception class per Solidity custom error of walletnet's contracts (and the OpenZeppelin errors they use).

Every class is named exactly after its Solidity error, derives from
:class:`~wallet_sdk.errors.ContractRevertError` (catch that to catch any revert) and has the error's
arguments as attributes with the Solidity names (a Python keyword gets a trailing underscore: ``from_``),
so code reads like the contract::

    try:
        operator.transfer_with_authorization(signed)
    except SinglePaymentLimitExceeded as exc:
        print(exc.wallet, exc.amount, exc.limit)

``arguments`` holds the same values keyed by the exact Solidity names, and ``SIGNATURE`` the canonical
signature whose selector identifies the error. Enum arguments are the SDK's ``IntEnum`` (they equal the raw
``uint8``); a value outside the enum stays an int.

Errors declared by more than one contract: ``WalletNotActive(address wallet, uint8 status)`` exists in
WalletRegistry (``status`` typed ``WalletStatus``) and in DigitalCash (a ``uint8`` with the same values, as
IWalletRegistry documents); both have the same selector, so one class serves both and its ``status`` is a
:class:`~wallet_sdk.chain.types.WalletStatus`. The other shared names (``NotNetworkOperator``,
``NotBankOperator``, ``ZeroAddress``, ...) have identical arguments everywhere. ``tests/sdk/test_contract_errors.py``
fails if a shipped artifact gains an error without a class here, or if names, arguments or types drift.

Solidity's built-in reverts: ``Error(string)`` (a ``require`` message) is :class:`RevertReason`, whose
``name`` is "Error"; ``Panic(uint256)`` is :class:`Panic`. Revert data that matches no known error is
:class:`UnknownRevert`.
"""

from __future__ import annotations

import dataclasses
import keyword
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, dataclass_transform, get_type_hints

from eth_typing import ChecksumAddress
from eth_utils.abi import function_signature_to_4byte_selector

from wallet_sdk.chain.types import (
    BankStatus,
    HoldStatus,
    MerchantStatus,
    ProposalStatus,
    WalletKind,
    WalletStatus,
    as_enum,
)
from wallet_sdk.errors import ContractRevertError

_ENUM_TYPES: Final = (BankStatus, HoldStatus, MerchantStatus, ProposalStatus, WalletKind, WalletStatus)
_BY_NAME: dict[str, type[TypedRevert]] = {}


def _solidity_name(attr: str) -> str:
    """``from_`` -> ``from``: the attribute of a Solidity argument named like a Python keyword."""
    return attr[:-1] if attr.endswith("_") and keyword.iskeyword(attr[:-1]) else attr


def _attr_name(solidity: str) -> str:
    return solidity + "_" if keyword.iskeyword(solidity) else solidity


_ENUM_FIELDS: dict[type, dict[str, Any]] = {}


def _enum_fields(cls: type[TypedRevert]) -> dict[str, Any]:
    """Fields typed with one of the SDK's enums (resolved once per class)."""
    found = _ENUM_FIELDS.get(cls)
    if found is None:
        hints = get_type_hints(cls)
        found = _ENUM_FIELDS[cls] = {
            f.name: hints[f.name] for f in dataclasses.fields(cls)
            if isinstance(hints.get(f.name), type) and issubclass(hints[f.name], _ENUM_TYPES)}
    return found


@dataclass_transform(eq_default=False, field_specifiers=(field,))
@dataclass(eq=False, repr=False)
class TypedRevert(ContractRevertError):
    """Base of the typed revert classes: a dataclass whose fields are the Solidity error's arguments.

    Subclasses only declare ``SIGNATURE`` and the argument fields; construct them by keyword or position
    like the Solidity error (``WalletNotActive(wallet=..., status=WalletStatus.FROZEN)``), optionally with
    the raw revert ``data``.
    """

    SIGNATURE: ClassVar[str] = ""
    ERROR_NAME: ClassVar[str] = ""  # the Solidity name, when it cannot be the class name

    data: bytes = field(default=b"", kw_only=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclass(eq=False, repr=False)(cls)
        name = cls.ERROR_NAME or cls.__name__
        if cls.SIGNATURE.partition("(")[0] != name:
            raise TypeError(f"{cls.__name__}.SIGNATURE {cls.SIGNATURE!r} does not name {name}")
        _BY_NAME[name] = cls

    def __post_init__(self) -> None:
        for attr, enum in _enum_fields(type(self)).items():
            object.__setattr__(self, attr, as_enum(enum, getattr(self, attr)))
        arguments = {_solidity_name(f.name): getattr(self, f.name) for f in dataclasses.fields(self)
                     if f.name != "data"}
        ContractRevertError.__init__(self, type(self).ERROR_NAME or type(self).__name__, arguments, self.data)

    def __repr__(self) -> str:
        shown = ", ".join(f"{_attr_name(k)}={v!r}" for k, v in self.arguments.items())
        return f"{type(self).__name__}({shown})"

    @classmethod
    def selector(cls) -> bytes:
        """The 4-byte selector that starts this error's revert data."""
        return function_signature_to_4byte_selector(cls.SIGNATURE)

    @classmethod
    def argument_names(cls) -> tuple[str, ...]:
        """The Solidity argument names, in order."""
        return tuple(_solidity_name(f.name) for f in dataclasses.fields(cls) if f.name != "data")

    @classmethod
    def from_arguments(cls, arguments: dict[str, Any], *, data: bytes = b"") -> TypedRevert:
        """Build from decoded arguments keyed by their Solidity names."""
        return cls(**{_attr_name(k): v for k, v in arguments.items()}, data=data)


def error_class(name: str) -> type[TypedRevert] | None:
    """The class of the Solidity error ``name`` ("Error" and "Panic" included), or None."""
    return _BY_NAME.get(name)


def error_classes() -> dict[str, type[TypedRevert]]:
    """Solidity error name -> class, for every typed revert."""
    return dict(_BY_NAME)


class UnknownRevert(ContractRevertError):
    """Revert data that matches no known error, or a revert without data (out of gas, a bare ``revert()``)."""

    def __init__(self, *, data: bytes = b"") -> None:
        super().__init__("Unknown", {"data": "0x" + data.hex()} if data else {}, data)


# --- Solidity built-ins ---

PANIC_REASONS: Final = {
    0x00: "generic compiler panic",
    0x01: "assert failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "corrupt storage byte array",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialized function",
}


class RevertReason(TypedRevert):
    """Solidity's built-in ``Error(string)``: a ``require(cond, "message")`` or ``revert("message")``.

    walletnet's contracts use custom errors only; this comes from other contracts or tooling. Its
    ``name`` is "Error".
    """

    SIGNATURE: ClassVar[str] = "Error(string)"
    ERROR_NAME: ClassVar[str] = "Error"

    message: str


class Panic(TypedRevert):
    """Solidity's built-in ``Panic(uint256)``: a failed assert, overflow, division by zero, ...; see :attr:`reason`."""

    SIGNATURE: ClassVar[str] = "Panic(uint256)"

    code: int

    @property
    def reason(self) -> str:
        return PANIC_REASONS.get(self.code, f"panic code {self.code:#x}")


# --- the contracts' custom errors (alphabetical) ---


class AddressEmptyCode(TypedRevert):
    """An upgrade or delegate call targeted an address without contract code (OpenZeppelin Address).

    Raised by: Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "AddressEmptyCode(address)"

    target: ChecksumAddress


class AlreadyApproved(TypedRevert):
    """This bank already approved the proposal (one approval per bank).

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "AlreadyApproved(uint256,bytes32)"

    proposalId: int
    bankId: bytes


class AmountTooLarge(TypedRevert):
    """The amount exceeds the largest balance a wallet can hold (``max``).

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "AmountTooLarge(uint256,uint256)"

    amount: int
    max: int


class AuthorizationAlreadyUsed(TypedRevert):
    """The authorization's nonce (EIP-3009 nonce, hold id or redemption nonce) was already used or canceled.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "AuthorizationAlreadyUsed(address,bytes32)"

    authorizer: ChecksumAddress
    nonce: bytes


class AuthorizationExpired(TypedRevert):
    """The block time is at or past the authorization's ``validBefore``.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "AuthorizationExpired(uint256)"

    validBefore: int


class AuthorizationNotYetValid(TypedRevert):
    """The block time is at or before the authorization's ``validAfter``.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "AuthorizationNotYetValid(uint256)"

    validAfter: int


class BalanceCapExceeded(TypedRevert):
    """The wallet's balance would exceed its tier's balance cap.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "BalanceCapExceeded(address,uint256,uint256)"

    wallet: ChecksumAddress
    balanceAfter: int
    cap: int


class BalanceOverflow(TypedRevert):
    """A balance would exceed the token's storage limit (``max``).

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "BalanceOverflow(address,uint256,uint256)"

    wallet: ChecksumAddress
    balanceAfter: int
    max: int


class BankAlreadyExists(TypedRevert):
    """A bank with this id is already a member.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "BankAlreadyExists(bytes32)"

    bankId: bytes


class BankIsRemoved(TypedRevert):
    """The bank was removed from the consortium; it cannot be changed any more.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "BankIsRemoved(bytes32)"

    bankId: bytes


class BankNotActive(TypedRevert):
    """The bank is not Active (unknown, suspended or removed).

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "BankNotActive(bytes32,uint8)"

    bankId: bytes
    status: BankStatus


class BankNotSuspended(TypedRevert):
    """Only a suspended bank can be reactivated.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "BankNotSuspended(bytes32,uint8)"

    bankId: bytes
    status: BankStatus


class BatchOutOfGas(TypedRevert):
    """A payBatch item ran out of gas: the whole batch reverts so that it is retried with more gas.

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "BatchOutOfGas(uint256)"

    index: int


class CallerMustBePayee(TypedRevert):
    """receiveWithAuthorization must be called by the payee (``to``).

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "CallerMustBePayee(address,address)"

    caller: ChecksumAddress
    payee: ChecksumAddress


class DailyOutflowLimitExceeded(TypedRevert):
    """The wallet's outflow today plus this amount exceeds its tier's daily limit.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "DailyOutflowLimitExceeded(address,uint256,uint256,uint256)"

    wallet: ChecksumAddress
    spentToday: int
    amount: int
    limit: int


class DirectTransferToSettlement(TypedRevert):
    """Money reaches the settlement contract only as an order payment, never as a plain transfer.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "DirectTransferToSettlement(address)"

    from_: ChecksumAddress


class ERC1967InvalidImplementation(TypedRevert):
    """The new implementation of an upgrade is not a contract (OpenZeppelin ERC1967).

    Raised by: Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "ERC1967InvalidImplementation(address)"

    implementation: ChecksumAddress


class ERC1967NonPayable(TypedRevert):
    """Ether was sent with an upgrade call that does not forward it (OpenZeppelin ERC1967).

    Raised by: Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "ERC1967NonPayable()"


class ERC20InsufficientAllowance(TypedRevert):
    """The spender's ERC-20 allowance is too small.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC20InsufficientAllowance(address,uint256,uint256)"

    spender: ChecksumAddress
    allowance: int
    needed: int


class ERC20InsufficientBalance(TypedRevert):
    """The sender's spendable balance is too small (money on hold is not spendable).

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC20InsufficientBalance(address,uint256,uint256)"

    sender: ChecksumAddress
    balance: int
    needed: int


class ERC20InvalidApprover(TypedRevert):
    """approve from the zero address.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC20InvalidApprover(address)"

    approver: ChecksumAddress


class ERC20InvalidReceiver(TypedRevert):
    """Transfer to an invalid receiver (the zero address).

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC20InvalidReceiver(address)"

    receiver: ChecksumAddress


class ERC20InvalidSender(TypedRevert):
    """Transfer from an invalid sender (the zero address).

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC20InvalidSender(address)"

    sender: ChecksumAddress


class ERC20InvalidSpender(TypedRevert):
    """approve for the zero address.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC20InvalidSpender(address)"

    spender: ChecksumAddress


class ERC2612ExpiredSignature(TypedRevert):
    """The permit's deadline has passed.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC2612ExpiredSignature(uint256)"

    deadline: int


class ERC2612InvalidSigner(TypedRevert):
    """The permit was not signed by its owner.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC2612InvalidSigner(address,address)"

    signer: ChecksumAddress
    owner: ChecksumAddress


class EnforcedPause(TypedRevert):
    """The token is paused by the network operator.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "EnforcedPause()"


class EnodeAlreadyRegistered(TypedRevert):
    """The node id already belongs to a bank.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "EnodeAlreadyRegistered(string,bytes32)"

    enodeId: str
    bankId: bytes


class ExpectedPause(TypedRevert):
    """unpause while the token is not paused.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ExpectedPause()"


class FailedCall(TypedRevert):
    """A low-level call failed without a reason (OpenZeppelin Address).

    Raised by: Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "FailedCall()"


class FeeWalletNotSet(TypedRevert):
    """Settlement with a fee needs the acquiring bank's fee wallet; set it with setFeeWallet.

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "FeeWalletNotSet(bytes32)"

    bankId: bytes


class HoldAlreadyExists(TypedRevert):
    """A hold with this id was placed before.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "HoldAlreadyExists(bytes32)"

    holdId: bytes


class HoldNotActive(TypedRevert):
    """The hold was already captured or released.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "HoldNotActive(bytes32,uint8)"

    holdId: bytes
    status: HoldStatus


class HoldNotExpired(TypedRevert):
    """The holder may release a hold only after it expires.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "HoldNotExpired(bytes32,uint256)"

    holdId: bytes
    expiresAt: int


class HoldsOutstanding(TypedRevert):
    """The wallet still has money on hold (a wallet cannot close with open holds).

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "HoldsOutstanding(address,uint256)"

    wallet: ChecksumAddress
    held: int


class InvalidAccountNonce(TypedRevert):
    """The permit's nonce is not the owner's current nonce.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "InvalidAccountNonce(address,uint256)"

    account: ChecksumAddress
    currentNonce: int


class InvalidBankId(TypedRevert):
    """The bank id is zero.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "InvalidBankId(bytes32)"

    bankId: bytes


class InvalidEnode(TypedRevert):
    """Not an enode id ("enode://" followed by 128 hex digits).

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "InvalidEnode(string)"

    enodeId: str


class InvalidFee(TypedRevert):
    """A merchant fee above 10,000 basis points.

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "InvalidFee(uint16)"

    feeBps: int


class InvalidFeeWallet(TypedRevert):
    """The fee wallet must be a registered, active wallet of the caller's bank.

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "InvalidFeeWallet(address,bytes32)"

    wallet: ChecksumAddress
    bankId: bytes


class InvalidInitialization(TypedRevert):
    """The contract is already initialized (OpenZeppelin Initializable).

    Raised by: Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "InvalidInitialization()"


class InvalidLimitClass(TypedRevert):
    """Limit classes are 1-4 (personal tiers), 5 (merchant) and 6 (system).

    Raised by: DigitalCash, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "InvalidLimitClass(uint8)"

    limitClass: int


class InvalidMerchantStatus(TypedRevert):
    """A merchant's status can be set to Active or Suspended only.

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "InvalidMerchantStatus(uint8)"

    status: MerchantStatus


class InvalidMerchantWallet(TypedRevert):
    """A merchant wallet must be a registered, active wallet of kind Merchant.

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "InvalidMerchantWallet(address)"

    wallet: ChecksumAddress


class InvalidPaymentRequest(TypedRevert):
    """The payment's request is not signed by the acquirer's request signer nor by an active operator of the
    acquirer: a request the acquirer never issued, or other terms (amount, order, merchant, expiry) than it
    signed. ``signer`` is the address the signature recovers to (zero for a malformed signature).

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "InvalidPaymentRequest(bytes32,bytes32,bytes32,address)"

    acquirer: bytes
    merchantId: bytes
    orderId: bytes
    signer: ChecksumAddress


class InvalidSignature(TypedRevert):
    """The signature does not recover to ``expectedSigner``.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "InvalidSignature(address)"

    expectedSigner: ChecksumAddress


class InvalidThreshold(TypedRevert):
    """The approval threshold must be from 1 to the number of active banks.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "InvalidThreshold(uint256,uint256)"

    threshold: int
    activeBanks: int


class InvalidTier(TypedRevert):
    """Personal tiers are 1-4 (merchant and system wallets use tier 1).

    Raised by: WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "InvalidTier(address,uint8)"

    wallet: ChecksumAddress
    tier: int


class InvalidWalletStatus(TypedRevert):
    """The registry pushed a wallet status the token does not know.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "InvalidWalletStatus(uint8)"

    status: int


class IssuerAlreadySet(TypedRevert):
    """The issuer (the token) is wired once.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "IssuerAlreadySet(address)"

    issuer: ChecksumAddress


class MerchantAlreadyRegistered(TypedRevert):
    """A merchant with this id is already registered.

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "MerchantAlreadyRegistered(bytes32)"

    merchantId: bytes


class MerchantNotActive(TypedRevert):
    """The merchant is suspended: it cannot be paid (it can still be refunded and settled).

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "MerchantNotActive(bytes32)"

    merchantId: bytes


class NotBankOperator(TypedRevert):
    """The caller is not an operator of an active member bank.

    Raised by: Consortium, DigitalCash, MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "NotBankOperator(address)"

    caller: ChecksumAddress


class NotConsortium(TypedRevert):
    """Only the Consortium (an executed governance proposal) may call this.

    Raised by: WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "NotConsortium(address)"

    caller: ChecksumAddress


class NotCustodian(TypedRevert):
    """Only operators of the wallet's custodian bank may change it.

    Raised by: WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "NotCustodian(address,address,bytes32)"

    caller: ChecksumAddress
    wallet: ChecksumAddress
    bankId: bytes


class NotCustodianOperator(TypedRevert):
    """Only active operators of the wallet's custodian bank may do this.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "NotCustodianOperator(address,address)"

    caller: ChecksumAddress
    wallet: ChecksumAddress


class NotCustodianOrRegulator(TypedRevert):
    """Only the custodian bank's operators or the regulator may freeze or unfreeze the wallet.

    Raised by: WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "NotCustodianOrRegulator(address,address)"

    caller: ChecksumAddress
    wallet: ChecksumAddress


class NotEnoughApprovals(TypedRevert):
    """The proposal has fewer approvals than the threshold.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "NotEnoughApprovals(uint256,uint256,uint256)"

    proposalId: int
    approvals: int
    threshold: int


class NotGovernance(TypedRevert):
    """Only an executed governance proposal may call this (upgrades, membership changes).

    Raised by: Consortium, DigitalCash, MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "NotGovernance(address)"

    caller: ChecksumAddress


class NotInitializing(TypedRevert):
    """An initializer-only function called outside initialization (OpenZeppelin Initializable).

    Raised by: Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "NotInitializing()"


class NotIssuer(TypedRevert):
    """Only the token may record issuance.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "NotIssuer(address)"

    caller: ChecksumAddress


class NotNetworkOperator(TypedRevert):
    """Only the network operator may call this.

    Raised by: Consortium, DigitalCash, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "NotNetworkOperator(address)"

    caller: ChecksumAddress


class NotOperatorOfBank(TypedRevert):
    """The address is not an operator of that bank.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "NotOperatorOfBank(address,bytes32)"

    operator: ChecksumAddress
    bankId: bytes


class NotPersonalWallet(TypedRevert):
    """Tiers apply to personal wallets only.

    Raised by: WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "NotPersonalWallet(address,uint8)"

    wallet: ChecksumAddress
    kind: WalletKind


class NotRegistry(TypedRevert):
    """Only the wallet registry may call this.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "NotRegistry(address)"

    caller: ChecksumAddress


class NotSelf(TypedRevert):
    """payBatchItem is internal to payBatch.

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "NotSelf(address)"

    caller: ChecksumAddress


class NotSettlement(TypedRevert):
    """Only the merchant settlement contract may call this.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "NotSettlement(address)"

    caller: ChecksumAddress


class OperatorAlreadyAssigned(TypedRevert):
    """The address is already an operator of a bank.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "OperatorAlreadyAssigned(address,bytes32)"

    operator: ChecksumAddress
    bankId: bytes


class OrderAlreadyPaid(TypedRevert):
    """The order was paid before (an order is paid at most once).

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "OrderAlreadyPaid(bytes32,bytes32)"

    merchantId: bytes
    orderId: bytes


class ProposalCallFailed(TypedRevert):
    """The executed proposal's call reverted; ``returndata`` holds its revert data (decode it with decode_revert).

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "ProposalCallFailed(uint256,bytes)"

    proposalId: int
    returndata: bytes


class ProposalNotPending(TypedRevert):
    """The proposal was already executed or cancelled.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "ProposalNotPending(uint256,uint8)"

    proposalId: int
    status: ProposalStatus


class QuotaExceeded(TypedRevert):
    """The mint would take the bank's net issuance beyond its quota.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "QuotaExceeded(bytes32,uint256,int256,uint256)"

    bankId: bytes
    quota: int
    netIssued: int
    amount: int


class RefAlreadyBurned(TypedRevert):
    """The bank already burned under this ref (a redemption, or a settlement payout of one of its merchants):
    the ref of such a burn is used once per bank.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "RefAlreadyBurned(bytes32,bytes32)"

    bankId: bytes
    ref: bytes


class RefAlreadyMinted(TypedRevert):
    """The bank already minted under this ref: a mint's off-chain event is minted once per bank.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "RefAlreadyMinted(bytes32,bytes32)"

    bankId: bytes
    ref: bytes


class RefAlreadySettled(TypedRevert):
    """The acquirer already settled under this ref (for any of its merchants): a settlement's ref is used once.

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "RefAlreadySettled(bytes32,bytes32)"

    acquirer: bytes
    ref: bytes


class RefundExceedsPending(TypedRevert):
    """Refunds come out of the merchant's pending (unsettled) balance, which is too small.

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "RefundExceedsPending(bytes32,uint256,uint256)"

    merchantId: bytes
    amount: int
    pending: int


class RefundExceedsRefundable(TypedRevert):
    """The refund exceeds what is left of the order (amount - already refunded).

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "RefundExceedsRefundable(bytes32,bytes32,uint256,uint256)"

    merchantId: bytes
    orderId: bytes
    amount: int
    refundable: int


class RegulatorFreeze(TypedRevert):
    """A regulator's freeze can be lifted only by the regulator.

    Raised by: WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "RegulatorFreeze(address)"

    wallet: ChecksumAddress


class SafeCastOverflowedUintDowncast(TypedRevert):
    """A value does not fit the stored width (e.g. an order amount of 2**128 or more).

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "SafeCastOverflowedUintDowncast(uint8,uint256)"

    bits: int
    value: int


class SafeERC20FailedOperation(TypedRevert):
    """A token transfer by the settlement contract failed (OpenZeppelin SafeERC20).

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "SafeERC20FailedOperation(address)"

    token: ChecksumAddress


class SettlementAlreadySet(TypedRevert):
    """The settlement contract is wired once.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "SettlementAlreadySet(address)"

    settlement: ChecksumAddress


class SinglePaymentLimitExceeded(TypedRevert):
    """The amount exceeds the wallet's tier single-payment limit.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "SinglePaymentLimitExceeded(address,uint256,uint256)"

    wallet: ChecksumAddress
    amount: int
    limit: int


class SupplyOverflow(TypedRevert):
    """The total supply would exceed the token's storage limit.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "SupplyOverflow(uint256,uint256)"

    supplyAfter: int
    max: int


class TokenAlreadySet(TypedRevert):
    """The token is wired into the registry once.

    Raised by: WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "TokenAlreadySet(address)"

    token: ChecksumAddress


class TokenNotSet(TypedRevert):
    """The registry is not wired to the token yet.

    Raised by: WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "TokenNotSet()"


class UUPSUnauthorizedCallContext(TypedRevert):
    """An upgrade function called on the implementation instead of the proxy (OpenZeppelin UUPS).

    Raised by: Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "UUPSUnauthorizedCallContext()"


class UUPSUnsupportedProxiableUUID(TypedRevert):
    """The new implementation is not UUPS-compatible (OpenZeppelin UUPS).

    Raised by: Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "UUPSUnsupportedProxiableUUID(bytes32)"

    slot: bytes


class UnknownBank(TypedRevert):
    """No bank with this id.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "UnknownBank(bytes32)"

    bankId: bytes


class UnknownEnode(TypedRevert):
    """The node id is not registered for that bank.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "UnknownEnode(bytes32,string)"

    bankId: bytes
    enodeId: str


class UnknownHold(TypedRevert):
    """No hold with this id.

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "UnknownHold(bytes32)"

    holdId: bytes


class UnknownMerchant(TypedRevert):
    """No merchant with this id.

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "UnknownMerchant(bytes32)"

    merchantId: bytes


class UnknownOperator(TypedRevert):
    """The address is not an operator of any bank.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "UnknownOperator(address)"

    operator: ChecksumAddress


class UnknownOrder(TypedRevert):
    """The order was never paid.

    Raised by: MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "UnknownOrder(bytes32,bytes32)"

    merchantId: bytes
    orderId: bytes


class UnknownProposal(TypedRevert):
    """No proposal with this id.

    Raised by: Consortium.
    """

    SIGNATURE: ClassVar[str] = "UnknownProposal(uint256)"

    proposalId: int


class UnorderedNonceUsed(TypedRevert):
    """The RelayedTransfer nonce was already used (bitmap nonce).

    Raised by: DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "UnorderedNonceUsed(address,uint256)"

    owner: ChecksumAddress
    nonce: int


class WalletAlreadyRegistered(TypedRevert):
    """The address is already a registered wallet.

    Raised by: WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "WalletAlreadyRegistered(address)"

    wallet: ChecksumAddress


class WalletIsClosed(TypedRevert):
    """The wallet is closed; it cannot be changed any more.

    Raised by: WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "WalletIsClosed(address)"

    wallet: ChecksumAddress


class WalletNotActive(TypedRevert):
    """The wallet is not Active: unregistered (NONE), FROZEN or CLOSED.

    Raised by: DigitalCash, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "WalletNotActive(address,uint8)"

    wallet: ChecksumAddress
    status: WalletStatus


class WalletNotFrozen(TypedRevert):
    """unfreeze of a wallet that is not frozen.

    Raised by: WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "WalletNotFrozen(address)"

    wallet: ChecksumAddress


class WalletNotRegistered(TypedRevert):
    """The address is not a registered wallet.

    Raised by: WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "WalletNotRegistered(address)"

    wallet: ChecksumAddress


class ZeroAddress(TypedRevert):
    """An address argument is the zero address.

    Raised by: Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "ZeroAddress()"


class ZeroAmount(TypedRevert):
    """The amount is zero.

    Raised by: DigitalCash, MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "ZeroAmount()"
