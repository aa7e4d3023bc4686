// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IMerchantSettlement
/// @notice Merchants registered by their acquiring bank; order payments held as the merchant's
///         pending balance until `settle` pays net to the merchant and the fee to the acquirer.
/// @dev The contract is an active system wallet in the registry. A payment is the payer's EIP-3009
///      ReceiveWithAuthorization with to = this contract and
///      nonce = keccak256(abi.encode(merchantId, orderId)), so a relayer cannot redirect it, split it
///      or change the amount, and an order id is paid at most once.
interface IMerchantSettlement {
    enum PayoutMode {
        Wallet, // net paid to the merchant's wallet
        BankAccount // net burned; the acquirer pays the merchant's bank account off chain
    }

    enum MerchantStatus {
        None,
        Active,
        Suspended
    }

    struct Merchant {
        bytes32 acquirer; // acquiring bank id
        address wallet;
        uint16 feeBps;
        uint16 mcc;
        PayoutMode payoutMode;
        MerchantStatus status;
        bytes32 settlementAccountHash;
        uint256 pendingGross; // paid since the last settlement
        uint256 pendingRefunds; // refunded since the last settlement
        uint64 lastBatchId;
    }

    struct Order {
        address payer;
        uint256 amount;
        uint256 refunded;
        uint64 paidAt;
    }

    struct Payment {
        bytes32 merchantId;
        bytes32 orderId;
        address payer;
        uint256 amount;
        uint256 validAfter;
        uint256 validBefore;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    error NotAcquirer(address caller, bytes32 merchantId);
    error NotBankOperator(address caller);
    error MerchantAlreadyRegistered(bytes32 merchantId);
    error UnknownMerchant(bytes32 merchantId);
    error MerchantNotActive(bytes32 merchantId);
    error InvalidFee(uint16 feeBps);
    error InvalidMerchantWallet(address wallet);
    error OrderAlreadyPaid(bytes32 merchantId, bytes32 orderId);
    error UnknownOrder(bytes32 merchantId, bytes32 orderId);
    error RefundExceedsRefundable(bytes32 merchantId, bytes32 orderId, uint256 amount, uint256 refundable);
    error RefundExceedsPending(bytes32 merchantId, uint256 amount, uint256 pending);
    error ZeroAmount();
    error FeeWalletNotSet(bytes32 bankId);

    event MerchantRegistered(bytes32 indexed merchantId, bytes32 indexed acquirer, address indexed wallet, uint16 feeBps, uint16 mcc, PayoutMode payoutMode, bytes32 settlementAccountHash);
    event MerchantUpdated(bytes32 indexed merchantId, address indexed wallet, uint16 feeBps, uint16 mcc, PayoutMode payoutMode, bytes32 settlementAccountHash);
    event MerchantStatusChanged(bytes32 indexed merchantId, MerchantStatus status);
    event FeeWalletSet(bytes32 indexed bankId, address indexed wallet);
    event OrderPaid(bytes32 indexed merchantId, bytes32 indexed orderId, address indexed payer, uint256 amount);
    event OrderRefunded(bytes32 indexed merchantId, bytes32 indexed orderId, address indexed payer, uint256 amount, uint256 refundedTotal, bytes32 ref);
    event PaymentFailed(uint256 indexed index, bytes32 indexed merchantId, bytes32 indexed orderId, bytes reason);
    /// @notice A settlement batch: net = gross - refunds - fee, to the cent.
    event MerchantSettled(
        bytes32 indexed merchantId, uint64 indexed batchId, bytes32 indexed acquirer,
        uint256 gross, uint256 refunds, uint256 fee, uint256 net, PayoutMode payoutMode, bytes32 ref
    );

    function registerMerchant(bytes32 merchantId, address wallet, uint16 feeBps, uint16 mcc, bytes32 settlementAccountHash, PayoutMode payoutMode) external;
    function updateMerchant(bytes32 merchantId, address wallet, uint16 feeBps, uint16 mcc, bytes32 settlementAccountHash, PayoutMode payoutMode) external;
    function setMerchantStatus(bytes32 merchantId, MerchantStatus status) external;
    /// @notice The wallet that receives the caller's bank's acquiring fees (caller: bank operator).
    function setFeeWallet(address wallet) external;
    function feeWallet(bytes32 bankId) external view returns (address);

    /// @notice Pay an order with the payer's signed ReceiveWithAuthorization (any caller may relay).
    function pay(Payment calldata payment) external;
    /// @notice Many payments in one transaction; a failing one is reported in PaymentFailed.
    function payBatch(Payment[] calldata payments) external returns (uint256 succeeded);
    /// @notice Refund part or all of an order to its payer (caller: acquirer operator).
    function refund(bytes32 merchantId, bytes32 orderId, uint256 amount, bytes32 ref) external;
    /// @notice Settle everything pending for a merchant (caller: acquirer operator).
    function settle(bytes32 merchantId, bytes32 ref) external returns (uint64 batchId);

    function merchant(bytes32 merchantId) external view returns (Merchant memory);
    function order(bytes32 merchantId, bytes32 orderId) external view returns (Order memory);
    /// @notice The EIP-3009 nonce a payer signs for an order.
    function paymentNonce(bytes32 merchantId, bytes32 orderId) external pure returns (bytes32);
    function totalPending() external view returns (uint256);
}
