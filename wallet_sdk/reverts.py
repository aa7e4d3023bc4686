"""The contracts' custom errors, one exception class per Solidity error: generated, do not edit.

``walletnet compile`` writes this module from the ABI artifacts (tools/revert_classes.py); ``--check`` fails when
it is stale. How the classes work: :class:`wallet_sdk.exceptions.TypedRevert`; :func:`wallet_sdk.decode_revert`
turns revert data into them.
"""

from __future__ import annotations

from typing import Final

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


class AddressEmptyCode(TypedRevert, signature="AddressEmptyCode(address)"):
    """There's no code at `target` (it is not a contract).

    ``AddressEmptyCode(address target)``, raised by Consortium, DigitalCash, ERC1967Proxy, MerchantSettlement,
    WalletRegistry.
    """

    target: ChecksumAddress


class AlreadyApproved(TypedRevert, signature="AlreadyApproved(uint256,bytes32)"):
    """This bank already approved the proposal (one approval per bank).

    ``AlreadyApproved(uint256 proposalId, bytes32 bankId)``, raised by Consortium.
    """

    proposalId: int
    bankId: bytes


class AmountTooLarge(TypedRevert, signature="AmountTooLarge(uint256,uint256)"):
    """A mint larger than a balance can hold (2^104-1 minor units).

    ``AmountTooLarge(uint256 amount, uint256 max)``, raised by DigitalCash.
    """

    amount: int
    max: int


class AuthorizationAlreadyUsed(TypedRevert, signature="AuthorizationAlreadyUsed(address,bytes32)"):
    """The authorization's nonce (EIP-3009 nonce, hold id or redemption nonce) was already used or canceled.

    ``AuthorizationAlreadyUsed(address authorizer, bytes32 nonce)``, raised by DigitalCash.
    """

    authorizer: ChecksumAddress
    nonce: bytes


class AuthorizationExpired(TypedRevert, signature="AuthorizationExpired(uint256)"):
    """The block time is at or past the authorization's `validBefore`.

    ``AuthorizationExpired(uint256 validBefore)``, raised by DigitalCash.
    """

    validBefore: int


class AuthorizationNotYetValid(TypedRevert, signature="AuthorizationNotYetValid(uint256)"):
    """The block time is at or before the authorization's `validAfter`.

    ``AuthorizationNotYetValid(uint256 validAfter)``, raised by DigitalCash.
    """

    validAfter: int


class BalanceCapExceeded(TypedRevert, signature="BalanceCapExceeded(address,uint256,uint256)"):
    """The wallet's balance would exceed its tier's balance cap.

    ``BalanceCapExceeded(address wallet, uint256 balanceAfter, uint256 cap)``, raised by DigitalCash.
    """

    wallet: ChecksumAddress
    balanceAfter: int
    cap: int


class BalanceOverflow(TypedRevert, signature="BalanceOverflow(address,uint256,uint256)"):
    """The credit would take `wallet`'s balance past the packed width (2^104-1).

    ``BalanceOverflow(address wallet, uint256 balanceAfter, uint256 max)``, raised by DigitalCash.
    """

    wallet: ChecksumAddress
    balanceAfter: int
    max: int


class BankAlreadyExists(TypedRevert, signature="BankAlreadyExists(bytes32)"):
    """A bank with this id is already a member.

    ``BankAlreadyExists(bytes32 bankId)``, raised by Consortium.
    """

    bankId: bytes


class BankIsRemoved(TypedRevert, signature="BankIsRemoved(bytes32)"):
    """The bank has been removed; a removed bank is never changed again.

    ``BankIsRemoved(bytes32 bankId)``, raised by Consortium.
    """

    bankId: bytes


class BankNotActive(TypedRevert, signature="BankNotActive(bytes32,uint8)"):
    """The bank is not Active (unknown, suspended or removed).

    ``BankNotActive(bytes32 bankId, BankStatus status)``, raised by Consortium.
    """

    bankId: bytes
    status: BankStatus


class BankNotSuspended(TypedRevert, signature="BankNotSuspended(bytes32,uint8)"):
    """Only a suspended bank can be reactivated.

    ``BankNotSuspended(bytes32 bankId, BankStatus status)``, raised by Consortium.
    """

    bankId: bytes
    status: BankStatus


class BatchOutOfGas(TypedRevert, signature="BatchOutOfGas(uint256)"):
    """payBatch ran out of gas at item `index` (the whole batch reverts; send it with more gas).

    ``BatchOutOfGas(uint256 index)``, raised by MerchantSettlement.
    """

    index: int


class CallerMustBePayee(TypedRevert, signature="CallerMustBePayee(address,address)"):
    """`receiveWithAuthorization` must be called by the payee (`to`).

    ``CallerMustBePayee(address caller, address payee)``, raised by DigitalCash.
    """

    caller: ChecksumAddress
    payee: ChecksumAddress


class DailyOutflowLimitExceeded(TypedRevert, signature="DailyOutflowLimitExceeded(address,uint256,uint256,uint256)"):
    """The wallet's outflow today plus this amount exceeds its tier's daily limit.

    ``DailyOutflowLimitExceeded(address wallet, uint256 spentToday, uint256 amount, uint256 limit)``, raised by
    DigitalCash.
    """

    wallet: ChecksumAddress
    spentToday: int
    amount: int
    limit: int


class DirectTransferToSettlement(TypedRevert, signature="DirectTransferToSettlement(address)"):
    """Money reaches the MerchantSettlement contract only as an order payment (its own receiveWithAuthorization call); a
    direct transfer would credit no merchant and be stranded.

    ``DirectTransferToSettlement(address from)``, raised by DigitalCash.
    """

    from_: ChecksumAddress


class ERC1967InvalidImplementation(TypedRevert, signature="ERC1967InvalidImplementation(address)"):
    """The `implementation` of the proxy is invalid.

    ``ERC1967InvalidImplementation(address implementation)``, raised by Consortium, DigitalCash, ERC1967Proxy,
    MerchantSettlement, WalletRegistry.
    """

    implementation: ChecksumAddress


class ERC1967NonPayable(TypedRevert, signature="ERC1967NonPayable()"):
    """An upgrade function sees `msg.value > 0` that may be lost.

    ``ERC1967NonPayable()``, raised by Consortium, DigitalCash, ERC1967Proxy, MerchantSettlement, WalletRegistry.
    """


class ERC20InsufficientAllowance(TypedRevert, signature="ERC20InsufficientAllowance(address,uint256,uint256)"):
    """Indicates a failure with the `spender`'s `allowance`. Used in transfers.

    ``ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)``, raised by DigitalCash.
    """

    spender: ChecksumAddress
    allowance: int
    needed: int


class ERC20InsufficientBalance(TypedRevert, signature="ERC20InsufficientBalance(address,uint256,uint256)"):
    """Indicates an error related to the current `balance` of a `sender`. Used in transfers.

    ``ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)``, raised by DigitalCash.
    """

    sender: ChecksumAddress
    balance: int
    needed: int


class ERC20InvalidApprover(TypedRevert, signature="ERC20InvalidApprover(address)"):
    """Indicates a failure with the `approver` of a token to be approved. Used in approvals.

    ``ERC20InvalidApprover(address approver)``, raised by DigitalCash.
    """

    approver: ChecksumAddress


class ERC20InvalidReceiver(TypedRevert, signature="ERC20InvalidReceiver(address)"):
    """Indicates a failure with the token `receiver`. Used in transfers.

    ``ERC20InvalidReceiver(address receiver)``, raised by DigitalCash.
    """

    receiver: ChecksumAddress


class ERC20InvalidSender(TypedRevert, signature="ERC20InvalidSender(address)"):
    """Indicates a failure with the token `sender`. Used in transfers.

    ``ERC20InvalidSender(address sender)``, raised by DigitalCash.
    """

    sender: ChecksumAddress


class ERC20InvalidSpender(TypedRevert, signature="ERC20InvalidSpender(address)"):
    """Indicates a failure with the `spender` to be approved. Used in approvals.

    ``ERC20InvalidSpender(address spender)``, raised by DigitalCash.
    """

    spender: ChecksumAddress


class ERC2612ExpiredSignature(TypedRevert, signature="ERC2612ExpiredSignature(uint256)"):
    """EIP-2612 permit past its deadline (OpenZeppelin ERC20Permit's name).

    ``ERC2612ExpiredSignature(uint256 deadline)``, raised by DigitalCash.
    """

    deadline: int


class ERC2612InvalidSigner(TypedRevert, signature="ERC2612InvalidSigner(address,address)"):
    """EIP-2612 permit not signed by `owner` (OpenZeppelin ERC20Permit's name).

    ``ERC2612InvalidSigner(address signer, address owner)``, raised by DigitalCash.
    """

    signer: ChecksumAddress
    owner: ChecksumAddress


class EnforcedPause(TypedRevert, signature="EnforcedPause()"):
    """The token is paused (OpenZeppelin Pausable's name).

    ``EnforcedPause()``, raised by DigitalCash.
    """


class EnodeAlreadyRegistered(TypedRevert, signature="EnodeAlreadyRegistered(string,bytes32)"):
    """The node id of `enodeId` is already registered to `bankId`.

    ``EnodeAlreadyRegistered(string enodeId, bytes32 bankId)``, raised by Consortium.
    """

    enodeId: str
    bankId: bytes


class ExpectedPause(TypedRevert, signature="ExpectedPause()"):
    """`unpause` while not paused (OpenZeppelin Pausable's name).

    ``ExpectedPause()``, raised by DigitalCash.
    """


class FailedCall(TypedRevert, signature="FailedCall()"):
    """A call to an address target failed. The target may have reverted.

    ``FailedCall()``, raised by Consortium, DigitalCash, ERC1967Proxy, MerchantSettlement, WalletRegistry.
    """


class FeeWalletNotSet(TypedRevert, signature="FeeWalletNotSet(bytes32)"):
    """Settlement with a fee needs the acquiring bank's fee wallet; set it with setFeeWallet.

    ``FeeWalletNotSet(bytes32 bankId)``, raised by MerchantSettlement.
    """

    bankId: bytes


class HoldAlreadyExists(TypedRevert, signature="HoldAlreadyExists(bytes32)"):
    """Another hold already uses `holdId` (hold ids are unique network-wide).

    ``HoldAlreadyExists(bytes32 holdId)``, raised by DigitalCash.
    """

    holdId: bytes


class HoldNotActive(TypedRevert, signature="HoldNotActive(bytes32,uint8)"):
    """The hold was already captured or released.

    ``HoldNotActive(bytes32 holdId, HoldStatus status)``, raised by DigitalCash.
    """

    holdId: bytes
    status: HoldStatus


class HoldNotExpired(TypedRevert, signature="HoldNotExpired(bytes32,uint256)"):
    """The holder may release a hold only after it expires.

    ``HoldNotExpired(bytes32 holdId, uint256 expiresAt)``, raised by DigitalCash.
    """

    holdId: bytes
    expiresAt: int


class HoldsOutstanding(TypedRevert, signature="HoldsOutstanding(address,uint256)"):
    """The wallet still has money on hold (a wallet cannot close with open holds).

    ``HoldsOutstanding(address wallet, uint256 held)``, raised by DigitalCash.
    """

    wallet: ChecksumAddress
    held: int


class InvalidAccountNonce(TypedRevert, signature="InvalidAccountNonce(address,uint256)"):
    """The nonce used for an `account` is not the expected current nonce.

    ``InvalidAccountNonce(address account, uint256 currentNonce)``, raised by DigitalCash.
    """

    account: ChecksumAddress
    currentNonce: int


class InvalidBankId(TypedRevert, signature="InvalidBankId(bytes32)"):
    """`bankId` is zero, which is reserved for "no bank" (system wallets).

    ``InvalidBankId(bytes32 bankId)``, raised by Consortium.
    """

    bankId: bytes


class InvalidEnode(TypedRevert, signature="InvalidEnode(string)"):
    """`enodeId` is neither 128 hex characters nor `enode://<128 hex>[@...]`.

    ``InvalidEnode(string enodeId)``, raised by Consortium.
    """

    enodeId: str


class InvalidFee(TypedRevert, signature="InvalidFee(uint16)"):
    """A merchant fee above 10,000 basis points.

    ``InvalidFee(uint16 feeBps)``, raised by MerchantSettlement.
    """

    feeBps: int


class InvalidFeeWallet(TypedRevert, signature="InvalidFeeWallet(address,bytes32)"):
    """The fee wallet is not a registered active wallet of the caller's bank.

    ``InvalidFeeWallet(address wallet, bytes32 bankId)``, raised by MerchantSettlement.
    """

    wallet: ChecksumAddress
    bankId: bytes


class InvalidInitialization(TypedRevert, signature="InvalidInitialization()"):
    """The contract is already initialized.

    ``InvalidInitialization()``, raised by Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """


class InvalidLimitClass(TypedRevert, signature="InvalidLimitClass(uint8)"):
    """Limit classes are 1-4 (personal tiers), 5 (merchant) and 6 (system).

    ``InvalidLimitClass(uint8 limitClass)``, raised by DigitalCash, WalletRegistry.
    """

    limitClass: int


class InvalidMerchantStatus(TypedRevert, signature="InvalidMerchantStatus(uint8)"):
    """A merchant status must be Active or Suspended.

    ``InvalidMerchantStatus(MerchantStatus status)``, raised by MerchantSettlement.
    """

    status: MerchantStatus


class InvalidMerchantWallet(TypedRevert, signature="InvalidMerchantWallet(address)"):
    """A merchant wallet must be a registered, active wallet of kind Merchant.

    ``InvalidMerchantWallet(address wallet)``, raised by MerchantSettlement.
    """

    wallet: ChecksumAddress


class InvalidPaymentRequest(TypedRevert, signature="InvalidPaymentRequest(bytes32,bytes32,bytes32,address)"):
    """The payment's request is not signed by the acquirer's request signer nor by an active operator of the acquirer (a
    request it never issued, or other terms than it signed: amount, order, merchant, expiry). `signer` is the recovered
    address (zero for a malformed signature).

    ``InvalidPaymentRequest(bytes32 acquirer, bytes32 merchantId, bytes32 orderId, address signer)``, raised by
    MerchantSettlement.
    """

    acquirer: bytes
    merchantId: bytes
    orderId: bytes
    signer: ChecksumAddress


class InvalidSignature(TypedRevert, signature="InvalidSignature(address)"):
    """The signature does not recover to `expectedSigner`.

    ``InvalidSignature(address expectedSigner)``, raised by DigitalCash.
    """

    expectedSigner: ChecksumAddress


class InvalidThreshold(TypedRevert, signature="InvalidThreshold(uint256,uint256)"):
    """The approval threshold must be from 1 to the number of active banks.

    ``InvalidThreshold(uint256 threshold, uint256 activeBanks)``, raised by Consortium.
    """

    threshold: int
    activeBanks: int


class InvalidTier(TypedRevert, signature="InvalidTier(address,uint8)"):
    """Personal tiers are 1-4 (merchant and system wallets use tier 1).

    ``InvalidTier(address wallet, uint8 tier)``, raised by WalletRegistry.
    """

    wallet: ChecksumAddress
    tier: int


class InvalidWalletStatus(TypedRevert, signature="InvalidWalletStatus(uint8)"):
    """`setWalletState` with a status outside IWalletRegistry.WalletStatus (0..3).

    ``InvalidWalletStatus(uint8 status)``, raised by DigitalCash.
    """

    status: int


class IssuerAlreadySet(TypedRevert, signature="IssuerAlreadySet(address)"):
    """The issuer (the token) is wired once.

    ``IssuerAlreadySet(address issuer)``, raised by Consortium.
    """

    issuer: ChecksumAddress


class MerchantAlreadyRegistered(TypedRevert, signature="MerchantAlreadyRegistered(bytes32)"):
    """A merchant with this id is already registered.

    ``MerchantAlreadyRegistered(bytes32 merchantId)``, raised by MerchantSettlement.
    """

    merchantId: bytes


class MerchantNotActive(TypedRevert, signature="MerchantNotActive(bytes32)"):
    """The merchant is suspended: it cannot be paid (it can still be refunded and settled).

    ``MerchantNotActive(bytes32 merchantId)``, raised by MerchantSettlement.
    """

    merchantId: bytes


class NotBankOperator(TypedRevert, signature="NotBankOperator(address)"):
    """The caller is not an operator of an active member bank.

    ``NotBankOperator(address caller)``, raised by Consortium, DigitalCash, MerchantSettlement.
    """

    caller: ChecksumAddress


class NotConsortium(TypedRevert, signature="NotConsortium(address)"):
    """Only the Consortium (an executed governance proposal) may upgrade.

    ``NotConsortium(address caller)``, raised by WalletRegistry.
    """

    caller: ChecksumAddress


class NotCustodian(TypedRevert, signature="NotCustodian(address,address,bytes32)"):
    """Only operators of the wallet's custodian bank may change it.

    ``NotCustodian(address caller, address wallet, bytes32 bankId)``, raised by WalletRegistry.
    """

    caller: ChecksumAddress
    wallet: ChecksumAddress
    bankId: bytes


class NotCustodianOperator(TypedRevert, signature="NotCustodianOperator(address,address)"):
    """Only active operators of the wallet's custodian bank may do this.

    ``NotCustodianOperator(address caller, address wallet)``, raised by DigitalCash.
    """

    caller: ChecksumAddress
    wallet: ChecksumAddress


class NotCustodianOrRegulator(TypedRevert, signature="NotCustodianOrRegulator(address,address)"):
    """Only the custodian bank's operators or the regulator may freeze or unfreeze the wallet.

    ``NotCustodianOrRegulator(address caller, address wallet)``, raised by WalletRegistry.
    """

    caller: ChecksumAddress
    wallet: ChecksumAddress


class NotEnoughApprovals(TypedRevert, signature="NotEnoughApprovals(uint256,uint256,uint256)"):
    """The proposal has fewer approvals than the threshold.

    ``NotEnoughApprovals(uint256 proposalId, uint256 approvals, uint256 threshold)``, raised by Consortium.
    """

    proposalId: int
    approvals: int
    threshold: int


class NotGovernance(TypedRevert, signature="NotGovernance(address)"):
    """Consortium: Only an executed governance proposal may call this (upgrades, membership changes).

    DigitalCash: Only the Consortium (an executed governance proposal) may upgrade the token.

    MerchantSettlement: Only the Consortium (an executed proposal) may upgrade.

    ``NotGovernance(address caller)``, raised by Consortium, DigitalCash, MerchantSettlement.
    """

    caller: ChecksumAddress


class NotInitializing(TypedRevert, signature="NotInitializing()"):
    """The contract is not initializing.

    ``NotInitializing()``, raised by Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """


class NotIssuer(TypedRevert, signature="NotIssuer(address)"):
    """Only the token may record issuance.

    ``NotIssuer(address caller)``, raised by Consortium.
    """

    caller: ChecksumAddress


class NotNetworkOperator(TypedRevert, signature="NotNetworkOperator(address)"):
    """Only the network operator may call this.

    ``NotNetworkOperator(address caller)``, raised by Consortium, DigitalCash, WalletRegistry.
    """

    caller: ChecksumAddress


class NotOperatorOfBank(TypedRevert, signature="NotOperatorOfBank(address,bytes32)"):
    """`operator` is not an operator of `bankId`.

    ``NotOperatorOfBank(address operator, bytes32 bankId)``, raised by Consortium.
    """

    operator: ChecksumAddress
    bankId: bytes


class NotPersonalWallet(TypedRevert, signature="NotPersonalWallet(address,uint8)"):
    """Tiers only apply to personal wallets.

    ``NotPersonalWallet(address wallet, WalletKind kind)``, raised by WalletRegistry.
    """

    wallet: ChecksumAddress
    kind: WalletKind


class NotRegistry(TypedRevert, signature="NotRegistry(address)"):
    """Only the wallet registry may call this.

    ``NotRegistry(address caller)``, raised by DigitalCash.
    """

    caller: ChecksumAddress


class NotSelf(TypedRevert, signature="NotSelf(address)"):
    """`payBatchItem` is an internal entry point of `payBatch`.

    ``NotSelf(address caller)``, raised by MerchantSettlement.
    """

    caller: ChecksumAddress


class NotSettlement(TypedRevert, signature="NotSettlement(address)"):
    """Only the merchant settlement contract may call this.

    ``NotSettlement(address caller)``, raised by DigitalCash.
    """

    caller: ChecksumAddress


class OperatorAlreadyAssigned(TypedRevert, signature="OperatorAlreadyAssigned(address,bytes32)"):
    """The address is already an operator of a bank.

    ``OperatorAlreadyAssigned(address operator, bytes32 bankId)``, raised by Consortium.
    """

    operator: ChecksumAddress
    bankId: bytes


class OrderAlreadyPaid(TypedRevert, signature="OrderAlreadyPaid(bytes32,bytes32)"):
    """The order was paid before (an order is paid at most once).

    ``OrderAlreadyPaid(bytes32 merchantId, bytes32 orderId)``, raised by MerchantSettlement.
    """

    merchantId: bytes
    orderId: bytes


class ProposalCallFailed(TypedRevert, signature="ProposalCallFailed(uint256,bytes)"):
    """The executed proposal's call reverted; `returndata` holds its revert data.

    ``ProposalCallFailed(uint256 proposalId, bytes returndata)``, raised by Consortium.
    """

    proposalId: int
    returndata: bytes


class ProposalNotPending(TypedRevert, signature="ProposalNotPending(uint256,uint8)"):
    """The proposal was already executed or cancelled.

    ``ProposalNotPending(uint256 proposalId, ProposalStatus status)``, raised by Consortium.
    """

    proposalId: int
    status: ProposalStatus


class QuotaExceeded(TypedRevert, signature="QuotaExceeded(bytes32,uint256,int256,uint256)"):
    """The mint would take the bank's net issuance beyond its quota.

    ``QuotaExceeded(bytes32 bankId, uint256 quota, int256 netIssued, uint256 amount)``, raised by Consortium.
    """

    bankId: bytes
    quota: int
    netIssued: int
    amount: int


class RefAlreadyBurned(TypedRevert, signature="RefAlreadyBurned(bytes32,bytes32)"):
    """`bankId` already burned under `ref` (a redemption, or a settlement payout of its merchant).

    ``RefAlreadyBurned(bytes32 bankId, bytes32 ref)``, raised by DigitalCash.
    """

    bankId: bytes
    ref: bytes


class RefAlreadyMinted(TypedRevert, signature="RefAlreadyMinted(bytes32,bytes32)"):
    """`bankId` already minted under `ref`: a mint's off-chain event is minted once.

    ``RefAlreadyMinted(bytes32 bankId, bytes32 ref)``, raised by DigitalCash.
    """

    bankId: bytes
    ref: bytes


class RefAlreadyRefunded(TypedRevert, signature="RefAlreadyRefunded(bytes32,bytes32)"):
    """The acquirer `acquirer` already refunded under `ref`: a refund's ref is used once.

    ``RefAlreadyRefunded(bytes32 acquirer, bytes32 ref)``, raised by MerchantSettlement.
    """

    acquirer: bytes
    ref: bytes


class RefAlreadySettled(TypedRevert, signature="RefAlreadySettled(bytes32,bytes32)"):
    """The acquirer `acquirer` already settled under `ref`: a settlement's ref is used once.

    ``RefAlreadySettled(bytes32 acquirer, bytes32 ref)``, raised by MerchantSettlement.
    """

    acquirer: bytes
    ref: bytes


class RefundExceedsPending(TypedRevert, signature="RefundExceedsPending(bytes32,uint256,uint256)"):
    """Refunds come out of the merchant's pending (unsettled) balance, which is too small.

    ``RefundExceedsPending(bytes32 merchantId, uint256 amount, uint256 pending)``, raised by MerchantSettlement.
    """

    merchantId: bytes
    amount: int
    pending: int


class RefundExceedsRefundable(TypedRevert, signature="RefundExceedsRefundable(bytes32,bytes32,uint256,uint256)"):
    """The refund exceeds what is left of the order (amount - already refunded).

    ``RefundExceedsRefundable(bytes32 merchantId, bytes32 orderId, uint256 amount, uint256 refundable)``, raised by
    MerchantSettlement.
    """

    merchantId: bytes
    orderId: bytes
    amount: int
    refundable: int


class RegulatorFreeze(TypedRevert, signature="RegulatorFreeze(address)"):
    """A regulator's freeze can be lifted only by the regulator.

    ``RegulatorFreeze(address wallet)``, raised by WalletRegistry.
    """

    wallet: ChecksumAddress


class SafeCastOverflowedUintDowncast(TypedRevert, signature="SafeCastOverflowedUintDowncast(uint8,uint256)"):
    """Value doesn't fit in an uint of `bits` size.

    ``SafeCastOverflowedUintDowncast(uint8 bits, uint256 value)``, raised by MerchantSettlement.
    """

    bits: int
    value: int


class SafeERC20FailedOperation(TypedRevert, signature="SafeERC20FailedOperation(address)"):
    """An operation with an ERC-20 token failed.

    ``SafeERC20FailedOperation(address token)``, raised by MerchantSettlement.
    """

    token: ChecksumAddress


class SettlementAlreadySet(TypedRevert, signature="SettlementAlreadySet(address)"):
    """The settlement contract is wired once.

    ``SettlementAlreadySet(address settlement)``, raised by DigitalCash.
    """

    settlement: ChecksumAddress


class SinglePaymentLimitExceeded(TypedRevert, signature="SinglePaymentLimitExceeded(address,uint256,uint256)"):
    """The amount exceeds the wallet's tier single-payment limit.

    ``SinglePaymentLimitExceeded(address wallet, uint256 amount, uint256 limit)``, raised by DigitalCash.
    """

    wallet: ChecksumAddress
    amount: int
    limit: int


class SupplyOverflow(TypedRevert, signature="SupplyOverflow(uint256,uint256)"):
    """The mint would take the total supply past the packed width (2^128-1).

    ``SupplyOverflow(uint256 supplyAfter, uint256 max)``, raised by DigitalCash.
    """

    supplyAfter: int
    max: int


class TokenAlreadySet(TypedRevert, signature="TokenAlreadySet(address)"):
    """The token is wired into the registry once.

    ``TokenAlreadySet(address token)``, raised by WalletRegistry.
    """

    token: ChecksumAddress


class TokenNotSet(TypedRevert, signature="TokenNotSet()"):
    """The registry is not wired to the token yet.

    ``TokenNotSet()``, raised by WalletRegistry.
    """


class UUPSUnauthorizedCallContext(TypedRevert, signature="UUPSUnauthorizedCallContext()"):
    """The call is from an unauthorized context.

    ``UUPSUnauthorizedCallContext()``, raised by Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """


class UUPSUnsupportedProxiableUUID(TypedRevert, signature="UUPSUnsupportedProxiableUUID(bytes32)"):
    """The storage `slot` is unsupported as a UUID.

    ``UUPSUnsupportedProxiableUUID(bytes32 slot)``, raised by Consortium, DigitalCash, MerchantSettlement,
    WalletRegistry.
    """

    slot: bytes


class UnknownBank(TypedRevert, signature="UnknownBank(bytes32)"):
    """No bank with this id.

    ``UnknownBank(bytes32 bankId)``, raised by Consortium.
    """

    bankId: bytes


class UnknownEnode(TypedRevert, signature="UnknownEnode(bytes32,string)"):
    """`enodeId` is not registered to `bankId`.

    ``UnknownEnode(bytes32 bankId, string enodeId)``, raised by Consortium.
    """

    bankId: bytes
    enodeId: str


class UnknownHold(TypedRevert, signature="UnknownHold(bytes32)"):
    """No hold with this id.

    ``UnknownHold(bytes32 holdId)``, raised by DigitalCash.
    """

    holdId: bytes


class UnknownMerchant(TypedRevert, signature="UnknownMerchant(bytes32)"):
    """No merchant with this id.

    ``UnknownMerchant(bytes32 merchantId)``, raised by MerchantSettlement.
    """

    merchantId: bytes


class UnknownOperator(TypedRevert, signature="UnknownOperator(address)"):
    """The address is not an operator of any bank.

    ``UnknownOperator(address operator)``, raised by Consortium.
    """

    operator: ChecksumAddress


class UnknownOrder(TypedRevert, signature="UnknownOrder(bytes32,bytes32)"):
    """The order was never paid.

    ``UnknownOrder(bytes32 merchantId, bytes32 orderId)``, raised by MerchantSettlement.
    """

    merchantId: bytes
    orderId: bytes


class UnknownProposal(TypedRevert, signature="UnknownProposal(uint256)"):
    """No proposal with this id.

    ``UnknownProposal(uint256 proposalId)``, raised by Consortium.
    """

    proposalId: int


class UnorderedNonceUsed(TypedRevert, signature="UnorderedNonceUsed(address,uint256)"):
    """The RelayedTransfer nonce was already used (bitmap nonce).

    ``UnorderedNonceUsed(address owner, uint256 nonce)``, raised by DigitalCash.
    """

    owner: ChecksumAddress
    nonce: int


class WalletAlreadyRegistered(TypedRevert, signature="WalletAlreadyRegistered(address)"):
    """The address is already a registered wallet.

    ``WalletAlreadyRegistered(address wallet)``, raised by WalletRegistry.
    """

    wallet: ChecksumAddress


class WalletIsClosed(TypedRevert, signature="WalletIsClosed(address)"):
    """The wallet is closed; it cannot be changed any more.

    ``WalletIsClosed(address wallet)``, raised by WalletRegistry.
    """

    wallet: ChecksumAddress


class WalletNotActive(TypedRevert, signature="WalletNotActive(address,uint8)"):
    """DigitalCash: The wallet is not Active: unregistered (NONE), FROZEN or CLOSED (`status` holds
    IWalletRegistry.WalletStatus values).

    WalletRegistry: The wallet is not Active: unregistered (NONE), FROZEN or CLOSED.

    ``WalletNotActive(address wallet, WalletStatus status)``, raised by DigitalCash, WalletRegistry.
    """

    wallet: ChecksumAddress
    status: WalletStatus


class WalletNotFrozen(TypedRevert, signature="WalletNotFrozen(address)"):
    """`unfreeze` of a wallet that is not frozen.

    ``WalletNotFrozen(address wallet)``, raised by WalletRegistry.
    """

    wallet: ChecksumAddress


class WalletNotRegistered(TypedRevert, signature="WalletNotRegistered(address)"):
    """The address is not a registered wallet.

    ``WalletNotRegistered(address wallet)``, raised by WalletRegistry.
    """

    wallet: ChecksumAddress


class ZeroAddress(TypedRevert, signature="ZeroAddress()"):
    """Consortium: An address argument is the zero address.

    DigitalCash: A required address is zero.

    MerchantSettlement: An address given at initialization is zero.

    WalletRegistry: An address argument is the zero address.

    ``ZeroAddress()``, raised by Consortium, DigitalCash, MerchantSettlement, WalletRegistry.
    """


class ZeroAmount(TypedRevert, signature="ZeroAmount()"):
    """The amount is zero.

    ``ZeroAmount()``, raised by DigitalCash, MerchantSettlement.
    """


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
