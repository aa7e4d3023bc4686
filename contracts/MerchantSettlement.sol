// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";

import {ConsortiumBound} from "./ConsortiumBound.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {IWalletRegistry} from "./interfaces/IWalletRegistry.sol";
import {IDigitalCash} from "./interfaces/IDigitalCash.sol";
import {IMerchantSettlement} from "./interfaces/IMerchantSettlement.sol";

/// @title MerchantSettlement
/// @notice Merchants registered by their acquiring bank, their ids namespaced per acquirer. A payment is
///         the payer's EIP-3009 ReceiveWithAuthorization to this contract, bound to (acquirer, merchant,
///         order) through its nonce and to the amount by its value, together with the acquirer's EIP-712
///         signature of the PaymentRequest it issued for that order and amount; the money waits here as the
///         merchant's pending balance until the acquirer settles: net = gross - refunds - fee to the
///         merchant (wallet, or burned for payout to its bank account), fee to the acquirer's fee wallet.
/// @dev Invariant: totalPending() == sum over merchants of (pendingGross - pendingRefunds), and equals
///      this contract's token balance as long as nobody transfers tokens here outside `pay`.
///      Rules chosen here (see docs/contracts.md):
///      - The fee is computed at settlement on the gross since the last settlement with the merchant's
///        current feeBps: fee = floor(gross * feeBps / 10_000), capped at gross - refunds so net is
///        never negative.
///      - A refund is paid out of the merchant's pending balance only; an order whose money was already
///        settled must be refunded by other means (e.g. a transfer from the merchant's wallet).
///      - Settling with nothing pending is allowed and emits a zero batch (friendly to scheduled
///        daily settlement).
///      - A bank's fee wallet must be a registered, active wallet whose custodian is that bank.
///      - Merchant ids are per acquirer: the `merchants` and `orders` mappings are keyed by
///        keccak256(abi.encode(acquirerBankId, merchantId)). Calls of an acquirer's operator (update,
///        status, refund, settle) name the merchant by its id and the caller's bank; `pay` names the
///        acquirer.
///      - Only requested amounts are paid: a payment carries the acquirer's signature of
///        PaymentRequest(acquirer, merchantId, orderId, amount, expiresAt) in this contract's EIP-712 domain
///        (name "MerchantSettlement", version "1"), with expiresAt = the payer's validBefore, by the key the
///        acquirer registered with setRequestSigner or by an active operator of the acquirer. The request
///        signer can sign requests and nothing else: it is no operator and sends no transaction.
///      The contract is a UUPS proxy implementation; only the Consortium (an executed governance
///      proposal) may upgrade it. Storage lives in an ERC-7201 namespace.
contract MerchantSettlement is ConsortiumBound, IMerchantSettlement, IERC5267 {
    using SafeERC20 for IERC20;

    /// @notice Basis points in one whole.
    uint256 public constant BPS_DENOMINATOR = 10_000;
    /// @notice The EIP-712 type the acquirer signs for each order it asks to be paid.
    bytes32 public constant PAYMENT_REQUEST_TYPEHASH = keccak256(
        "PaymentRequest(bytes32 acquirer,bytes32 merchantId,bytes32 orderId,uint256 amount,uint256 expiresAt)"
    );
    bytes32 private constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    string private constant EIP712_NAME = "MerchantSettlement";
    string private constant EIP712_VERSION = "1";
    bytes32 private constant EIP712_NAME_HASH = keccak256("MerchantSettlement");
    bytes32 private constant EIP712_VERSION_HASH = keccak256("1");
    /// @dev secp256k1n / 2: a larger s is the malleable twin of a valid signature (EIP-2).
    uint256 private constant MAX_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    // --- errors added to IMerchantSettlement ---
    /// @notice An address given at initialization is zero.
    error ZeroAddress();
    /// @notice Only the Consortium (an executed proposal) may upgrade.
    error NotGovernance(address caller);
    /// @notice `payBatchItem` is an internal entry point of `payBatch`.
    error NotSelf(address caller);
    /// @notice payBatch ran out of gas at item `index` (the whole batch reverts; send it with more gas).
    error BatchOutOfGas(uint256 index);
    /// @notice The fee wallet is not a registered active wallet of the caller's bank.
    error InvalidFeeWallet(address wallet, bytes32 bankId);
    /// @notice A merchant status must be Active or Suspended.
    error InvalidMerchantStatus(MerchantStatus status);
    /// @notice The acquirer `acquirer` already settled under `ref`: a settlement's ref is used once.
    error RefAlreadySettled(bytes32 acquirer, bytes32 ref);
    /// @notice The acquirer `acquirer` already refunded under `ref`: a refund's ref is used once.
    error RefAlreadyRefunded(bytes32 acquirer, bytes32 ref);

    /// @dev An order as stored: two slots instead of the four of the `Order` view struct.
    struct OrderRecord {
        address payer;
        uint64 paidAt;
        uint128 amount;
        uint128 refunded;
    }

    /// @custom:storage-location erc7201:walletnet.storage.MerchantSettlement
    struct MerchantSettlementStorage {
        IConsortium consortium;
        IWalletRegistry registry;
        address token;
        uint256 totalPending;
        mapping(bytes32 merchantKey => Merchant) merchants; // merchantKey = keccak256(abi.encode(acquirer, merchantId))
        mapping(bytes32 merchantKey => mapping(bytes32 orderId => OrderRecord)) orders;
        mapping(bytes32 bankId => address) feeWallets;
        mapping(bytes32 bankId => address) requestSigners; // appended (layout above unchanged)
        mapping(bytes32 acquirer => mapping(bytes32 ref => bool)) settledRefs; // refs each acquirer settled under
        mapping(bytes32 acquirer => mapping(bytes32 ref => bool)) refundedRefs; // refs each acquirer refunded under
    }

    // keccak256(abi.encode(uint256(keccak256("walletnet.storage.MerchantSettlement")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant STORAGE_LOCATION = 0xeb2693b86473250e55a22bb4ad15e55706ef9236306ecec12cd50243d30bce00;

    function _s() private pure returns (MerchantSettlementStorage storage $) {
        assembly {
            $.slot := STORAGE_LOCATION
        }
    }

    /// @notice Initialize the proxy.
    /// @param consortium_ the Consortium (roles, banks, governance).
    /// @param registry_ the WalletRegistry (merchant and fee wallet checks).
    /// @param token_ the DigitalCash token.
    /// @dev Requirements: no zero address (ZeroAddress); callable once (InvalidInitialization).
    ///      Emits Initialized(1).
    function initialize(address consortium_, address registry_, address token_) external initializer {
        if (consortium_ == address(0) || registry_ == address(0) || token_ == address(0)) revert ZeroAddress();
        MerchantSettlementStorage storage $ = _s();
        $.consortium = IConsortium(consortium_);
        $.registry = IWalletRegistry(registry_);
        $.token = token_;
    }

    // ------------------------------------------------------------------ merchants

    /// @notice Register a merchant acquired by the caller's bank.
    /// @dev Requirements: caller is an operator of an active bank (the Consortium's NotBankOperator /
    ///      BankNotActive; that bank becomes the acquirer); `merchantId` not registered yet by that bank
    ///      (MerchantAlreadyRegistered; another bank's merchant of the same id is another merchant);
    ///      `feeBps` <= 10,000 (InvalidFee); `wallet` is a registered,
    ///      active wallet of kind Merchant (InvalidMerchantWallet).
    ///      Emits MerchantRegistered and MerchantStatusChanged(Active).
    function registerMerchant(
        bytes32 merchantId,
        address wallet,
        uint16 feeBps,
        uint16 mcc,
        bytes32 settlementAccountHash,
        PayoutMode payoutMode
    ) external {
        MerchantSettlementStorage storage $ = _s();
        bytes32 bankId = $.consortium.requireActiveOperator(msg.sender);
        Merchant storage m = $.merchants[_merchantKey(bankId, merchantId)];
        if (m.status != MerchantStatus.None) revert MerchantAlreadyRegistered(merchantId);
        _setMerchantTerms(m, wallet, feeBps, mcc, settlementAccountHash, payoutMode);
        m.acquirer = bankId;
        m.status = MerchantStatus.Active;

        emit MerchantRegistered(merchantId, bankId, wallet, feeBps, mcc, payoutMode, settlementAccountHash);
        emit MerchantStatusChanged(merchantId, bankId, MerchantStatus.Active);
    }

    /// @notice Change a merchant's wallet, fee, category code, settlement account hash and payout mode.
    /// @dev Requirements: caller is an active operator (NotBankOperator / BankNotActive) of the bank that
    ///      registered `merchantId` (UnknownMerchant); the same fee and wallet rules as registerMerchant. A new fee applies to everything pending at the
    ///      next settlement (settle first to keep the old fee for past payments). Emits MerchantUpdated.
    function updateMerchant(
        bytes32 merchantId,
        address wallet,
        uint16 feeBps,
        uint16 mcc,
        bytes32 settlementAccountHash,
        PayoutMode payoutMode
    ) external {
        Merchant storage m = _requireAcquirer(merchantId);
        _setMerchantTerms(m, wallet, feeBps, mcc, settlementAccountHash, payoutMode);

        emit MerchantUpdated(merchantId, m.acquirer, wallet, feeBps, mcc, payoutMode, settlementAccountHash);
    }

    /// @notice Suspend a merchant (it cannot be paid) or make it active again.
    /// @dev Requirements: caller is an active operator (NotBankOperator / BankNotActive) of the bank that
    ///      registered `merchantId` (UnknownMerchant); `status` is Active or Suspended (InvalidMerchantStatus). A suspended merchant can still be refunded and settled.
    ///      Emits MerchantStatusChanged.
    function setMerchantStatus(bytes32 merchantId, MerchantStatus status) external {
        Merchant storage m = _requireAcquirer(merchantId);
        if (status == MerchantStatus.None) revert InvalidMerchantStatus(status);
        m.status = status;
        emit MerchantStatusChanged(merchantId, m.acquirer, status);
    }

    /// @notice Set the wallet that receives the caller's bank's acquiring fees.
    /// @dev Requirements: caller is an operator of an active bank (the Consortium's NotBankOperator /
    ///      BankNotActive); `wallet` is registered, active and held at that bank, any kind
    ///      (InvalidFeeWallet). If the wallet is frozen or closed later, settlements
    ///      with a fee fail in the token until the bank sets another one. Emits FeeWalletSet.
    function setFeeWallet(address wallet) external {
        MerchantSettlementStorage storage $ = _s();
        bytes32 bankId = $.consortium.requireActiveOperator(msg.sender);
        if (wallet == address(0)) revert InvalidFeeWallet(wallet, bankId);
        IWalletRegistry.Wallet memory w = _walletOf(wallet);
        if (w.bankId != bankId || w.status != IWalletRegistry.WalletStatus.Active) {
            revert InvalidFeeWallet(wallet, bankId);
        }
        $.feeWallets[bankId] = wallet;
        emit FeeWalletSet(bankId, wallet);
    }

    /// @notice The wallet receiving `bankId`'s acquiring fees (zero if none set).
    function feeWallet(bytes32 bankId) external view returns (address) {
        return _s().feeWallets[bankId];
    }

    /// @notice Set the key that signs the caller's bank's payment requests, beside its active operators.
    /// @dev Least privilege: the bank's node keeps this key to sign requests without holding an operator key;
    ///      it cannot send a transaction that moves money. Zero removes it (then only operators sign).
    ///      Requirements: caller is an operator of an active bank (the Consortium's NotBankOperator /
    ///      BankNotActive). Emits RequestSignerSet.
    function setRequestSigner(address signer) external {
        MerchantSettlementStorage storage $ = _s();
        bytes32 bankId = $.consortium.requireActiveOperator(msg.sender);
        $.requestSigners[bankId] = signer;
        emit RequestSignerSet(bankId, signer);
    }

    /// @notice The key that signs `bankId`'s payment requests (zero if none set).
    function requestSigner(bytes32 bankId) external view returns (address) {
        return _s().requestSigners[bankId];
    }

    // ------------------------------------------------------------------ payments

    /// @notice Pay an order the acquirer requested with the payer's signed ReceiveWithAuthorization; any caller
    ///         may relay.
    /// @dev The payer signs ReceiveWithAuthorization(from = payer, to = this contract, value = amount,
    ///      validAfter, validBefore, nonce = paymentNonce(acquirer, merchantId, orderId)) on the token; the
    ///      acquirer signed PaymentRequest(acquirer, merchantId, orderId, amount, expiresAt = validBefore) in
    ///      this contract's domain (paymentRequestDigest).
    ///      Requirements: merchant (acquirer, merchantId) registered (UnknownMerchant) and Active
    ///      (MerchantNotActive); 0 < amount (ZeroAmount) < 2^128 (orders are stored packed;
    ///      SafeCastOverflowedUintDowncast beyond); order not paid yet (OrderAlreadyPaid); the request
    ///      signed by the acquirer's request signer or an active operator of the acquirer, for exactly this
    ///      amount and expiry (InvalidPaymentRequest); the token accepts the authorization (signature,
    ///      validity window, unused nonce, registry checks and limits of the payer). Emits OrderPaid (and the
    ///      token's Transfer / AuthorizationUsed).
    function pay(Payment calldata payment) external {
        _pay(payment);
    }

    /// @notice Pay many orders in one transaction. A failing payment does not revert the others: it is
    ///         reported in PaymentFailed with its revert data.
    /// @dev Requirements: none for the batch (any caller may relay); each item as `pay`.
    ///      Each item runs as an external self-call (`payBatchItem`) so its state changes roll back
    ///      alone. An item that reverts without data (out of gas) reverts the whole batch
    ///      (BatchOutOfGas), so gas estimation finds enough for every item.
    ///      Emits OrderPaid or PaymentFailed per item.
    /// @return succeeded the number of payments made.
    function payBatch(Payment[] calldata payments) external returns (uint256 succeeded) {
        uint256 n = payments.length;
        for (uint256 i; i < n; ++i) {
            try this.payBatchItem(payments[i]) {
                ++succeeded;
            } catch (bytes memory reason) {
                // Every rejection by this contract or the token carries a custom error; a revert without
                // data is running out of gas (in the item or in a call it made). That is the relayer's
                // gas, not a bad payment: revert the batch so that the relayer, and eth_estimateGas,
                // retry with more gas instead of a payment being reported failed for want of gas.
                if (reason.length == 0) revert BatchOutOfGas(i);
                emit PaymentFailed(i, payments[i].merchantId, payments[i].orderId, payments[i].acquirer, reason);
            }
        }
    }

    /// @notice One item of payBatch; only this contract may call it.
    /// @dev Requirements: caller is this contract (NotSelf); otherwise as `pay`. Emits OrderPaid.
    function payBatchItem(Payment calldata payment) external {
        if (msg.sender != address(this)) revert NotSelf(msg.sender);
        _pay(payment);
    }

    /// @notice Refund part or all of an order to its payer, out of the merchant's pending balance.
    /// @dev Requirements: caller is an active operator (NotBankOperator / BankNotActive) of the bank that
    ///      registered `merchantId` (UnknownMerchant); order paid (UnknownOrder); 0 < amount (ZeroAmount) <= order amount -
    ///      already refunded (RefundExceedsRefundable); amount <= the merchant's pending balance,
    ///      pendingGross - pendingRefunds (RefundExceedsPending): money already settled must be refunded
    ///      by other means; the bank has not refunded under `ref` yet, for any of its merchants
    ///      (RefAlreadyRefunded: a bank node restored from an older backup cannot refund twice).
    ///      The token transfer to the payer obeys the registry (payer active, balance cap).
    ///      Records `ref` as used. Emits OrderRefunded (and the token's Transfer).
    function refund(bytes32 merchantId, bytes32 orderId, uint256 amount, bytes32 ref) external {
        Merchant storage m = _requireAcquirer(merchantId);
        MerchantSettlementStorage storage $ = _s();
        {
            mapping(bytes32 => bool) storage refunded_ = $.refundedRefs[m.acquirer];
            if (refunded_[ref]) revert RefAlreadyRefunded(m.acquirer, ref);
            refunded_[ref] = true;
        }
        OrderRecord storage o = $.orders[_merchantKey(m.acquirer, merchantId)][orderId];
        address payer = o.payer;
        if (payer == address(0)) revert UnknownOrder(merchantId, orderId);
        if (amount == 0) revert ZeroAmount();
        uint256 refunded = o.refunded;
        uint256 refundable = uint256(o.amount) - refunded;
        if (amount > refundable) revert RefundExceedsRefundable(merchantId, orderId, amount, refundable);
        uint256 pending = m.pendingGross - m.pendingRefunds;
        if (amount > pending) revert RefundExceedsPending(merchantId, amount, pending);

        refunded += amount;
        o.refunded = uint128(refunded); // refunded <= o.amount, a uint128
        m.pendingRefunds += amount;
        $.totalPending -= amount;

        IERC20($.token).safeTransfer(payer, amount);
        emit OrderRefunded(merchantId, orderId, m.acquirer, payer, amount, refunded, ref);
    }

    /// @notice Settle everything pending for a merchant.
    /// @dev gross = pendingGross, refunds = pendingRefunds,
    ///      fee = min(floor(gross * feeBps / 10,000), gross - refunds), net = gross - refunds - fee.
    ///      net goes to the merchant's wallet (PayoutMode.Wallet) or is burned for payout to its bank
    ///      account by the acquirer (PayoutMode.BankAccount, token.burnForPayout(net, acquirer, ref));
    ///      fee goes to the acquirer's fee wallet. Zero legs are skipped; with nothing pending a zero
    ///      batch is still recorded.
    ///      Requirements: caller is an active operator (NotBankOperator / BankNotActive) of the bank that
    ///      registered `merchantId`, Active or Suspended (UnknownMerchant); the bank has not settled under `ref`
    ///      yet, for any of its merchants (RefAlreadySettled: a bank node restored from an older backup cannot
    ///      settle twice); a fee wallet is set if fee > 0 (FeeWalletNotSet); the token accepts each leg (not
    ///      paused; this contract and each receiving wallet Active; the receivers' balance caps).
    ///      Records `ref` as used. Emits MerchantSettled (and the token's events).
    /// @return batchId the merchant's settlement batch number (1, 2, ...).
    function settle(bytes32 merchantId, bytes32 ref) external returns (uint64 batchId) {
        Merchant storage m = _requireAcquirer(merchantId);
        {
            mapping(bytes32 => bool) storage settled = _s().settledRefs[m.acquirer];
            if (settled[ref]) revert RefAlreadySettled(m.acquirer, ref);
            settled[ref] = true;
        }
        uint256 gross = m.pendingGross;
        uint256 refunds = m.pendingRefunds;
        (uint256 fee, uint256 net) = settlementAmounts(gross, refunds, m.feeBps);

        m.pendingGross = 0;
        m.pendingRefunds = 0;
        batchId = ++m.lastBatchId;
        _s().totalPending -= fee + net;

        _payOut(m, fee, net, ref);
        emit MerchantSettled(merchantId, batchId, m.acquirer, gross, refunds, fee, net, m.payoutMode, ref);
    }

    /// @notice What settle computes: fee = min(floor(gross * feeBps / 10,000), gross - refunds) and
    ///         net = gross - refunds - fee, so fee + net + refunds == gross exactly.
    /// @dev Requirements: refunds <= gross.
    function settlementAmounts(uint256 gross, uint256 refunds, uint16 feeBps)
        public
        pure
        returns (uint256 fee, uint256 net)
    {
        uint256 afterRefunds = gross - refunds;
        fee = (gross * feeBps) / BPS_DENOMINATOR;
        if (fee > afterRefunds) fee = afterRefunds;
        net = afterRefunds - fee;
    }

    // ------------------------------------------------------------------ views

    /// @notice The record of `acquirer`'s merchant `merchantId` (all zero if not registered).
    function merchant(bytes32 acquirer, bytes32 merchantId) external view returns (Merchant memory) {
        return _s().merchants[_merchantKey(acquirer, merchantId)];
    }

    /// @notice An order's record (all zero if not paid).
    function order(bytes32 acquirer, bytes32 merchantId, bytes32 orderId) external view returns (Order memory) {
        OrderRecord storage o = _s().orders[_merchantKey(acquirer, merchantId)][orderId];
        return Order({payer: o.payer, amount: o.amount, refunded: o.refunded, paidAt: o.paidAt});
    }

    /// @notice The EIP-3009 nonce a payer signs for an order: keccak256(abi.encode(acquirer, merchantId,
    ///         orderId)).
    function paymentNonce(bytes32 acquirer, bytes32 merchantId, bytes32 orderId) public pure returns (bytes32) {
        return keccak256(abi.encode(acquirer, merchantId, orderId));
    }

    /// @notice The EIP-712 digest of PaymentRequest(acquirer, merchantId, orderId, amount, expiresAt) in this
    ///         contract's domain: what the acquirer signs for each order it asks to be paid.
    function paymentRequestDigest(bytes32 acquirer, bytes32 merchantId, bytes32 orderId, uint256 amount,
                                  uint256 expiresAt) public view returns (bytes32 digest) {
        bytes32 structHash =
            keccak256(abi.encode(PAYMENT_REQUEST_TYPEHASH, acquirer, merchantId, orderId, amount, expiresAt));
        digest = keccak256(abi.encodePacked(hex"1901", DOMAIN_SEPARATOR(), structHash));
    }

    /// @notice This contract's EIP-712 domain separator (name "MerchantSettlement", version "1", the chain,
    ///         this proxy): the domain of payment requests.
    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return keccak256(abi.encode(EIP712_DOMAIN_TYPEHASH, EIP712_NAME_HASH, EIP712_VERSION_HASH, block.chainid,
                                    address(this)));
    }

    /// @notice ERC-5267: the EIP-712 domain of payment requests.
    function eip712Domain()
        external
        view
        returns (bytes1 fields, string memory name, string memory version, uint256 chainId,
                 address verifyingContract, bytes32 salt, uint256[] memory extensions)
    {
        return (hex"0f", EIP712_NAME, EIP712_VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @notice Sum over all merchants of pendingGross - pendingRefunds: the money this contract owes.
    function totalPending() external view returns (uint256) {
        return _s().totalPending;
    }

    /// @notice The Consortium contract.
    function consortium() external view returns (address) {
        return address(_s().consortium);
    }

    /// @notice The WalletRegistry contract.
    function registry() external view returns (address) {
        return address(_s().registry);
    }

    /// @notice The DigitalCash token.
    function token() external view returns (address) {
        return _s().token;
    }

    // ------------------------------------------------------------------ internals

    function _pay(Payment calldata p) private {
        MerchantSettlementStorage storage $ = _s();
        bytes32 key = _merchantKey(p.acquirer, p.merchantId);
        Merchant storage m = $.merchants[key];
        MerchantStatus status = m.status;
        if (status == MerchantStatus.None) revert UnknownMerchant(p.merchantId);
        if (status != MerchantStatus.Active) revert MerchantNotActive(p.merchantId);
        if (p.amount == 0) revert ZeroAmount();
        OrderRecord storage o = $.orders[key][p.orderId];
        if (o.payer != address(0)) revert OrderAlreadyPaid(p.merchantId, p.orderId);
        _checkRequest(p);

        o.payer = p.payer;
        o.paidAt = uint64(block.timestamp);
        o.amount = SafeCast.toUint128(p.amount);
        m.pendingGross += p.amount;
        $.totalPending += p.amount;

        // The token checks the signature over (payer, this, amount, window, nonce) and that we are `to`.
        IDigitalCash($.token).receiveWithAuthorization(
            p.payer,
            address(this),
            p.amount,
            p.validAfter,
            p.validBefore,
            paymentNonce(p.acquirer, p.merchantId, p.orderId),
            p.v,
            p.r,
            p.s
        );
        emit OrderPaid(p.merchantId, p.orderId, p.acquirer, p.payer, p.amount);
    }

    /// @dev The acquirer asked for exactly this payment: its request signer, or one of its active operators,
    ///      signed PaymentRequest(acquirer, merchantId, orderId, amount, expiresAt = validBefore).
    function _checkRequest(Payment calldata p) private view {
        bytes32 digest = paymentRequestDigest(p.acquirer, p.merchantId, p.orderId, p.amount, p.validBefore);
        address signer = _recover(digest, p.requestV, p.requestR, p.requestS);
        if (signer != address(0)) {
            if (signer == _s().requestSigners[p.acquirer] || _s().consortium.isActiveOperator(p.acquirer, signer)) {
                return;
            }
        }
        revert InvalidPaymentRequest(p.acquirer, p.merchantId, p.orderId, signer);
    }

    /// @dev Who signed `digest` (zero for an invalid signature), under OpenZeppelin ECDSA's rules: s in the lower
    ///      half of the curve order (no malleable twin), v 27 or 28 (ecrecover answers zero otherwise).
    function _recover(bytes32 digest, uint8 v, bytes32 r, bytes32 s) private pure returns (address) {
        if (uint256(s) > MAX_S) return address(0);
        return ecrecover(digest, v, r, s);
    }

    /// @dev Net to the merchant (wallet transfer or burn for bank payout), fee to the acquirer's fee
    ///      wallet; zero legs are skipped.
    function _payOut(Merchant storage m, uint256 fee, uint256 net, bytes32 ref) private {
        address tokenAddr = _s().token;
        bytes32 acquirer = m.acquirer;
        address feeTo;
        if (fee > 0) {
            feeTo = _s().feeWallets[acquirer];
            if (feeTo == address(0)) revert FeeWalletNotSet(acquirer);
        }
        if (net > 0) {
            if (m.payoutMode == PayoutMode.Wallet) {
                IERC20(tokenAddr).safeTransfer(m.wallet, net);
            } else {
                IDigitalCash(tokenAddr).burnForPayout(net, acquirer, ref);
            }
        }
        if (fee > 0) IERC20(tokenAddr).safeTransfer(feeTo, fee);
    }

    /// @dev The caller's bank's merchant `merchantId`: the caller is an active operator (the Consortium's
    ///      NotBankOperator / BankNotActive) and its bank registered that id (UnknownMerchant).
    function _requireAcquirer(bytes32 merchantId) private view returns (Merchant storage m) {
        bytes32 bankId = _s().consortium.requireActiveOperator(msg.sender);
        m = _s().merchants[_merchantKey(bankId, merchantId)];
        if (m.status == MerchantStatus.None) revert UnknownMerchant(merchantId);
    }

    /// @dev The key of `acquirer`'s merchant `merchantId` in `merchants` and `orders`: ids are per acquirer.
    function _merchantKey(bytes32 acquirer, bytes32 merchantId) private pure returns (bytes32) {
        return keccak256(abi.encode(acquirer, merchantId));
    }

    /// @dev The terms registerMerchant and updateMerchant set, checked first: `feeBps` <= 10,000 (InvalidFee);
    ///      `wallet` a registered, active wallet of kind Merchant (InvalidMerchantWallet).
    function _setMerchantTerms(
        Merchant storage m,
        address wallet,
        uint16 feeBps,
        uint16 mcc,
        bytes32 settlementAccountHash,
        PayoutMode payoutMode
    ) private {
        if (feeBps > BPS_DENOMINATOR) revert InvalidFee(feeBps);
        IWalletRegistry.Wallet memory w = _walletOf(wallet);
        if (w.kind != IWalletRegistry.WalletKind.Merchant || w.status != IWalletRegistry.WalletStatus.Active) {
            revert InvalidMerchantWallet(wallet);
        }
        m.wallet = wallet;
        m.feeBps = feeBps;
        m.mcc = mcc;
        m.payoutMode = payoutMode;
        m.settlementAccountHash = settlementAccountHash;
    }

    /// @dev The registry's record of `wallet` (all zero, status None, if not registered).
    function _walletOf(address wallet) private view returns (IWalletRegistry.Wallet memory) {
        return _s().registry.wallet(wallet);
    }

    /// @dev Only the Consortium, i.e. an executed governance proposal, may upgrade.
    function _authorizeUpgrade(address) internal view override {
        if (msg.sender != address(_consortium())) revert NotGovernance(msg.sender);
    }

    function _consortium() internal view override returns (IConsortium) {
        return _s().consortium;
    }
}
