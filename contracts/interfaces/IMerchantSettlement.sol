// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IMerchantSettlement
/// @notice Merchants registered by their acquiring bank; order payments held as the merchant's
///         pending balance until `settle` pays net to the merchant and the fee to the acquirer.
/// @dev The contract is an active system wallet in the registry. Merchant ids are per acquirer: a merchant
///      is (acquirer, merchantId), so one bank can neither take nor block another's ids. A payment is the
///      payer's EIP-3009 ReceiveWithAuthorization with to = this contract and
///      nonce = keccak256(abi.encode(acquirer, merchantId, orderId)), so a relayer cannot redirect it, split it
///      or change the amount, and an order id is paid at most once; and it carries the acquirer's EIP-712
///      signature of the PaymentRequest (acquirer, merchantId, orderId, amount, expiresAt = validBefore), so
///      nobody pays an order the acquirer did not request, or pays it less (or more) than it asked.
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
        bytes32 acquirer; // the merchant's acquiring bank: merchant ids are per acquirer
        bytes32 merchantId;
        bytes32 orderId;
        address payer;
        uint256 amount;
        uint256 validAfter;
        uint256 validBefore; // the payer's deadline, and the request's expiresAt
        uint8 v; // the payer's ReceiveWithAuthorization signature
        bytes32 r;
        bytes32 s;
        uint8 requestV; // the acquirer's PaymentRequest signature (its request signer or an active operator)
        bytes32 requestR;
        bytes32 requestS;
    }

    /// @notice The caller is not an operator of an active member bank.
    error NotBankOperator(address caller);
    /// @notice A merchant with this id is already registered.
    error MerchantAlreadyRegistered(bytes32 merchantId);
    /// @notice No merchant with this id.
    error UnknownMerchant(bytes32 merchantId);
    /// @notice The merchant is suspended: it cannot be paid (it can still be refunded and settled).
    error MerchantNotActive(bytes32 merchantId);
    /// @notice A merchant fee above 10,000 basis points.
    error InvalidFee(uint16 feeBps);
    /// @notice A merchant wallet must be a registered, active wallet of kind Merchant.
    error InvalidMerchantWallet(address wallet);
    /// @notice The order was paid before (an order is paid at most once).
    error OrderAlreadyPaid(bytes32 merchantId, bytes32 orderId);
    /// @notice The order was never paid.
    error UnknownOrder(bytes32 merchantId, bytes32 orderId);
    /// @notice The refund exceeds what is left of the order (amount - already refunded).
    error RefundExceedsRefundable(bytes32 merchantId, bytes32 orderId, uint256 amount, uint256 refundable);
    /// @notice Refunds come out of the merchant's pending (unsettled) balance, which is too small.
    error RefundExceedsPending(bytes32 merchantId, uint256 amount, uint256 pending);
    /// @notice The amount is zero.
    error ZeroAmount();
    /// @notice Settlement with a fee needs the acquiring bank's fee wallet; set it with setFeeWallet.
    error FeeWalletNotSet(bytes32 bankId);
    /// @notice The payment's request is not signed by the acquirer's request signer nor by an active
    ///         operator of the acquirer (a request it never issued, or other terms than it signed: amount,
    ///         order, merchant, expiry). `signer` is the recovered address (zero for a malformed signature).
    error InvalidPaymentRequest(bytes32 acquirer, bytes32 merchantId, bytes32 orderId, address signer);

    event MerchantRegistered(bytes32 indexed merchantId, bytes32 indexed acquirer, address indexed wallet, uint16 feeBps, uint16 mcc, PayoutMode payoutMode, bytes32 settlementAccountHash);
    event MerchantUpdated(bytes32 indexed merchantId, bytes32 indexed acquirer, address indexed wallet, uint16 feeBps, uint16 mcc, PayoutMode payoutMode, bytes32 settlementAccountHash);
    event MerchantStatusChanged(bytes32 indexed merchantId, bytes32 indexed acquirer, MerchantStatus status);
    event FeeWalletSet(bytes32 indexed bankId, address indexed wallet);
    /// @notice The key that signs `bankId`'s payment requests (zero: only its active operators sign them).
    event RequestSignerSet(bytes32 indexed bankId, address indexed signer);
    event OrderPaid(bytes32 indexed merchantId, bytes32 indexed orderId, bytes32 indexed acquirer, address payer, uint256 amount);
    event OrderRefunded(bytes32 indexed merchantId, bytes32 indexed orderId, bytes32 indexed acquirer, address payer, uint256 amount, uint256 refundedTotal, bytes32 ref);
    event PaymentFailed(uint256 indexed index, bytes32 indexed merchantId, bytes32 indexed orderId, bytes32 acquirer, bytes reason);
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
    /// @notice The key that signs the caller's bank's payment requests (caller: bank operator; zero removes it).
    function setRequestSigner(address signer) external;
    function requestSigner(bytes32 bankId) external view returns (address);

    /// @notice Pay an order with the payer's signed ReceiveWithAuthorization (any caller may relay).
    function pay(Payment calldata payment) external;
    /// @notice Many payments in one transaction; a failing one is reported in PaymentFailed.
    function payBatch(Payment[] calldata payments) external returns (uint256 succeeded);
    /// @notice Refund part or all of an order of the caller's bank's merchant to its payer (caller: its operator).
    function refund(bytes32 merchantId, bytes32 orderId, uint256 amount, bytes32 ref) external;
    /// @notice Settle everything pending for the caller's bank's merchant (caller: its operator).
    function settle(bytes32 merchantId, bytes32 ref) external returns (uint64 batchId);

    function merchant(bytes32 acquirer, bytes32 merchantId) external view returns (Merchant memory);
    function order(bytes32 acquirer, bytes32 merchantId, bytes32 orderId) external view returns (Order memory);
    /// @notice The EIP-3009 nonce a payer signs for an order.
    function paymentNonce(bytes32 acquirer, bytes32 merchantId, bytes32 orderId) external pure returns (bytes32);
    /// @notice The EIP-712 digest the acquirer signs for a payment request (in this contract's domain).
    function paymentRequestDigest(bytes32 acquirer, bytes32 merchantId, bytes32 orderId, uint256 amount, uint256 expiresAt)
        external view returns (bytes32);
    function totalPending() external view returns (uint256);
}
