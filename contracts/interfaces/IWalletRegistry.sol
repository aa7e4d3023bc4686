// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IWalletRegistry
/// @notice Which bank holds each wallet, its tier, kind and status, and the tier limits.
/// @dev The registry is the record of authority. It pushes the few facts the token needs on every
///      transfer (status + limit class) and the limits themselves into DigitalCash
///      (`IDigitalCash.setWalletState` / `setLimits`), so a transfer never calls out to the registry.
///      Limit classes: 1..4 are personal tiers 1..4, 5 is merchant wallets, 6 is system wallets.
interface IWalletRegistry {
    enum WalletKind {
        Personal,
        Merchant,
        System
    }

    /// @dev None = not registered. Numeric values are shared with IDigitalCash's wallet state.
    enum WalletStatus {
        None,
        Active,
        Frozen,
        Closed
    }

    struct Wallet {
        bytes32 bankId;
        uint8 tier; // 1..4 (personal); merchant and system wallets record 1
        WalletKind kind;
        WalletStatus status;
        bool frozenByRegulator;
        uint16 freezeReason;
        bytes32 accountHash; // salted hash of the bound bank account, zero if none
    }

    struct WalletOpening {
        address wallet;
        uint8 tier;
        WalletKind kind;
        bytes32 accountHash;
    }

    /// @notice Limits in minor units; type(uint256).max means unlimited.
    struct Limits {
        uint256 balanceCap;
        uint256 singlePaymentLimit;
        uint256 dailyOutflowLimit;
    }

    // NotNetworkOperator(address caller) is IConsortium's, raised by ConsortiumBound.onlyNetworkOperator.
    /// @notice Only operators of the wallet's custodian bank may change it.
    error NotCustodian(address caller, address wallet, bytes32 bankId);
    /// @notice Only the custodian bank's operators or the regulator may freeze or unfreeze the wallet.
    error NotCustodianOrRegulator(address caller, address wallet);
    /// @notice The address is already a registered wallet.
    error WalletAlreadyRegistered(address wallet);
    /// @notice The address is not a registered wallet.
    error WalletNotRegistered(address wallet);
    /// @notice The wallet is closed; it cannot be changed any more.
    error WalletIsClosed(address wallet);
    /// @notice The wallet is not Active: unregistered (NONE), FROZEN or CLOSED.
    error WalletNotActive(address wallet, WalletStatus status);
    /// @notice `unfreeze` of a wallet that is not frozen.
    error WalletNotFrozen(address wallet);
    /// @notice A regulator's freeze can be lifted only by the regulator.
    error RegulatorFreeze(address wallet);
    /// @notice Personal tiers are 1-4 (merchant and system wallets use tier 1).
    error InvalidTier(address wallet, uint8 tier);
    /// @notice Limit classes are 1-4 (personal tiers), 5 (merchant) and 6 (system).
    error InvalidLimitClass(uint8 limitClass);
    /// @notice An address argument is the zero address.
    error ZeroAddress();
    /// @notice The token is wired into the registry once.
    error TokenAlreadySet(address token);
    /// @notice The registry is not wired to the token yet.
    error TokenNotSet();

    event WalletOpened(address indexed wallet, bytes32 indexed bankId, uint8 tier, WalletKind kind, bytes32 accountHash);
    event WalletTierChanged(address indexed wallet, bytes32 indexed bankId, uint8 previousTier, uint8 tier);
    event AccountBound(address indexed wallet, bytes32 indexed bankId, bytes32 accountHash);
    event WalletFrozen(address indexed wallet, bytes32 indexed bankId, address indexed by, uint16 reason, bool byRegulator);
    event WalletUnfrozen(address indexed wallet, bytes32 indexed bankId, address indexed by);
    event WalletClosed(address indexed wallet, bytes32 indexed bankId, uint256 redeemed, bytes32 ref);
    event LimitsSet(uint8 indexed limitClass, uint256 balanceCap, uint256 singlePaymentLimit, uint256 dailyOutflowLimit);
    event TokenSet(address indexed token);

    /// @notice Wire the token; once, by the network operator.
    function setToken(address token) external;
    function token() external view returns (address);
    function consortium() external view returns (address);

    /// @notice Open a wallet for the caller's bank (caller: an operator of `bankId`, bank active).
    function openWallet(address wallet, bytes32 bankId, uint8 tier, WalletKind kind, bytes32 accountHash) external;
    /// @notice Bulk enrolment; reverts as a whole if any item is invalid (the error names the wallet).
    function openWallets(bytes32 bankId, WalletOpening[] calldata openings) external;
    /// @notice Register network infrastructure (the MerchantSettlement contract) as an active system
    ///         wallet with no custodian bank (bankId 0); network operator only.
    function openSystemWallet(address wallet) external;
    function setTier(address wallet, uint8 tier) external;
    function bindAccount(address wallet, bytes32 accountHash) external;
    /// @notice Freeze by the custodian bank's operators or by the regulator, with a reason code.
    function freeze(address wallet, uint16 reason) external;
    /// @notice Lift a freeze; a regulator's freeze only by the regulator.
    function unfreeze(address wallet) external;
    /// @notice Close a wallet: its remaining balance is burned for payout to the bound account
    ///         (`ref` is the off-chain closure id). Fails while holds are outstanding.
    function closeWallet(address wallet, bytes32 ref) external;

    /// @notice Set the limits of a limit class (network operator only).
    function setLimits(uint8 limitClass, Limits calldata limits) external;
    function limits(uint8 limitClass) external view returns (Limits memory);
    /// @notice Limit class of a wallet: its tier for personal wallets, 5 for merchant, 6 for system.
    function limitClassOf(address wallet) external view returns (uint8);

    function wallet(address wallet) external view returns (Wallet memory);
    function custodianOf(address wallet) external view returns (bytes32 bankId);
    function isActive(address wallet) external view returns (bool);
}
