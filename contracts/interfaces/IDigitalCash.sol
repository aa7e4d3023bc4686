// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IDigitalCash
/// @notice walletnet's token: ERC-20 + EIP-2612 permit + EIP-3009, with every movement of value
///         checked against the wallet registry's state and limits, holds for ATM cash-out,
///         redemption by signed authorization, and a batch relay path with unordered nonces.
/// @dev Standard ERC-20/2612 functions and errors (OpenZeppelin's IERC20Errors names) are not
///      repeated here. EIP-712 domain: name = token name, version = "1", chainId, verifyingContract.
///      Signed types (exact strings):
///        TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)
///        ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)
///        CancelAuthorization(address authorizer,bytes32 nonce)
///        Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)
///        RelayedTransfer(address from,address to,uint256 value,uint256 validBefore,uint256 nonce)
///        Hold(address holder,uint256 value,bytes32 holdId,uint256 expiresAt)
///        Redemption(address holder,uint256 value,uint256 validBefore,bytes32 nonce)
///      EIP-3009 nonces, hold ids and redemption nonces share one bytes32 namespace per signer
///      (`authorizationState`). RelayedTransfer nonces are uint256 in a Permit2-style bitmap
///      (word = nonce >> 8, bit = nonce & 0xff) per signer.
///      A merchant payment is a ReceiveWithAuthorization to the MerchantSettlement contract whose
///      nonce is keccak256(abi.encode(merchantId, orderId)): the signature binds merchant, order and amount.
interface IDigitalCash {
    enum HoldStatus {
        None,
        Held,
        Captured,
        Released
    }

    enum BurnReason {
        Redemption,
        HoldCapture,
        WalletClosure,
        SettlementPayout
    }

    struct HoldInfo {
        address holder;
        uint256 amount;
        uint256 expiresAt;
        HoldStatus status;
    }

    /// @notice One mint of a batch: `amount` to `wallet` under the off-chain event id `ref`.
    struct MintItem {
        address wallet;
        uint256 amount;
        bytes32 ref;
    }

    /// @notice One signed transfer in a relay batch.
    struct RelayedTransfer {
        address from;
        address to;
        uint256 value;
        uint256 validBefore;
        uint256 nonce;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    // --- errors ---
    // NotNetworkOperator(address caller) is IConsortium's, raised by ConsortiumBound.onlyNetworkOperator.
    /// @notice Only the wallet registry may call this.
    error NotRegistry(address caller);
    /// @notice Only the merchant settlement contract may call this.
    error NotSettlement(address caller);
    /// @notice Only active operators of the wallet's custodian bank may do this.
    error NotCustodianOperator(address caller, address wallet);
    /// @notice The caller is not an operator of an active member bank.
    error NotBankOperator(address caller);
    /// @notice The wallet is not Active: unregistered (NONE), FROZEN or CLOSED (`status` holds
    ///         IWalletRegistry.WalletStatus values).
    error WalletNotActive(address wallet, uint8 status);
    /// @notice The wallet's balance would exceed its tier's balance cap.
    error BalanceCapExceeded(address wallet, uint256 balanceAfter, uint256 cap);
    /// @notice The amount exceeds the wallet's tier single-payment limit.
    error SinglePaymentLimitExceeded(address wallet, uint256 amount, uint256 limit);
    /// @notice The wallet's outflow today plus this amount exceeds its tier's daily limit.
    error DailyOutflowLimitExceeded(address wallet, uint256 spentToday, uint256 amount, uint256 limit);
    /// @notice Limit classes are 1-4 (personal tiers), 5 (merchant) and 6 (system).
    error InvalidLimitClass(uint8 limitClass);
    /// @notice The authorization's nonce (EIP-3009 nonce, hold id or redemption nonce) was already used or canceled.
    error AuthorizationAlreadyUsed(address authorizer, bytes32 nonce);
    /// @notice The block time is at or before the authorization's `validAfter`.
    error AuthorizationNotYetValid(uint256 validAfter);
    /// @notice The block time is at or past the authorization's `validBefore`.
    error AuthorizationExpired(uint256 validBefore);
    /// @notice The signature does not recover to `expectedSigner`.
    error InvalidSignature(address expectedSigner);
    /// @notice `receiveWithAuthorization` must be called by the payee (`to`).
    error CallerMustBePayee(address caller, address payee);
    /// @notice The RelayedTransfer nonce was already used (bitmap nonce).
    error UnorderedNonceUsed(address owner, uint256 nonce);
    /// @notice No hold with this id.
    error UnknownHold(bytes32 holdId);
    /// @notice The hold was already captured or released.
    error HoldNotActive(bytes32 holdId, HoldStatus status);
    /// @notice The holder may release a hold only after it expires.
    error HoldNotExpired(bytes32 holdId, uint256 expiresAt);
    /// @notice The wallet still has money on hold (a wallet cannot close with open holds).
    error HoldsOutstanding(address wallet, uint256 held);
    /// @notice The amount is zero.
    error ZeroAmount();
    /// @notice The settlement contract is wired once.
    error SettlementAlreadySet(address settlement);
    /// @notice Money reaches the MerchantSettlement contract only as an order payment (its own
    ///         receiveWithAuthorization call); a direct transfer would credit no merchant and be stranded.
    error DirectTransferToSettlement(address from);

    // --- events (plus ERC-20 Transfer/Approval) ---
    event Minted(address indexed wallet, bytes32 indexed bankId, uint256 amount, bytes32 indexed ref);
    event Burned(address indexed wallet, bytes32 indexed bankId, uint256 amount, bytes32 indexed ref, BurnReason reason);
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);
    event HoldPlaced(bytes32 indexed holdId, address indexed holder, uint256 amount, uint256 expiresAt);
    event HoldCaptured(bytes32 indexed holdId, address indexed holder, uint256 amount, bytes32 indexed ref);
    event HoldReleased(bytes32 indexed holdId, address indexed holder, uint256 amount, address by);
    event RelayFailed(uint256 indexed index, address indexed from, uint256 nonce, bytes reason);
    event WalletStateSet(address indexed wallet, uint8 status, uint8 limitClass);
    event LimitsSet(uint8 indexed limitClass, uint256 balanceCap, uint256 singlePaymentLimit, uint256 dailyOutflowLimit);
    event SettlementSet(address indexed settlement);

    // --- issuance ---
    /// @notice Mint to `wallet` (caller: an operator of its custodian bank, within quota).
    function mint(address wallet, uint256 amount, bytes32 ref) external;
    /// @notice Mint every item as `mint` would, in one transaction; all or nothing (a refused item reverts
    ///         the batch with its own error, and the bank's node then sends the items one by one).
    function mintBatch(MintItem[] calldata items) external;
    /// @notice Burn `value` from `holder` on the holder's signed Redemption (caller: custodian operator).
    function redeemWithAuthorization(
        address holder, uint256 value, uint256 validBefore, bytes32 nonce, bytes32 ref, uint8 v, bytes32 r, bytes32 s
    ) external;

    // --- EIP-3009 ---
    function transferWithAuthorization(
        address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s
    ) external;
    function receiveWithAuthorization(
        address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s
    ) external;
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external;
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);

    // --- bank relay path ---
    /// @notice Submit many signed RelayedTransfers (caller: an active bank operator). A failing item
    ///         is skipped and reported in RelayFailed; the others go through. Returns how many succeeded.
    function relayTransfers(RelayedTransfer[] calldata items) external returns (uint256 succeeded);
    function nonceBitmap(address owner, uint256 wordPos) external view returns (uint256);

    // --- holds (ATM cash-out) ---
    /// @notice Place a hold signed by the holder (caller: custodian operator). Counts as outflow.
    function placeHold(address holder, uint256 value, bytes32 holdId, uint256 expiresAt, uint8 v, bytes32 r, bytes32 s) external;
    /// @notice Burn held money after the ATM dispensed (caller: custodian operator).
    function captureHold(bytes32 holdId, bytes32 ref) external;
    /// @notice Return held money: custodian operator at any time, the holder after expiry.
    function releaseHold(bytes32 holdId) external;
    function holdOf(bytes32 holdId) external view returns (HoldInfo memory);
    function heldBalance(address wallet) external view returns (uint256);
    function totalHeld() external view returns (uint256);

    // --- registry / settlement hooks ---
    function setWalletState(address wallet, uint8 status, uint8 limitClass) external;
    function setLimits(uint8 limitClass, uint256 balanceCap, uint256 singlePaymentLimit, uint256 dailyOutflowLimit) external;
    /// @notice Burn a closing wallet's whole balance for payout to its bound account (registry only).
    function burnForClosure(address wallet, bytes32 bankId, bytes32 ref) external returns (uint256 burned);
    /// @notice Wire the MerchantSettlement contract; once, by the network operator.
    function setSettlement(address settlement) external;
    /// @notice Burn from the settlement contract's own balance for a merchant's bank payout.
    function burnForPayout(uint256 amount, bytes32 bankId, bytes32 ref) external;

    // --- pause ---
    function pause() external;
    function unpause() external;
    function paused() external view returns (bool);

    // --- views ---
    /// @return status WalletStatus value, limitClass, day (UTC day number of spentToday), spentToday
    function walletState(address wallet) external view returns (uint8 status, uint8 limitClass, uint256 day, uint256 spentToday);
    function remainingDailyAllowance(address wallet) external view returns (uint256);
    function consortium() external view returns (address);
    function registry() external view returns (address);
    function settlement() external view returns (address);
}
