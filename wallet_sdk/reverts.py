"""The contracts' custom errors, one exception class per Solidity error: generated, do not edit.

``walletnet compile`` writes this module from the ABI artifacts (tools/revert_classes.py); ``--check`` fails when
it is stale. How the classes work: :class:`wallet_sdk.exceptions.TypedRevert`; :func:`wallet_sdk.decode_revert`
turns revert data into them.
"""

from __future__ import annotations

from typing import Final

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


class AddressEmptyCode(TypedRevert, error="AddressEmptyCode(address target)"):
    """There's no code at `target` (it is not a contract). Raised by Consortium, DigitalCash, ERC1967Proxy, MerchantSettlement, WalletRegistry."""


class AlreadyApproved(TypedRevert, error="AlreadyApproved(uint256 proposalId, bytes32 bankId)"):
    """This bank already approved the proposal (one approval per bank). Raised by Consortium."""


class AmountTooLarge(TypedRevert, error="AmountTooLarge(uint256 amount, uint256 max)"):
    """A mint larger than a balance can hold (2^104-1 minor units). Raised by DigitalCash."""


class AuthorizationAlreadyUsed(TypedRevert, error="AuthorizationAlreadyUsed(address authorizer, bytes32 nonce)"):
    """The authorization's nonce (EIP-3009 nonce, hold id or redemption nonce) was already used or canceled. Raised by DigitalCash."""


class AuthorizationExpired(TypedRevert, error="AuthorizationExpired(uint256 validBefore)"):
    """The block time is at or past the authorization's `validBefore`. Raised by DigitalCash."""


class AuthorizationNotYetValid(TypedRevert, error="AuthorizationNotYetValid(uint256 validAfter)"):
    """The block time is at or before the authorization's `validAfter`. Raised by DigitalCash."""


class BalanceCapExceeded(TypedRevert, error="BalanceCapExceeded(address wallet, uint256 balanceAfter, uint256 cap)"):
    """The wallet's balance would exceed its tier's balance cap. Raised by DigitalCash."""


class BalanceOverflow(TypedRevert, error="BalanceOverflow(address wallet, uint256 balanceAfter, uint256 max)"):
    """The credit would take `wallet`'s balance past the packed width (2^104-1). Raised by DigitalCash."""


class BankAlreadyExists(TypedRevert, error="BankAlreadyExists(bytes32 bankId)"):
    """A bank with this id is already a member. Raised by Consortium."""


class BankIsRemoved(TypedRevert, error="BankIsRemoved(bytes32 bankId)"):
    """The bank has been removed; a removed bank is never changed again. Raised by Consortium."""


class BankNotActive(TypedRevert, error="BankNotActive(bytes32 bankId, BankStatus status)"):
    """The bank is not Active (unknown, suspended or removed). Raised by Consortium."""


class BankNotSuspended(TypedRevert, error="BankNotSuspended(bytes32 bankId, BankStatus status)"):
    """Only a suspended bank can be reactivated. Raised by Consortium."""


class BatchOutOfGas(TypedRevert, error="BatchOutOfGas(uint256 index)"):
    """payBatch ran out of gas at item `index` (the whole batch reverts; send it with more gas). Raised by MerchantSettlement."""


class CallerMustBePayee(TypedRevert, error="CallerMustBePayee(address caller, address payee)"):
    """`receiveWithAuthorization` must be called by the payee (`to`). Raised by DigitalCash."""


class DailyOutflowLimitExceeded(TypedRevert, error="DailyOutflowLimitExceeded(address wallet, uint256 spentToday, uint256 amount, uint256 limit)"):
    """The wallet's outflow today plus this amount exceeds its tier's daily limit. Raised by DigitalCash."""


class DirectTransferToSettlement(TypedRevert, error="DirectTransferToSettlement(address from)"):
    """Money reaches the MerchantSettlement contract only as an order payment (its own receiveWithAuthorization call); a direct transfer would credit no merchant and be stranded. Raised by DigitalCash."""


class ERC1967InvalidImplementation(TypedRevert, error="ERC1967InvalidImplementation(address implementation)"):
    """The `implementation` of the proxy is invalid. Raised by Consortium, DigitalCash, ERC1967Proxy, MerchantSettlement, WalletRegistry."""


class ERC1967NonPayable(TypedRevert, error="ERC1967NonPayable()"):
    """An upgrade function sees `msg.value > 0` that may be lost. Raised by Consortium, DigitalCash, ERC1967Proxy, MerchantSettlement, WalletRegistry."""


class ERC20InsufficientAllowance(TypedRevert, error="ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)"):
    """Indicates a failure with the `spender`'s `allowance`. Used in transfers. Raised by DigitalCash."""


class ERC20InsufficientBalance(TypedRevert, error="ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)"):
    """Indicates an error related to the current `balance` of a `sender`. Used in transfers. Raised by DigitalCash."""


class ERC20InvalidApprover(TypedRevert, error="ERC20InvalidApprover(address approver)"):
    """Indicates a failure with the `approver` of a token to be approved. Used in approvals. Raised by DigitalCash."""


class ERC20InvalidReceiver(TypedRevert, error="ERC20InvalidReceiver(address receiver)"):
    """Indicates a failure with the token `receiver`. Used in transfers. Raised by DigitalCash."""


class ERC20InvalidSender(TypedRevert, error="ERC20InvalidSender(address sender)"):
    """Indicates a failure with the token `sender`. Used in transfers. Raised by DigitalCash."""


class ERC20InvalidSpender(TypedRevert, error="ERC20InvalidSpender(address spender)"):
    """Indicates a failure with the `spender` to be approved. Used in approvals. Raised by DigitalCash."""


class ERC2612ExpiredSignature(TypedRevert, error="ERC2612ExpiredSignature(uint256 deadline)"):
    """EIP-2612 permit past its deadline (OpenZeppelin ERC20Permit's name). Raised by DigitalCash."""


class ERC2612InvalidSigner(TypedRevert, error="ERC2612InvalidSigner(address signer, address owner)"):
    """EIP-2612 permit not signed by `owner` (OpenZeppelin ERC20Permit's name). Raised by DigitalCash."""


class EnforcedPause(TypedRevert, error="EnforcedPause()"):
    """The token is paused (OpenZeppelin Pausable's name). Raised by DigitalCash."""


class EnodeAlreadyRegistered(TypedRevert, error="EnodeAlreadyRegistered(string enodeId, bytes32 bankId)"):
    """The node id of `enodeId` is already registered to `bankId`. Raised by Consortium."""


class ExpectedPause(TypedRevert, error="ExpectedPause()"):
    """`unpause` while not paused (OpenZeppelin Pausable's name). Raised by DigitalCash."""


class FailedCall(TypedRevert, error="FailedCall()"):
    """A call to an address target failed. The target may have reverted. Raised by Consortium, DigitalCash, ERC1967Proxy, MerchantSettlement, WalletRegistry."""


class FeeWalletNotSet(TypedRevert, error="FeeWalletNotSet(bytes32 bankId)"):
    """Settlement with a fee needs the acquiring bank's fee wallet; set it with setFeeWallet. Raised by MerchantSettlement."""


class HoldAlreadyExists(TypedRevert, error="HoldAlreadyExists(bytes32 holdId)"):
    """Another hold already uses `holdId` (hold ids are unique network-wide). Raised by DigitalCash."""


class HoldNotActive(TypedRevert, error="HoldNotActive(bytes32 holdId, HoldStatus status)"):
    """The hold was already captured or released. Raised by DigitalCash."""


class HoldNotExpired(TypedRevert, error="HoldNotExpired(bytes32 holdId, uint256 expiresAt)"):
    """The holder may release a hold only after it expires. Raised by DigitalCash."""


class HoldsOutstanding(TypedRevert, error="HoldsOutstanding(address wallet, uint256 held)"):
    """The wallet still has money on hold (a wallet cannot close with open holds). Raised by DigitalCash."""


class InvalidAccountNonce(TypedRevert, error="InvalidAccountNonce(address account, uint256 currentNonce)"):
    """The nonce used for an `account` is not the expected current nonce. Raised by DigitalCash."""


class InvalidBankId(TypedRevert, error="InvalidBankId(bytes32 bankId)"):
    """`bankId` is zero, which is reserved for "no bank" (system wallets). Raised by Consortium."""


class InvalidEnode(TypedRevert, error="InvalidEnode(string enodeId)"):
    """`enodeId` is neither 128 hex characters nor `enode://<128 hex>[@...]`. Raised by Consortium."""


class InvalidFee(TypedRevert, error="InvalidFee(uint16 feeBps)"):
    """A merchant fee above 10,000 basis points. Raised by MerchantSettlement."""


class InvalidFeeWallet(TypedRevert, error="InvalidFeeWallet(address wallet, bytes32 bankId)"):
    """The fee wallet is not a registered active wallet of the caller's bank. Raised by MerchantSettlement."""


class InvalidInitialization(TypedRevert, error="InvalidInitialization()"):
    """The contract is already initialized. Raised by Consortium, DigitalCash, MerchantSettlement, WalletRegistry."""


class InvalidLimitClass(TypedRevert, error="InvalidLimitClass(uint8 limitClass)"):
    """Limit classes are 1-4 (personal tiers), 5 (merchant) and 6 (system). Raised by DigitalCash, WalletRegistry."""


class InvalidMerchantStatus(TypedRevert, error="InvalidMerchantStatus(MerchantStatus status)"):
    """A merchant status must be Active or Suspended. Raised by MerchantSettlement."""


class InvalidMerchantWallet(TypedRevert, error="InvalidMerchantWallet(address wallet)"):
    """A merchant wallet must be a registered, active wallet of kind Merchant. Raised by MerchantSettlement."""


class InvalidPaymentRequest(TypedRevert, error="InvalidPaymentRequest(bytes32 acquirer, bytes32 merchantId, bytes32 orderId, address signer)"):
    """The payment's request is not signed by the acquirer's request signer nor by an active operator of the acquirer (a request it never issued, or other terms than it signed: amount, order, merchant, expiry). `signer` is the recovered address (zero for a malformed signature). Raised by MerchantSettlement."""


class InvalidSignature(TypedRevert, error="InvalidSignature(address expectedSigner)"):
    """The signature does not recover to `expectedSigner`. Raised by DigitalCash."""


class InvalidThreshold(TypedRevert, error="InvalidThreshold(uint256 threshold, uint256 activeBanks)"):
    """The approval threshold must be from 1 to the number of active banks. Raised by Consortium."""


class InvalidTier(TypedRevert, error="InvalidTier(address wallet, uint8 tier)"):
    """Personal tiers are 1-4 (merchant and system wallets use tier 1). Raised by WalletRegistry."""


class InvalidWalletStatus(TypedRevert, error="InvalidWalletStatus(uint8 status)"):
    """`setWalletState` with a status outside IWalletRegistry.WalletStatus (0..3). Raised by DigitalCash."""


class IssuerAlreadySet(TypedRevert, error="IssuerAlreadySet(address issuer)"):
    """The issuer (the token) is wired once. Raised by Consortium."""


class MerchantAlreadyRegistered(TypedRevert, error="MerchantAlreadyRegistered(bytes32 merchantId)"):
    """A merchant with this id is already registered. Raised by MerchantSettlement."""


class MerchantNotActive(TypedRevert, error="MerchantNotActive(bytes32 merchantId)"):
    """The merchant is suspended: it cannot be paid (it can still be refunded and settled). Raised by MerchantSettlement."""


class NotBankOperator(TypedRevert, error="NotBankOperator(address caller)"):
    """The caller is not an operator of an active member bank. Raised by Consortium, DigitalCash, MerchantSettlement."""


class NotConsortium(TypedRevert, error="NotConsortium(address caller)"):
    """Only the Consortium (an executed governance proposal) may upgrade. Raised by WalletRegistry."""


class NotCustodian(TypedRevert, error="NotCustodian(address caller, address wallet, bytes32 bankId)"):
    """Only operators of the wallet's custodian bank may change it. Raised by WalletRegistry."""


class NotCustodianOperator(TypedRevert, error="NotCustodianOperator(address caller, address wallet)"):
    """Only active operators of the wallet's custodian bank may do this. Raised by DigitalCash."""


class NotCustodianOrRegulator(TypedRevert, error="NotCustodianOrRegulator(address caller, address wallet)"):
    """Only the custodian bank's operators or the regulator may freeze or unfreeze the wallet. Raised by WalletRegistry."""


class NotEnoughApprovals(TypedRevert, error="NotEnoughApprovals(uint256 proposalId, uint256 approvals, uint256 threshold)"):
    """The proposal has fewer approvals than the threshold. Raised by Consortium."""


class NotGovernance(TypedRevert, error="NotGovernance(address caller)"):
    """Consortium: Only an executed governance proposal may call this (upgrades, membership changes). DigitalCash: Only the Consortium (an executed governance proposal) may upgrade the token. MerchantSettlement: Only the Consortium (an executed proposal) may upgrade. Raised by Consortium, DigitalCash, MerchantSettlement."""


class NotInitializing(TypedRevert, error="NotInitializing()"):
    """The contract is not initializing. Raised by Consortium, DigitalCash, MerchantSettlement, WalletRegistry."""


class NotIssuer(TypedRevert, error="NotIssuer(address caller)"):
    """Only the token may record issuance. Raised by Consortium."""


class NotNetworkOperator(TypedRevert, error="NotNetworkOperator(address caller)"):
    """Only the network operator may call this. Raised by Consortium, DigitalCash, WalletRegistry."""


class NotOperatorOfBank(TypedRevert, error="NotOperatorOfBank(address operator, bytes32 bankId)"):
    """`operator` is not an operator of `bankId`. Raised by Consortium."""


class NotPersonalWallet(TypedRevert, error="NotPersonalWallet(address wallet, WalletKind kind)"):
    """Tiers only apply to personal wallets. Raised by WalletRegistry."""


class NotRegistry(TypedRevert, error="NotRegistry(address caller)"):
    """Only the wallet registry may call this. Raised by DigitalCash."""


class NotSelf(TypedRevert, error="NotSelf(address caller)"):
    """`payBatchItem` is an internal entry point of `payBatch`. Raised by MerchantSettlement."""


class NotSettlement(TypedRevert, error="NotSettlement(address caller)"):
    """Only the merchant settlement contract may call this. Raised by DigitalCash."""


class OperatorAlreadyAssigned(TypedRevert, error="OperatorAlreadyAssigned(address operator, bytes32 bankId)"):
    """The address is already an operator of a bank. Raised by Consortium."""


class OrderAlreadyPaid(TypedRevert, error="OrderAlreadyPaid(bytes32 merchantId, bytes32 orderId)"):
    """The order was paid before (an order is paid at most once). Raised by MerchantSettlement."""


class ProposalCallFailed(TypedRevert, error="ProposalCallFailed(uint256 proposalId, bytes returndata)"):
    """The executed proposal's call reverted; `returndata` holds its revert data. Raised by Consortium."""


class ProposalNotPending(TypedRevert, error="ProposalNotPending(uint256 proposalId, ProposalStatus status)"):
    """The proposal was already executed or cancelled. Raised by Consortium."""


class QuotaExceeded(TypedRevert, error="QuotaExceeded(bytes32 bankId, uint256 quota, int256 netIssued, uint256 amount)"):
    """The mint would take the bank's net issuance beyond its quota. Raised by Consortium."""


class RefAlreadyBurned(TypedRevert, error="RefAlreadyBurned(bytes32 bankId, bytes32 ref)"):
    """`bankId` already burned under `ref` (a redemption, or a settlement payout of its merchant). Raised by DigitalCash."""


class RefAlreadyMinted(TypedRevert, error="RefAlreadyMinted(bytes32 bankId, bytes32 ref)"):
    """`bankId` already minted under `ref`: a mint's off-chain event is minted once. Raised by DigitalCash."""


class RefAlreadyRefunded(TypedRevert, error="RefAlreadyRefunded(bytes32 acquirer, bytes32 ref)"):
    """The acquirer `acquirer` already refunded under `ref`: a refund's ref is used once. Raised by MerchantSettlement."""


class RefAlreadySettled(TypedRevert, error="RefAlreadySettled(bytes32 acquirer, bytes32 ref)"):
    """The acquirer `acquirer` already settled under `ref`: a settlement's ref is used once. Raised by MerchantSettlement."""


class RefundExceedsPending(TypedRevert, error="RefundExceedsPending(bytes32 merchantId, uint256 amount, uint256 pending)"):
    """Refunds come out of the merchant's pending (unsettled) balance, which is too small. Raised by MerchantSettlement."""


class RefundExceedsRefundable(TypedRevert, error="RefundExceedsRefundable(bytes32 merchantId, bytes32 orderId, uint256 amount, uint256 refundable)"):
    """The refund exceeds what is left of the order (amount - already refunded). Raised by MerchantSettlement."""


class RegulatorFreeze(TypedRevert, error="RegulatorFreeze(address wallet)"):
    """A regulator's freeze can be lifted only by the regulator. Raised by WalletRegistry."""


class SafeCastOverflowedUintDowncast(TypedRevert, error="SafeCastOverflowedUintDowncast(uint8 bits, uint256 value)"):
    """Value doesn't fit in an uint of `bits` size. Raised by MerchantSettlement."""


class SafeERC20FailedOperation(TypedRevert, error="SafeERC20FailedOperation(address token)"):
    """An operation with an ERC-20 token failed. Raised by MerchantSettlement."""


class SettlementAlreadySet(TypedRevert, error="SettlementAlreadySet(address settlement)"):
    """The settlement contract is wired once. Raised by DigitalCash."""


class SinglePaymentLimitExceeded(TypedRevert, error="SinglePaymentLimitExceeded(address wallet, uint256 amount, uint256 limit)"):
    """The amount exceeds the wallet's tier single-payment limit. Raised by DigitalCash."""


class SupplyOverflow(TypedRevert, error="SupplyOverflow(uint256 supplyAfter, uint256 max)"):
    """The mint would take the total supply past the packed width (2^128-1). Raised by DigitalCash."""


class TokenAlreadySet(TypedRevert, error="TokenAlreadySet(address token)"):
    """The token is wired into the registry once. Raised by WalletRegistry."""


class TokenNotSet(TypedRevert, error="TokenNotSet()"):
    """The registry is not wired to the token yet. Raised by WalletRegistry."""


class UUPSUnauthorizedCallContext(TypedRevert, error="UUPSUnauthorizedCallContext()"):
    """The call is from an unauthorized context. Raised by Consortium, DigitalCash, MerchantSettlement, WalletRegistry."""


class UUPSUnsupportedProxiableUUID(TypedRevert, error="UUPSUnsupportedProxiableUUID(bytes32 slot)"):
    """The storage `slot` is unsupported as a UUID. Raised by Consortium, DigitalCash, MerchantSettlement, WalletRegistry."""


class UnknownBank(TypedRevert, error="UnknownBank(bytes32 bankId)"):
    """No bank with this id. Raised by Consortium."""


class UnknownEnode(TypedRevert, error="UnknownEnode(bytes32 bankId, string enodeId)"):
    """`enodeId` is not registered to `bankId`. Raised by Consortium."""


class UnknownHold(TypedRevert, error="UnknownHold(bytes32 holdId)"):
    """No hold with this id. Raised by DigitalCash."""


class UnknownMerchant(TypedRevert, error="UnknownMerchant(bytes32 merchantId)"):
    """No merchant with this id. Raised by MerchantSettlement."""


class UnknownOperator(TypedRevert, error="UnknownOperator(address operator)"):
    """The address is not an operator of any bank. Raised by Consortium."""


class UnknownOrder(TypedRevert, error="UnknownOrder(bytes32 merchantId, bytes32 orderId)"):
    """The order was never paid. Raised by MerchantSettlement."""


class UnknownProposal(TypedRevert, error="UnknownProposal(uint256 proposalId)"):
    """No proposal with this id. Raised by Consortium."""


class UnorderedNonceUsed(TypedRevert, error="UnorderedNonceUsed(address owner, uint256 nonce)"):
    """The RelayedTransfer nonce was already used (bitmap nonce). Raised by DigitalCash."""


class WalletAlreadyRegistered(TypedRevert, error="WalletAlreadyRegistered(address wallet)"):
    """The address is already a registered wallet. Raised by WalletRegistry."""


class WalletIsClosed(TypedRevert, error="WalletIsClosed(address wallet)"):
    """The wallet is closed; it cannot be changed any more. Raised by WalletRegistry."""


class WalletNotActive(TypedRevert, error="WalletNotActive(address wallet, WalletStatus status)"):
    """DigitalCash: The wallet is not Active: unregistered (NONE), FROZEN or CLOSED (`status` holds IWalletRegistry.WalletStatus values). WalletRegistry: The wallet is not Active: unregistered (NONE), FROZEN or CLOSED. Raised by DigitalCash, WalletRegistry."""


class WalletNotFrozen(TypedRevert, error="WalletNotFrozen(address wallet)"):
    """`unfreeze` of a wallet that is not frozen. Raised by WalletRegistry."""


class WalletNotRegistered(TypedRevert, error="WalletNotRegistered(address wallet)"):
    """The address is not a registered wallet. Raised by WalletRegistry."""


class ZeroAddress(TypedRevert, error="ZeroAddress()"):
    """Consortium: An address argument is the zero address. DigitalCash: A required address is zero. MerchantSettlement: An address given at initialization is zero. WalletRegistry: An address argument is the zero address. Raised by Consortium, DigitalCash, MerchantSettlement, WalletRegistry."""


class ZeroAmount(TypedRevert, error="ZeroAmount()"):
    """The amount is zero. Raised by DigitalCash, MerchantSettlement."""


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
