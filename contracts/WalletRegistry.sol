// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ConsortiumBound} from "./ConsortiumBound.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {IDigitalCash} from "./interfaces/IDigitalCash.sol";
import {IWalletRegistry} from "./interfaces/IWalletRegistry.sol";

/// @title WalletRegistry
/// @notice The record of every wallet: custodian bank, tier, kind, status, freeze and bound account, and
///         the limits of each limit class (personal tiers 1..4, merchant 5, system 6).
/// @dev Deployed behind an ERC1967 (UUPS) proxy; only the Consortium (an executed proposal) may upgrade.
///      Every change that the token needs on its transfer path (a wallet's status and limit class, a
///      class's limits) is pushed into DigitalCash in the same call, so wallets can only be opened or
///      changed once the token is wired (`setToken`).
///
///      Roles: the custodian bank's operators (an operator of the wallet's bank, bank active) open and
///      change its wallets; the regulator may freeze any wallet, and only the regulator lifts its own
///      freezes; the network operator sets limits, wires the token and registers system wallets.
contract WalletRegistry is IWalletRegistry, ConsortiumBound {
    // --- errors added to IWalletRegistry's ---
    /// @notice Only the Consortium (an executed governance proposal) may upgrade.
    error NotConsortium(address caller);
    /// @notice Tiers only apply to personal wallets.
    error NotPersonalWallet(address wallet, WalletKind kind);

    uint8 private constant MERCHANT_CLASS = 5;
    uint8 private constant SYSTEM_CLASS = 6;
    uint8 private constant MAX_TIER = 4;

    /// @custom:storage-location erc7201:walletnet.storage.WalletRegistry
    struct RegistryStorage {
        IConsortium consortium;
        IDigitalCash token;
        mapping(address wallet => Wallet) wallets;
        mapping(uint8 limitClass => Limits) limits;
    }

    // keccak256(abi.encode(uint256(keccak256("walletnet.storage.WalletRegistry")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant REGISTRY_STORAGE = 0xdf98038073dbe136ac70352f081f00a5f8b5d39a1621f924e389eba2589e3f00;

    function _s() private pure returns (RegistryStorage storage $) {
        assembly {
            $.slot := REGISTRY_STORAGE
        }
    }

    /// @notice Set the Consortium and the default limits of the six limit classes.
    /// @dev Defaults (minor units, 2 decimals) follow the e-CNY wallet classes of CCB's 2020 agreement:
    ///      tier 1 balance 500,000.00, single 50,000.00, daily 100,000.00; tier 2 10,000.00 / 5,000.00 /
    ///      10,000.00; tier 3 2,000.00 / 2,000.00 / 2,000.00; tier 4 1,000.00 / 500.00 / 1,000.00; merchant
    ///      and system unlimited. Requirements: `consortium_` non-zero (ZeroAddress); callable once
    ///      (InvalidInitialization). Emits LimitsSet for each class and Initialized(1).
    function initialize(address consortium_) external initializer {
        if (consortium_ == address(0)) revert ZeroAddress();
        _s().consortium = IConsortium(consortium_);
        _storeLimits(1, Limits(50_000_000, 5_000_000, 10_000_000));
        _storeLimits(2, Limits(1_000_000, 500_000, 1_000_000));
        _storeLimits(3, Limits(200_000, 200_000, 200_000));
        _storeLimits(4, Limits(100_000, 50_000, 100_000));
        _storeLimits(MERCHANT_CLASS, Limits(type(uint256).max, type(uint256).max, type(uint256).max));
        _storeLimits(SYSTEM_CLASS, Limits(type(uint256).max, type(uint256).max, type(uint256).max));
    }

    // ------------------------------------------------------------------ wiring

    /// @notice Wire the token and push the limits of all six classes into it; once.
    /// @dev Requirements: caller is the network operator (NotNetworkOperator); `token_` non-zero
    ///      (ZeroAddress); not set before (TokenAlreadySet). Emits TokenSet (and the token's LimitsSet).
    function setToken(address token_) external onlyNetworkOperator {
        RegistryStorage storage $ = _s();
        if (token_ == address(0)) revert ZeroAddress();
        if (address($.token) != address(0)) revert TokenAlreadySet(address($.token));
        $.token = IDigitalCash(token_);
        emit TokenSet(token_);
        for (uint8 c = 1; c <= SYSTEM_CLASS; c++) {
            Limits storage l = $.limits[c];
            IDigitalCash(token_).setLimits(c, l.balanceCap, l.singlePaymentLimit, l.dailyOutflowLimit);
        }
    }

    /// @notice The token this registry pushes wallet state and limits into (zero until wired).
    function token() external view returns (address) {
        return address(_s().token);
    }

    /// @notice The Consortium that defines banks, operators and roles.
    function consortium() external view returns (address) {
        return address(_s().consortium);
    }

    // ------------------------------------------------------------------ opening

    /// @notice Open one wallet for a bank: active, with the given tier (personal) or kind, bound to
    ///         `accountHash` (a salted hash of the bank account, zero if none).
    /// @dev Requirements: the token is wired (TokenNotSet); caller is an operator of an active bank
    ///      (Consortium's NotBankOperator / BankNotActive) and that bank is `bankId` (NotCustodian);
    ///      `wallet` non-zero (ZeroAddress) and never registered (WalletAlreadyRegistered, also for closed
    ///      wallets); a personal wallet's tier is 1..4 (InvalidTier). Merchant and system wallets ignore
    ///      `tier` and record 1. Emits WalletOpened (and the token's WalletStateSet).
    function openWallet(address wallet_, bytes32 bankId, uint8 tier, WalletKind kind, bytes32 accountHash) external {
        IDigitalCash token_ = _requireToken();
        _requireBankOperator(bankId, wallet_);
        _open(token_, wallet_, bankId, tier, kind, accountHash);
    }

    /// @notice Open many wallets for a bank in one call (bulk enrolment of existing customers).
    /// @dev Same requirements as `openWallet` for each item; the first bad item reverts the whole call
    ///      with an error naming its wallet (ZeroAddress for a zero address). Emits WalletOpened (and the
    ///      token's WalletStateSet) per wallet.
    function openWallets(bytes32 bankId, WalletOpening[] calldata openings) external {
        IDigitalCash token_ = _requireToken();
        _requireBankOperator(bankId, openings.length > 0 ? openings[0].wallet : address(0));
        for (uint256 i = 0; i < openings.length; i++) {
            WalletOpening calldata o = openings[i];
            _open(token_, o.wallet, bankId, o.tier, o.kind, o.accountHash);
        }
    }

    /// @notice Register network infrastructure (the MerchantSettlement contract) as an active system
    ///         wallet with no custodian bank (bankId 0, limit class 6).
    /// @dev Requirements: caller is the network operator (NotNetworkOperator); the token is wired
    ///      (TokenNotSet); `wallet_` non-zero (ZeroAddress) and never registered (WalletAlreadyRegistered).
    ///      Emits WalletOpened (and the token's WalletStateSet with class 6).
    function openSystemWallet(address wallet_) external onlyNetworkOperator {
        IDigitalCash token_ = _requireToken();
        _open(token_, wallet_, bytes32(0), 1, WalletKind.System, bytes32(0));
    }

    // ------------------------------------------------------------------ changes by the custodian bank

    /// @notice Change a personal wallet's tier (and so its limits), e.g. after more identity checks.
    /// @dev Requirements: the wallet is registered and not closed (WalletNotRegistered / WalletIsClosed);
    ///      caller is an operator of its bank, bank active (NotCustodian); the wallet is personal
    ///      (NotPersonalWallet); `tier` is 1..4 (InvalidTier). A frozen wallet stays frozen.
    ///      Emits WalletTierChanged (and the token's WalletStateSet).
    function setTier(address wallet_, uint8 tier) external {
        Wallet storage w = _openWallet(wallet_);
        _requireCustodian(w, wallet_);
        if (w.kind != WalletKind.Personal) revert NotPersonalWallet(wallet_, w.kind);
        if (tier == 0 || tier > MAX_TIER) revert InvalidTier(wallet_, tier);
        uint8 previous = w.tier;
        w.tier = tier;
        emit WalletTierChanged(wallet_, w.bankId, previous, tier);
        _push(wallet_, w);
    }

    /// @notice Bind a wallet to a bank account by its salted hash (zero unbinds).
    /// @dev Requirements: the wallet is registered and not closed; caller is a custodian operator
    ///      (NotCustodian). Emits AccountBound.
    function bindAccount(address wallet_, bytes32 accountHash) external {
        Wallet storage w = _openWallet(wallet_);
        _requireCustodian(w, wallet_);
        w.accountHash = accountHash;
        emit AccountBound(wallet_, w.bankId, accountHash);
    }

    /// @notice Freeze a wallet with a reason code: it can neither send nor receive.
    /// @dev Caller: a custodian operator (bank active) or the regulator (NotCustodianOrRegulator). The wallet
    ///      is registered and not closed. A custodian may freeze an active wallet; the regulator may freeze
    ///      an active wallet or take over a bank's freeze (the freeze then becomes the regulator's). Any other
    ///      status reverts WalletNotActive. Emits WalletFrozen (and the token's WalletStateSet).
    function freeze(address wallet_, uint16 reason) external {
        Wallet storage w = _openWallet(wallet_);
        bool byRegulator = msg.sender == _s().consortium.regulator();
        if (!byRegulator && !_isCustodian(w, msg.sender)) revert NotCustodianOrRegulator(msg.sender, wallet_);
        bool allowed = w.status == WalletStatus.Active
            || (byRegulator && w.status == WalletStatus.Frozen && !w.frozenByRegulator);
        if (!allowed) revert WalletNotActive(wallet_, w.status);
        w.status = WalletStatus.Frozen;
        w.frozenByRegulator = byRegulator;
        w.freezeReason = reason;
        emit WalletFrozen(wallet_, w.bankId, msg.sender, reason, byRegulator);
        _push(wallet_, w);
    }

    /// @notice Lift a freeze. A regulator's freeze is lifted only by the regulator, a bank's only by the
    ///         custodian bank's operators.
    /// @dev Requirements: the wallet is registered and not closed; it is frozen (WalletNotFrozen); caller is
    ///      the regulator for a regulator's freeze (RegulatorFreeze), a custodian operator otherwise
    ///      (NotCustodian). Emits WalletUnfrozen (and the token's WalletStateSet).
    function unfreeze(address wallet_) external {
        Wallet storage w = _openWallet(wallet_);
        if (w.status != WalletStatus.Frozen) revert WalletNotFrozen(wallet_);
        if (w.frozenByRegulator) {
            if (msg.sender != _s().consortium.regulator()) revert RegulatorFreeze(wallet_);
        } else {
            _requireCustodian(w, wallet_);
        }
        w.status = WalletStatus.Active;
        w.frozenByRegulator = false;
        w.freezeReason = 0;
        emit WalletUnfrozen(wallet_, w.bankId, msg.sender);
        _push(wallet_, w);
    }

    /// @notice Close a wallet for good: the token burns its whole balance for payout to the bound bank
    ///         account (`ref` is the off-chain closure id) and the wallet is marked closed.
    /// @dev Requirements: the wallet is registered and not closed; caller is a custodian operator
    ///      (NotCustodian); not under a regulator's freeze (RegulatorFreeze); the token accepts the burn
    ///      (it reverts HoldsOutstanding while holds are open). A bank's own freeze does not prevent
    ///      closure. Emits WalletClosed with the amount burned (and the token's Burned and WalletStateSet).
    function closeWallet(address wallet_, bytes32 ref) external {
        Wallet storage w = _openWallet(wallet_);
        _requireCustodian(w, wallet_);
        if (w.frozenByRegulator) revert RegulatorFreeze(wallet_);
        uint256 burned = _s().token.burnForClosure(wallet_, w.bankId, ref);
        w.status = WalletStatus.Closed;
        w.frozenByRegulator = false;
        w.freezeReason = 0;
        emit WalletClosed(wallet_, w.bankId, burned, ref);
        _push(wallet_, w);
    }

    // ------------------------------------------------------------------ limits

    /// @notice Set the limits of a limit class (1..4 personal tiers, 5 merchant, 6 system), in minor
    ///         units; type(uint256).max means unlimited. Pushed into the token if it is wired.
    /// @dev Requirements: caller is the network operator; `limitClass` is 1..6 (InvalidLimitClass).
    ///      Emits LimitsSet (and the token's LimitsSet).
    function setLimits(uint8 limitClass, Limits calldata limits_) external onlyNetworkOperator {
        if (limitClass == 0 || limitClass > SYSTEM_CLASS) revert InvalidLimitClass(limitClass);
        _storeLimits(limitClass, limits_);
        IDigitalCash token_ = _s().token;
        if (address(token_) != address(0)) {
            token_.setLimits(limitClass, limits_.balanceCap, limits_.singlePaymentLimit, limits_.dailyOutflowLimit);
        }
    }

    /// @notice The limits of a limit class; reverts InvalidLimitClass outside 1..6.
    function limits(uint8 limitClass) external view returns (Limits memory) {
        if (limitClass == 0 || limitClass > SYSTEM_CLASS) revert InvalidLimitClass(limitClass);
        return _s().limits[limitClass];
    }

    /// @notice Limit class of a wallet: its tier for personal wallets, 5 for merchant, 6 for system;
    ///         0 if not registered.
    function limitClassOf(address wallet_) external view returns (uint8) {
        Wallet storage w = _s().wallets[wallet_];
        if (w.status == WalletStatus.None) return 0;
        return _limitClass(w);
    }

    // ------------------------------------------------------------------ views

    /// @notice A wallet's record (all zero, status None, if not registered).
    function wallet(address wallet_) external view returns (Wallet memory) {
        return _s().wallets[wallet_];
    }

    /// @notice The custodian bank of a wallet (zero if not registered or a system wallet).
    function custodianOf(address wallet_) external view returns (bytes32 bankId) {
        return _s().wallets[wallet_].bankId;
    }

    /// @notice True if the wallet is registered and active (not frozen, not closed).
    function isActive(address wallet_) external view returns (bool) {
        return _s().wallets[wallet_].status == WalletStatus.Active;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Upgrades are governance actions, executed by the Consortium.
    function _authorizeUpgrade(address) internal view override {
        if (msg.sender != address(_consortium())) revert NotConsortium(msg.sender);
    }

    function _consortium() internal view override returns (IConsortium) {
        return _s().consortium;
    }

    function _requireToken() private view returns (IDigitalCash token_) {
        token_ = _s().token;
        if (address(token_) == address(0)) revert TokenNotSet();
    }

    /// @dev Caller must be an operator of `bankId`, and that bank active. Unknown or inactive callers get
    ///      the Consortium's NotBankOperator / BankNotActive; an operator of another bank gets NotCustodian.
    function _requireBankOperator(bytes32 bankId, address wallet_) private view {
        bytes32 callerBank = _s().consortium.requireActiveOperator(msg.sender);
        if (callerBank != bankId) revert NotCustodian(msg.sender, wallet_, bankId);
    }

    function _open(IDigitalCash token_, address wallet_, bytes32 bankId, uint8 tier, WalletKind kind, bytes32 accountHash)
        private
    {
        if (wallet_ == address(0)) revert ZeroAddress();
        Wallet storage w = _s().wallets[wallet_];
        if (w.status != WalletStatus.None) revert WalletAlreadyRegistered(wallet_);
        if (kind == WalletKind.Personal) {
            if (tier == 0 || tier > MAX_TIER) revert InvalidTier(wallet_, tier);
        } else {
            tier = 1;
        }
        w.bankId = bankId;
        w.tier = tier;
        w.kind = kind;
        w.status = WalletStatus.Active;
        w.accountHash = accountHash;
        emit WalletOpened(wallet_, bankId, tier, kind, accountHash);
        token_.setWalletState(wallet_, uint8(WalletStatus.Active), _limitClass(w));
    }

    /// @dev A registered, not closed wallet.
    function _openWallet(address wallet_) private view returns (Wallet storage w) {
        w = _s().wallets[wallet_];
        if (w.status == WalletStatus.None) revert WalletNotRegistered(wallet_);
        if (w.status == WalletStatus.Closed) revert WalletIsClosed(wallet_);
    }

    function _isCustodian(Wallet storage w, address account) private view returns (bool) {
        return w.bankId != bytes32(0) && _s().consortium.isActiveOperator(w.bankId, account);
    }

    function _requireCustodian(Wallet storage w, address wallet_) private view {
        if (!_isCustodian(w, msg.sender)) revert NotCustodian(msg.sender, wallet_, w.bankId);
    }

    function _limitClass(Wallet storage w) private view returns (uint8) {
        if (w.kind == WalletKind.Merchant) return MERCHANT_CLASS;
        if (w.kind == WalletKind.System) return SYSTEM_CLASS;
        return w.tier;
    }

    /// @dev Push a wallet's status and limit class into the token (the wallet exists, so the token is set).
    function _push(address wallet_, Wallet storage w) private {
        _s().token.setWalletState(wallet_, uint8(w.status), _limitClass(w));
    }

    function _storeLimits(uint8 limitClass, Limits memory limits_) private {
        _s().limits[limitClass] = limits_;
        emit LimitsSet(limitClass, limits_.balanceCap, limits_.singlePaymentLimit, limits_.dailyOutflowLimit);
    }
}
