"""The contracts' custom errors, one exception class per Solidity error: generated, do not edit.

``walletnet compile`` writes this module from the ABI artifacts (tools/revert_classes.py); ``--check`` fails when
it is stale. How the classes work: :class:`wallet_sdk.exceptions.TypedRevert`; :func:`wallet_sdk.decode_revert`
turns revert data into them.
"""

from __future__ import annotations

from typing import ClassVar, Final

from eth_typing import ChecksumAddress

from wallet_sdk.enums import BankStatus, HoldStatus, MerchantStatus, ProposalStatus, WalletKind, WalletStatus
from wallet_sdk.exceptions import Panic, RevertReason, TypedRevert, UnknownRevert

__all__ = [
    "REVERT_CLASSES",
    "AddressEmptyCode",
    "AlreadyApproved",
    "AmountTooLarge",
    "AuthorizationAlreadyUsed",
    "AuthorizationExpired",
    "AuthorizationNotYetValid",
    "BalanceCapExceeded",
    "BalanceOverflow",
    "BankAlreadyExists",
    "BankIsRemoved",
    "BankNotActive",
    "BankNotSuspended",
    "BatchOutOfGas",
    "CallerMustBePayee",
    "DailyOutflowLimitExceeded",
    "DirectTransferToSettlement",
    "ERC20InsufficientAllowance",
    "ERC20InsufficientBalance",
    "ERC20InvalidApprover",
    "ERC20InvalidReceiver",
    "ERC20InvalidSender",
    "ERC20InvalidSpender",
    "ERC1967InvalidImplementation",
    "ERC1967NonPayable",
    "ERC2612ExpiredSignature",
    "ERC2612InvalidSigner",
    "EnforcedPause",
    "EnodeAlreadyRegistered",
    "ExpectedPause",
    "FailedCall",
    "FeeWalletNotSet",
    "HoldAlreadyExists",
    "HoldNotActive",
    "HoldNotExpired",
    "HoldsOutstanding",
    "InvalidAccountNonce",
    "InvalidBankId",
    "InvalidEnode",
    "InvalidFee",
    "InvalidFeeWallet",
    "InvalidInitialization",
    "InvalidLimitClass",
    "InvalidMerchantStatus",
    "InvalidMerchantWallet",
    "InvalidPaymentRequest",
    "InvalidSignature",
    "InvalidThreshold",
    "InvalidTier",
    "InvalidWalletStatus",
    "IssuerAlreadySet",
    "MerchantAlreadyRegistered",
    "MerchantNotActive",
    "NotBankOperator",
    "NotConsortium",
    "NotCustodian",
    "NotCustodianOperator",
    "NotCustodianOrRegulator",
    "NotEnoughApprovals",
    "NotGovernance",
    "NotInitializing",
    "NotIssuer",
    "NotNetworkOperator",
    "NotOperatorOfBank",
    "NotPersonalWallet",
    "NotRegistry",
    "NotSelf",
    "NotSettlement",
    "OperatorAlreadyAssigned",
    "OrderAlreadyPaid",
    "Panic",
    "ProposalCallFailed",
    "ProposalNotPending",
    "QuotaExceeded",
    "RefAlreadyBurned",
    "RefAlreadyMinted",
    "RefAlreadyRefunded",
    "RefAlreadySettled",
    "RefundExceedsPending",
    "RefundExceedsRefundable",
    "RegulatorFreeze",
    "RevertReason",
    "SafeCastOverflowedUintDowncast",
    "SafeERC20FailedOperation",
    "SettlementAlreadySet",
    "SinglePaymentLimitExceeded",
    "SupplyOverflow",
    "TokenAlreadySet",
    "TokenNotSet",
    "TypedRevert",
    "UUPSUnauthorizedCallContext",
    "UUPSUnsupportedProxiableUUID",
    "UnknownBank",
    "UnknownEnode",
    "UnknownHold",
    "UnknownMerchant",
    "UnknownOperator",
    "UnknownOrder",
    "UnknownProposal",
    "UnknownRevert",
    "UnorderedNonceUsed",
    "WalletAlreadyRegistered",
    "WalletIsClosed",
    "WalletNotActive",
    "WalletNotFrozen",
    "WalletNotRegistered",
    "ZeroAddress",
    "ZeroAmount",
]


class AddressEmptyCode(TypedRevert):
    """There's no code at `target` (it is not a contract).

    ``AddressEmptyCode(address target)``, raised by Consortium, DigitalCash, ERC1967Proxy, MerchantSettlement,
    WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "AddressEmptyCode(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("9996b315")

    target: ChecksumAddress


class AlreadyApproved(TypedRevert):
    """This bank already approved the proposal (one approval per bank).

    ``AlreadyApproved(uint256 proposalId, bytes32 bankId)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "AlreadyApproved(uint256,bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("ea262b65")

    proposalId: int
    bankId: bytes


class AmountTooLarge(TypedRevert):
    """A mint larger than a balance can hold (2^104-1 minor units).

    ``AmountTooLarge(uint256 amount, uint256 max)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "AmountTooLarge(uint256,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("7f162703")

    amount: int
    max: int


class AuthorizationAlreadyUsed(TypedRevert):
    """The authorization's nonce (EIP-3009 nonce, hold id or redemption nonce) was already used or canceled.

    ``AuthorizationAlreadyUsed(address authorizer, bytes32 nonce)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "AuthorizationAlreadyUsed(address,bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("d309466d")

    authorizer: ChecksumAddress
    nonce: bytes


class AuthorizationExpired(TypedRevert):
    """The block time is at or past the authorization's `validBefore`.

    ``AuthorizationExpired(uint256 validBefore)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "AuthorizationExpired(uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("3d91b05f")

    validBefore: int


class AuthorizationNotYetValid(TypedRevert):
    """The block time is at or before the authorization's `validAfter`.

    ``AuthorizationNotYetValid(uint256 validAfter)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "AuthorizationNotYetValid(uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("7a4df079")

    validAfter: int


class BalanceCapExceeded(TypedRevert):
    """The wallet's balance would exceed its tier's balance cap.

    ``BalanceCapExceeded(address wallet, uint256 balanceAfter, uint256 cap)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "BalanceCapExceeded(address,uint256,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("d2f30d63")

    wallet: ChecksumAddress
    balanceAfter: int
    cap: int


class BalanceOverflow(TypedRevert):
    """The credit would take `wallet`'s balance past the packed width (2^104-1).

    ``BalanceOverflow(address wallet, uint256 balanceAfter, uint256 max)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "BalanceOverflow(address,uint256,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("9fbb61c2")

    wallet: ChecksumAddress
    balanceAfter: int
    max: int


class BankAlreadyExists(TypedRevert):
    """A bank with this id is already a member.

    ``BankAlreadyExists(bytes32 bankId)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "BankAlreadyExists(bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("5fe73734")

    bankId: bytes


class BankIsRemoved(TypedRevert):
    """The bank has been removed; a removed bank is never changed again.

    ``BankIsRemoved(bytes32 bankId)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "BankIsRemoved(bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("65c22757")

    bankId: bytes


class BankNotActive(TypedRevert):
    """The bank is not Active (unknown, suspended or removed).

    ``BankNotActive(bytes32 bankId, BankStatus status)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "BankNotActive(bytes32,uint8)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("2a82d7b9")

    bankId: bytes
    status: BankStatus


class BankNotSuspended(TypedRevert):
    """Only a suspended bank can be reactivated.

    ``BankNotSuspended(bytes32 bankId, BankStatus status)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "BankNotSuspended(bytes32,uint8)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("6faafa2d")

    bankId: bytes
    status: BankStatus


class BatchOutOfGas(TypedRevert):
    """payBatch ran out of gas at item `index` (the whole batch reverts; send it with more gas).

    ``BatchOutOfGas(uint256 index)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "BatchOutOfGas(uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("7625508a")

    index: int


class CallerMustBePayee(TypedRevert):
    """`receiveWithAuthorization` must be called by the payee (`to`).

    ``CallerMustBePayee(address caller, address payee)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "CallerMustBePayee(address,address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("1c5939f3")

    caller: ChecksumAddress
    payee: ChecksumAddress


class DailyOutflowLimitExceeded(TypedRevert):
    """The wallet's outflow today plus this amount exceeds its tier's daily limit.

    ``DailyOutflowLimitExceeded(address wallet, uint256 spentToday, uint256 amount, uint256 limit)``, raised by
    DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "DailyOutflowLimitExceeded(address,uint256,uint256,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("d82d9009")

    wallet: ChecksumAddress
    spentToday: int
    amount: int
    limit: int


class DirectTransferToSettlement(TypedRevert):
    """Money reaches the MerchantSettlement contract only as an order payment (its own receiveWithAuthorization call); a
    direct transfer would credit no merchant and be stranded.

    ``DirectTransferToSettlement(address from)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "DirectTransferToSettlement(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("fe9f80db")

    from_: ChecksumAddress


class ERC1967InvalidImplementation(TypedRevert):
    """The `implementation` of the proxy is invalid.

    ``ERC1967InvalidImplementation(address implementation)``, raised by Consortium, DigitalCash, ERC1967Proxy,
    MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "ERC1967InvalidImplementation(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("4c9c8ce3")

    implementation: ChecksumAddress


class ERC1967NonPayable(TypedRevert):
    """An upgrade function sees `msg.value > 0` that may be lost.

    ``ERC1967NonPayable()``, raised by Consortium, DigitalCash, ERC1967Proxy, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "ERC1967NonPayable()"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("b398979f")


class ERC20InsufficientAllowance(TypedRevert):
    """Indicates a failure with the `spender`'s `allowance`. Used in transfers.

    ``ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC20InsufficientAllowance(address,uint256,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("fb8f41b2")

    spender: ChecksumAddress
    allowance: int
    needed: int


class ERC20InsufficientBalance(TypedRevert):
    """Indicates an error related to the current `balance` of a `sender`. Used in transfers.

    ``ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC20InsufficientBalance(address,uint256,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("e450d38c")

    sender: ChecksumAddress
    balance: int
    needed: int


class ERC20InvalidApprover(TypedRevert):
    """Indicates a failure with the `approver` of a token to be approved. Used in approvals.

    ``ERC20InvalidApprover(address approver)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC20InvalidApprover(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("e602df05")

    approver: ChecksumAddress


class ERC20InvalidReceiver(TypedRevert):
    """Indicates a failure with the token `receiver`. Used in transfers.

    ``ERC20InvalidReceiver(address receiver)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC20InvalidReceiver(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("ec442f05")

    receiver: ChecksumAddress


class ERC20InvalidSender(TypedRevert):
    """Indicates a failure with the token `sender`. Used in transfers.

    ``ERC20InvalidSender(address sender)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC20InvalidSender(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("96c6fd1e")

    sender: ChecksumAddress


class ERC20InvalidSpender(TypedRevert):
    """Indicates a failure with the `spender` to be approved. Used in approvals.

    ``ERC20InvalidSpender(address spender)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC20InvalidSpender(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("94280d62")

    spender: ChecksumAddress


class ERC2612ExpiredSignature(TypedRevert):
    """EIP-2612 permit past its deadline (OpenZeppelin ERC20Permit's name).

    ``ERC2612ExpiredSignature(uint256 deadline)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC2612ExpiredSignature(uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("62791302")

    deadline: int


class ERC2612InvalidSigner(TypedRevert):
    """EIP-2612 permit not signed by `owner` (OpenZeppelin ERC20Permit's name).

    ``ERC2612InvalidSigner(address signer, address owner)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ERC2612InvalidSigner(address,address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("4b800e46")

    signer: ChecksumAddress
    owner: ChecksumAddress


class EnforcedPause(TypedRevert):
    """The token is paused (OpenZeppelin Pausable's name).

    ``EnforcedPause()``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "EnforcedPause()"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("d93c0665")


class EnodeAlreadyRegistered(TypedRevert):
    """The node id of `enodeId` is already registered to `bankId`.

    ``EnodeAlreadyRegistered(string enodeId, bytes32 bankId)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "EnodeAlreadyRegistered(string,bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("7a5100de")

    enodeId: str
    bankId: bytes


class ExpectedPause(TypedRevert):
    """`unpause` while not paused (OpenZeppelin Pausable's name).

    ``ExpectedPause()``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "ExpectedPause()"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("8dfc202b")


class FailedCall(TypedRevert):
    """A call to an address target failed. The target may have reverted.

    ``FailedCall()``, raised by Consortium, DigitalCash, ERC1967Proxy, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "FailedCall()"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("d6bda275")


class FeeWalletNotSet(TypedRevert):
    """Settlement with a fee needs the acquiring bank's fee wallet; set it with setFeeWallet.

    ``FeeWalletNotSet(bytes32 bankId)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "FeeWalletNotSet(bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("1d597930")

    bankId: bytes


class HoldAlreadyExists(TypedRevert):
    """Another hold already uses `holdId` (hold ids are unique network-wide).

    ``HoldAlreadyExists(bytes32 holdId)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "HoldAlreadyExists(bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("18767558")

    holdId: bytes


class HoldNotActive(TypedRevert):
    """The hold was already captured or released.

    ``HoldNotActive(bytes32 holdId, HoldStatus status)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "HoldNotActive(bytes32,uint8)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("5588a067")

    holdId: bytes
    status: HoldStatus


class HoldNotExpired(TypedRevert):
    """The holder may release a hold only after it expires.

    ``HoldNotExpired(bytes32 holdId, uint256 expiresAt)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "HoldNotExpired(bytes32,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("c6cef671")

    holdId: bytes
    expiresAt: int


class HoldsOutstanding(TypedRevert):
    """The wallet still has money on hold (a wallet cannot close with open holds).

    ``HoldsOutstanding(address wallet, uint256 held)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "HoldsOutstanding(address,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("fdf835a0")

    wallet: ChecksumAddress
    held: int


class InvalidAccountNonce(TypedRevert):
    """The nonce used for an `account` is not the expected current nonce.

    ``InvalidAccountNonce(address account, uint256 currentNonce)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "InvalidAccountNonce(address,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("752d88c0")

    account: ChecksumAddress
    currentNonce: int


class InvalidBankId(TypedRevert):
    """`bankId` is zero, which is reserved for "no bank" (system wallets).

    ``InvalidBankId(bytes32 bankId)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "InvalidBankId(bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("d7f10b40")

    bankId: bytes


class InvalidEnode(TypedRevert):
    """`enodeId` is neither 128 hex characters nor `enode://<128 hex>[@...]`.

    ``InvalidEnode(string enodeId)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "InvalidEnode(string)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("3fb3546d")

    enodeId: str


class InvalidFee(TypedRevert):
    """A merchant fee above 10,000 basis points.

    ``InvalidFee(uint16 feeBps)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "InvalidFee(uint16)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("f6f4a38f")

    feeBps: int


class InvalidFeeWallet(TypedRevert):
    """The fee wallet is not a registered active wallet of the caller's bank.

    ``InvalidFeeWallet(address wallet, bytes32 bankId)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "InvalidFeeWallet(address,bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("462ba41d")

    wallet: ChecksumAddress
    bankId: bytes


class InvalidInitialization(TypedRevert):
    """The contract is already initialized.

    ``InvalidInitialization()``, raised by Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "InvalidInitialization()"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("f92ee8a9")


class InvalidLimitClass(TypedRevert):
    """Limit classes are 1-4 (personal tiers), 5 (merchant) and 6 (system).

    ``InvalidLimitClass(uint8 limitClass)``, raised by DigitalCash, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "InvalidLimitClass(uint8)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("64a410d1")

    limitClass: int


class InvalidMerchantStatus(TypedRevert):
    """A merchant status must be Active or Suspended.

    ``InvalidMerchantStatus(MerchantStatus status)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "InvalidMerchantStatus(uint8)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("a68c744b")

    status: MerchantStatus


class InvalidMerchantWallet(TypedRevert):
    """A merchant wallet must be a registered, active wallet of kind Merchant.

    ``InvalidMerchantWallet(address wallet)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "InvalidMerchantWallet(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("6bcffb41")

    wallet: ChecksumAddress


class InvalidPaymentRequest(TypedRevert):
    """The payment's request is not signed by the acquirer's request signer nor by an active operator of the acquirer (a
    request it never issued, or other terms than it signed: amount, order, merchant, expiry). `signer` is the recovered
    address (zero for a malformed signature).

    ``InvalidPaymentRequest(bytes32 acquirer, bytes32 merchantId, bytes32 orderId, address signer)``, raised by
    MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "InvalidPaymentRequest(bytes32,bytes32,bytes32,address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("302a1e6c")

    acquirer: bytes
    merchantId: bytes
    orderId: bytes
    signer: ChecksumAddress


class InvalidSignature(TypedRevert):
    """The signature does not recover to `expectedSigner`.

    ``InvalidSignature(address expectedSigner)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "InvalidSignature(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("d855c4f4")

    expectedSigner: ChecksumAddress


class InvalidThreshold(TypedRevert):
    """The approval threshold must be from 1 to the number of active banks.

    ``InvalidThreshold(uint256 threshold, uint256 activeBanks)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "InvalidThreshold(uint256,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("7b7a98f1")

    threshold: int
    activeBanks: int


class InvalidTier(TypedRevert):
    """Personal tiers are 1-4 (merchant and system wallets use tier 1).

    ``InvalidTier(address wallet, uint8 tier)``, raised by WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "InvalidTier(address,uint8)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("832d707d")

    wallet: ChecksumAddress
    tier: int


class InvalidWalletStatus(TypedRevert):
    """`setWalletState` with a status outside IWalletRegistry.WalletStatus (0..3).

    ``InvalidWalletStatus(uint8 status)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "InvalidWalletStatus(uint8)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("a4b2266c")

    status: int


class IssuerAlreadySet(TypedRevert):
    """The issuer (the token) is wired once.

    ``IssuerAlreadySet(address issuer)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "IssuerAlreadySet(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("cd1a3204")

    issuer: ChecksumAddress


class MerchantAlreadyRegistered(TypedRevert):
    """A merchant with this id is already registered.

    ``MerchantAlreadyRegistered(bytes32 merchantId)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "MerchantAlreadyRegistered(bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("80015e82")

    merchantId: bytes


class MerchantNotActive(TypedRevert):
    """The merchant is suspended: it cannot be paid (it can still be refunded and settled).

    ``MerchantNotActive(bytes32 merchantId)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "MerchantNotActive(bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("59a2c469")

    merchantId: bytes


class NotBankOperator(TypedRevert):
    """The caller is not an operator of an active member bank.

    ``NotBankOperator(address caller)``, raised by Consortium, DigitalCash, MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "NotBankOperator(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("a7695449")

    caller: ChecksumAddress


class NotConsortium(TypedRevert):
    """Only the Consortium (an executed governance proposal) may upgrade.

    ``NotConsortium(address caller)``, raised by WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "NotConsortium(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("421505ea")

    caller: ChecksumAddress


class NotCustodian(TypedRevert):
    """Only operators of the wallet's custodian bank may change it.

    ``NotCustodian(address caller, address wallet, bytes32 bankId)``, raised by WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "NotCustodian(address,address,bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("02c8f82c")

    caller: ChecksumAddress
    wallet: ChecksumAddress
    bankId: bytes


class NotCustodianOperator(TypedRevert):
    """Only active operators of the wallet's custodian bank may do this.

    ``NotCustodianOperator(address caller, address wallet)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "NotCustodianOperator(address,address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("908b6750")

    caller: ChecksumAddress
    wallet: ChecksumAddress


class NotCustodianOrRegulator(TypedRevert):
    """Only the custodian bank's operators or the regulator may freeze or unfreeze the wallet.

    ``NotCustodianOrRegulator(address caller, address wallet)``, raised by WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "NotCustodianOrRegulator(address,address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("f2926c4d")

    caller: ChecksumAddress
    wallet: ChecksumAddress


class NotEnoughApprovals(TypedRevert):
    """The proposal has fewer approvals than the threshold.

    ``NotEnoughApprovals(uint256 proposalId, uint256 approvals, uint256 threshold)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "NotEnoughApprovals(uint256,uint256,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("db880e14")

    proposalId: int
    approvals: int
    threshold: int


class NotGovernance(TypedRevert):
    """Consortium: Only an executed governance proposal may call this (upgrades, membership changes).

    DigitalCash: Only the Consortium (an executed governance proposal) may upgrade the token.

    MerchantSettlement: Only the Consortium (an executed proposal) may upgrade.

    ``NotGovernance(address caller)``, raised by Consortium, DigitalCash, MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "NotGovernance(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("988d1f03")

    caller: ChecksumAddress


class NotInitializing(TypedRevert):
    """The contract is not initializing.

    ``NotInitializing()``, raised by Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "NotInitializing()"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("d7e6bcf8")


class NotIssuer(TypedRevert):
    """Only the token may record issuance.

    ``NotIssuer(address caller)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "NotIssuer(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("3fd26f9e")

    caller: ChecksumAddress


class NotNetworkOperator(TypedRevert):
    """Only the network operator may call this.

    ``NotNetworkOperator(address caller)``, raised by Consortium, DigitalCash, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "NotNetworkOperator(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("38769bc3")

    caller: ChecksumAddress


class NotOperatorOfBank(TypedRevert):
    """`operator` is not an operator of `bankId`.

    ``NotOperatorOfBank(address operator, bytes32 bankId)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "NotOperatorOfBank(address,bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("31cbc886")

    operator: ChecksumAddress
    bankId: bytes


class NotPersonalWallet(TypedRevert):
    """Tiers only apply to personal wallets.

    ``NotPersonalWallet(address wallet, WalletKind kind)``, raised by WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "NotPersonalWallet(address,uint8)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("e506cc33")

    wallet: ChecksumAddress
    kind: WalletKind


class NotRegistry(TypedRevert):
    """Only the wallet registry may call this.

    ``NotRegistry(address caller)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "NotRegistry(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("631a294a")

    caller: ChecksumAddress


class NotSelf(TypedRevert):
    """`payBatchItem` is an internal entry point of `payBatch`.

    ``NotSelf(address caller)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "NotSelf(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("7d116ed0")

    caller: ChecksumAddress


class NotSettlement(TypedRevert):
    """Only the merchant settlement contract may call this.

    ``NotSettlement(address caller)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "NotSettlement(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("4afb55c5")

    caller: ChecksumAddress


class OperatorAlreadyAssigned(TypedRevert):
    """The address is already an operator of a bank.

    ``OperatorAlreadyAssigned(address operator, bytes32 bankId)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "OperatorAlreadyAssigned(address,bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("5b4f6f93")

    operator: ChecksumAddress
    bankId: bytes


class OrderAlreadyPaid(TypedRevert):
    """The order was paid before (an order is paid at most once).

    ``OrderAlreadyPaid(bytes32 merchantId, bytes32 orderId)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "OrderAlreadyPaid(bytes32,bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("4e64befa")

    merchantId: bytes
    orderId: bytes


class ProposalCallFailed(TypedRevert):
    """The executed proposal's call reverted; `returndata` holds its revert data.

    ``ProposalCallFailed(uint256 proposalId, bytes returndata)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "ProposalCallFailed(uint256,bytes)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("032dc0ea")

    proposalId: int
    returndata: bytes


class ProposalNotPending(TypedRevert):
    """The proposal was already executed or cancelled.

    ``ProposalNotPending(uint256 proposalId, ProposalStatus status)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "ProposalNotPending(uint256,uint8)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("78c0fd24")

    proposalId: int
    status: ProposalStatus


class QuotaExceeded(TypedRevert):
    """The mint would take the bank's net issuance beyond its quota.

    ``QuotaExceeded(bytes32 bankId, uint256 quota, int256 netIssued, uint256 amount)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "QuotaExceeded(bytes32,uint256,int256,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("6b727110")

    bankId: bytes
    quota: int
    netIssued: int
    amount: int


class RefAlreadyBurned(TypedRevert):
    """`bankId` already burned under `ref` (a redemption, or a settlement payout of its merchant).

    ``RefAlreadyBurned(bytes32 bankId, bytes32 ref)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "RefAlreadyBurned(bytes32,bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("672474d5")

    bankId: bytes
    ref: bytes


class RefAlreadyMinted(TypedRevert):
    """`bankId` already minted under `ref`: a mint's off-chain event is minted once.

    ``RefAlreadyMinted(bytes32 bankId, bytes32 ref)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "RefAlreadyMinted(bytes32,bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("21ea3b27")

    bankId: bytes
    ref: bytes


class RefAlreadyRefunded(TypedRevert):
    """The acquirer `acquirer` already refunded under `ref`: a refund's ref is used once.

    ``RefAlreadyRefunded(bytes32 acquirer, bytes32 ref)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "RefAlreadyRefunded(bytes32,bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("ba5de33c")

    acquirer: bytes
    ref: bytes


class RefAlreadySettled(TypedRevert):
    """The acquirer `acquirer` already settled under `ref`: a settlement's ref is used once.

    ``RefAlreadySettled(bytes32 acquirer, bytes32 ref)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "RefAlreadySettled(bytes32,bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("bcbc3b53")

    acquirer: bytes
    ref: bytes


class RefundExceedsPending(TypedRevert):
    """Refunds come out of the merchant's pending (unsettled) balance, which is too small.

    ``RefundExceedsPending(bytes32 merchantId, uint256 amount, uint256 pending)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "RefundExceedsPending(bytes32,uint256,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("8a2f7e29")

    merchantId: bytes
    amount: int
    pending: int


class RefundExceedsRefundable(TypedRevert):
    """The refund exceeds what is left of the order (amount - already refunded).

    ``RefundExceedsRefundable(bytes32 merchantId, bytes32 orderId, uint256 amount, uint256 refundable)``, raised by
    MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "RefundExceedsRefundable(bytes32,bytes32,uint256,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("89f28d5e")

    merchantId: bytes
    orderId: bytes
    amount: int
    refundable: int


class RegulatorFreeze(TypedRevert):
    """A regulator's freeze can be lifted only by the regulator.

    ``RegulatorFreeze(address wallet)``, raised by WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "RegulatorFreeze(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("70ca9896")

    wallet: ChecksumAddress


class SafeCastOverflowedUintDowncast(TypedRevert):
    """Value doesn't fit in an uint of `bits` size.

    ``SafeCastOverflowedUintDowncast(uint8 bits, uint256 value)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "SafeCastOverflowedUintDowncast(uint8,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("6dfcc650")

    bits: int
    value: int


class SafeERC20FailedOperation(TypedRevert):
    """An operation with an ERC-20 token failed.

    ``SafeERC20FailedOperation(address token)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "SafeERC20FailedOperation(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("5274afe7")

    token: ChecksumAddress


class SettlementAlreadySet(TypedRevert):
    """The settlement contract is wired once.

    ``SettlementAlreadySet(address settlement)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "SettlementAlreadySet(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("42723ece")

    settlement: ChecksumAddress


class SinglePaymentLimitExceeded(TypedRevert):
    """The amount exceeds the wallet's tier single-payment limit.

    ``SinglePaymentLimitExceeded(address wallet, uint256 amount, uint256 limit)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "SinglePaymentLimitExceeded(address,uint256,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("d1e986de")

    wallet: ChecksumAddress
    amount: int
    limit: int


class SupplyOverflow(TypedRevert):
    """The mint would take the total supply past the packed width (2^128-1).

    ``SupplyOverflow(uint256 supplyAfter, uint256 max)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "SupplyOverflow(uint256,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("a96e30d0")

    supplyAfter: int
    max: int


class TokenAlreadySet(TypedRevert):
    """The token is wired into the registry once.

    ``TokenAlreadySet(address token)``, raised by WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "TokenAlreadySet(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("7e16511f")

    token: ChecksumAddress


class TokenNotSet(TypedRevert):
    """The registry is not wired to the token yet.

    ``TokenNotSet()``, raised by WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "TokenNotSet()"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("4b62f013")


class UUPSUnauthorizedCallContext(TypedRevert):
    """The call is from an unauthorized context.

    ``UUPSUnauthorizedCallContext()``, raised by Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "UUPSUnauthorizedCallContext()"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("e07c8dba")


class UUPSUnsupportedProxiableUUID(TypedRevert):
    """The storage `slot` is unsupported as a UUID.

    ``UUPSUnsupportedProxiableUUID(bytes32 slot)``, raised by Consortium, DigitalCash, MerchantSettlement,
    WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "UUPSUnsupportedProxiableUUID(bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("aa1d49a4")

    slot: bytes


class UnknownBank(TypedRevert):
    """No bank with this id.

    ``UnknownBank(bytes32 bankId)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "UnknownBank(bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("9302e297")

    bankId: bytes


class UnknownEnode(TypedRevert):
    """`enodeId` is not registered to `bankId`.

    ``UnknownEnode(bytes32 bankId, string enodeId)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "UnknownEnode(bytes32,string)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("6780ab3d")

    bankId: bytes
    enodeId: str


class UnknownHold(TypedRevert):
    """No hold with this id.

    ``UnknownHold(bytes32 holdId)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "UnknownHold(bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("8c9b0f16")

    holdId: bytes


class UnknownMerchant(TypedRevert):
    """No merchant with this id.

    ``UnknownMerchant(bytes32 merchantId)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "UnknownMerchant(bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("a6d1baa4")

    merchantId: bytes


class UnknownOperator(TypedRevert):
    """The address is not an operator of any bank.

    ``UnknownOperator(address operator)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "UnknownOperator(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("169f5006")

    operator: ChecksumAddress


class UnknownOrder(TypedRevert):
    """The order was never paid.

    ``UnknownOrder(bytes32 merchantId, bytes32 orderId)``, raised by MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "UnknownOrder(bytes32,bytes32)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("a62559c9")

    merchantId: bytes
    orderId: bytes


class UnknownProposal(TypedRevert):
    """No proposal with this id.

    ``UnknownProposal(uint256 proposalId)``, raised by Consortium.
    """

    SIGNATURE: ClassVar[str] = "UnknownProposal(uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("28e0cf5a")

    proposalId: int


class UnorderedNonceUsed(TypedRevert):
    """The RelayedTransfer nonce was already used (bitmap nonce).

    ``UnorderedNonceUsed(address owner, uint256 nonce)``, raised by DigitalCash.
    """

    SIGNATURE: ClassVar[str] = "UnorderedNonceUsed(address,uint256)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("ca072d15")

    owner: ChecksumAddress
    nonce: int


class WalletAlreadyRegistered(TypedRevert):
    """The address is already a registered wallet.

    ``WalletAlreadyRegistered(address wallet)``, raised by WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "WalletAlreadyRegistered(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("78d8bf08")

    wallet: ChecksumAddress


class WalletIsClosed(TypedRevert):
    """The wallet is closed; it cannot be changed any more.

    ``WalletIsClosed(address wallet)``, raised by WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "WalletIsClosed(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("a060ff42")

    wallet: ChecksumAddress


class WalletNotActive(TypedRevert):
    """DigitalCash: The wallet is not Active: unregistered (NONE), FROZEN or CLOSED (`status` holds
    IWalletRegistry.WalletStatus values).

    WalletRegistry: The wallet is not Active: unregistered (NONE), FROZEN or CLOSED.

    ``WalletNotActive(address wallet, WalletStatus status)``, raised by DigitalCash, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "WalletNotActive(address,uint8)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("e8b5127e")

    wallet: ChecksumAddress
    status: WalletStatus


class WalletNotFrozen(TypedRevert):
    """`unfreeze` of a wallet that is not frozen.

    ``WalletNotFrozen(address wallet)``, raised by WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "WalletNotFrozen(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("70a60363")

    wallet: ChecksumAddress


class WalletNotRegistered(TypedRevert):
    """The address is not a registered wallet.

    ``WalletNotRegistered(address wallet)``, raised by WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "WalletNotRegistered(address)"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("239a7cdf")

    wallet: ChecksumAddress


class ZeroAddress(TypedRevert):
    """Consortium: An address argument is the zero address.

    DigitalCash: A required address is zero.

    MerchantSettlement: An address given at initialization is zero.

    WalletRegistry: An address argument is the zero address.

    ``ZeroAddress()``, raised by Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """

    SIGNATURE: ClassVar[str] = "ZeroAddress()"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("d92e233d")


class ZeroAmount(TypedRevert):
    """The amount is zero.

    ``ZeroAmount()``, raised by DigitalCash, MerchantSettlement.
    """

    SIGNATURE: ClassVar[str] = "ZeroAmount()"
    SELECTOR: ClassVar[bytes] = bytes.fromhex("1f2a2005")


REVERT_CLASSES: Final[tuple[type[TypedRevert], ...]] = (
    RevertReason, Panic, AddressEmptyCode, AlreadyApproved, AmountTooLarge, AuthorizationAlreadyUsed,
    AuthorizationExpired, AuthorizationNotYetValid, BalanceCapExceeded, BalanceOverflow, BankAlreadyExists,
    BankIsRemoved, BankNotActive, BankNotSuspended, BatchOutOfGas, CallerMustBePayee, DailyOutflowLimitExceeded,
    DirectTransferToSettlement, ERC1967InvalidImplementation, ERC1967NonPayable, ERC20InsufficientAllowance,
    ERC20InsufficientBalance, ERC20InvalidApprover, ERC20InvalidReceiver, ERC20InvalidSender, ERC20InvalidSpender,
    ERC2612ExpiredSignature, ERC2612InvalidSigner, EnforcedPause, EnodeAlreadyRegistered, ExpectedPause, FailedCall,
    FeeWalletNotSet, HoldAlreadyExists, HoldNotActive, HoldNotExpired, HoldsOutstanding, InvalidAccountNonce,
    InvalidBankId, InvalidEnode, InvalidFee, InvalidFeeWallet, InvalidInitialization, InvalidLimitClass,
    InvalidMerchantStatus, InvalidMerchantWallet, InvalidPaymentRequest, InvalidSignature, InvalidThreshold,
    InvalidTier, InvalidWalletStatus, IssuerAlreadySet, MerchantAlreadyRegistered, MerchantNotActive,
    NotBankOperator, NotConsortium, NotCustodian, NotCustodianOperator, NotCustodianOrRegulator, NotEnoughApprovals,
    NotGovernance, NotInitializing, NotIssuer, NotNetworkOperator, NotOperatorOfBank, NotPersonalWallet,
    NotRegistry, NotSelf, NotSettlement, OperatorAlreadyAssigned, OrderAlreadyPaid, ProposalCallFailed,
    ProposalNotPending, QuotaExceeded, RefAlreadyBurned, RefAlreadyMinted, RefAlreadyRefunded, RefAlreadySettled,
    RefundExceedsPending, RefundExceedsRefundable, RegulatorFreeze, SafeCastOverflowedUintDowncast,
    SafeERC20FailedOperation, SettlementAlreadySet, SinglePaymentLimitExceeded, SupplyOverflow, TokenAlreadySet,
    TokenNotSet, UUPSUnauthorizedCallContext, UUPSUnsupportedProxiableUUID, UnknownBank, UnknownEnode, UnknownHold,
    UnknownMerchant, UnknownOperator, UnknownOrder, UnknownProposal, UnorderedNonceUsed, WalletAlreadyRegistered,
    WalletIsClosed, WalletNotActive, WalletNotFrozen, WalletNotRegistered, ZeroAddress, ZeroAmount
)
"""Every typed revert: Solidity's built-in Error and Panic, then each custom error above."""
