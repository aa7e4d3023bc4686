// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {NoncesUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/NoncesUpgradeable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {ConsortiumBound} from "./ConsortiumBound.sol";
import {IConsortium} from "./interfaces/IConsortium.sol";
import {IDigitalCash} from "./interfaces/IDigitalCash.sol";
import {IWalletRegistry} from "./interfaces/IWalletRegistry.sol";

/// @title DigitalCash
/// @notice walletnet's token: ERC-20 + EIP-2612 permit + EIP-3009 authorizations + ERC-5267 domain,
///         where every movement of value obeys the wallet registry (both sides registered and active,
///         tier limits) and the pause; with holds for ATM cash-out, redemption on the holder's signed
///         authorization, and a bank relay batch with Permit2-style bitmap nonces.
/// @dev Deployed behind an ERC1967 (UUPS) proxy; only the Consortium (an executed governance proposal)
///      may upgrade it.
///
///      ONE HOOK. Every change of a balance, a held balance or the total supply goes through `_update`
///      (transfer, transferFrom, EIP-3009, relay batch, mint, redemption, holds, closure and payout
///      burns). It checks, in this order: not paused (EnforcedPause); the paying side registered and
///      Active (WalletNotActive), its balance (ERC20InsufficientBalance), its single-payment limit and
///      its daily outflow limit; the receiving side registered and Active and its balance cap.
///      Mint checks only the receiver, burns only the payer. Value leaving a hold (capture, release)
///      was limit-checked when the hold was placed: only the pause and the holder's status are checked.
///      A closure burn is the registry's decision: only the pause is checked. `_update` never reverts:
///      it returns the custom error's revert data (empty on success) and writes nothing on failure,
///      so the relay batch can report a failed item and go on, while every other entry point reverts
///      with that data (`_updateOrRevert`).
///
///      STORAGE PACKING (what makes a checked transfer cost about what a plain ERC-20 transfer does).
///      One word per wallet, the status pushed by the registry living in the balance word as USDC
///      v2.2 keeps its blacklist flag there:
///        bits   0..103  balance     uint104 (max 2^104-1 minor units, about 2.0e31)
///        bits 104..207  spentToday  uint104 outflow on day `day` (saturates at 2^104-1)
///        bits 208..231  day         uint24  UTC day number (block.timestamp / 86400) of spentToday
///        bits 232..239  status      uint8   IWalletRegistry.WalletStatus (0 none, 1 active, 2 frozen, 3 closed)
///        bits 240..247  limitClass  uint8   1..4 personal tiers, 5 merchant, 6 system (0 = none)
///        bit  248       hasHolds    set while the wallet has money on hold
///      One word per limit class (0..6):
///        bits   0..79   balanceCap          uint80
///        bits  80..159  singlePaymentLimit  uint80
///        bits 160..239  dailyOutflowLimit   uint80
///        bit  255       paused (the same bit in every class word, so reading the payer's or the
///                       receiver's limits reads the pause for free; `pause` writes all seven words)
///      A transfer therefore reads four words besides the proxy's implementation slot: the two
///      wallet words and the class words of the two sides (one word if both are in the same class),
///      and writes the two wallet words.
///      A limit of 2^80-1 means unlimited: `setLimits` stores any value >= 2^80-1 (type(uint256).max
///      in particular) as unlimited, and the views report unlimited as type(uint256).max.
///      totalSupply (low 128 bits) and totalHeld (high 128 bits) share one word.
///      A mint larger than 2^104-1 reverts AmountTooLarge; a credit that would take a balance past
///      2^104-1 reverts BalanceOverflow; a mint that would take the supply past 2^128-1 reverts
///      SupplyOverflow. Balance caps count money on hold (the cap bounds what a wallet owns), read
///      only for wallets that have holds.
///
///      HOLDS. Placing a hold moves value from the holder's spendable balance (balanceOf) to its held
///      balance (heldBalance); held money stays in totalSupply. In ERC-20 terms the token contract
///      itself is the escrow: placeHold emits Transfer(holder, token, v), capture Transfer(token, 0, v),
///      release Transfer(token, holder, v), and balanceOf(token) reports totalHeld, so the Transfer
///      events and balanceOf always sum to totalSupply. A hold counts toward the holder's daily
///      outflow and single-payment limit when placed; releasing it does NOT give the daily allowance
///      back (as card networks do: simple, and a place/release loop cannot widen the limit).
///      Hold ids share the per-signer EIP-3009 nonce namespace (authorizationState), so a signed hold
///      cannot be replayed, and are unique network-wide (HoldAlreadyExists).
///
///      NONCES. EIP-3009 random bytes32 nonces, hold ids and redemption nonces: one mapping
///      (authorizer => nonce => used); a fresh nonce costs a zero-to-nonzero SSTORE (about 22,100 gas).
///      The relay batch uses uint256 nonces in a Permit2-style bitmap (256 nonces per storage word),
///      so a wallet that signs consecutive nonces pays the zero-to-nonzero write once per 256 payments.
///      EIP-2612 permit uses OpenZeppelin's sequential Nonces.
///
///      EIP-712 is implemented here (a few lines) rather than by inheriting EIP712Upgradeable, whose
///      domain separator loads and hashes the name and version strings from storage on every use:
///      the domain is the standard one (name, version "1", chainId, verifyingContract) but the name's
///      hash is cached at initialisation, one SLOAD per signed call (about 2,000 gas less per
///      authorization), and the contract does not depend on the import graph of OpenZeppelin's
///      MessageHashUtils (whose newer versions pull in `mcopy`, unavailable on the `paris` target).
contract DigitalCash is
    ConsortiumBound,
    NoncesUpgradeable,
    IDigitalCash,
    IERC20Metadata,
    IERC20Permit,
    IERC5267,
    IERC20Errors
{
    // ------------------------------------------------------------------ errors added to IDigitalCash's

    /// @notice The token is paused (OpenZeppelin Pausable's name).
    error EnforcedPause();
    /// @notice `unpause` while not paused (OpenZeppelin Pausable's name).
    error ExpectedPause();
    /// @notice Only the Consortium (an executed governance proposal) may upgrade the token.
    error NotGovernance(address caller);
    /// @notice A required address is zero.
    error ZeroAddress();
    /// @notice `setWalletState` with a status outside IWalletRegistry.WalletStatus (0..3).
    error InvalidWalletStatus(uint8 status);
    /// @notice Another hold already uses `holdId` (hold ids are unique network-wide).
    error HoldAlreadyExists(bytes32 holdId);
    /// @notice A mint larger than a balance can hold (2^104-1 minor units).
    error AmountTooLarge(uint256 amount, uint256 max);
    /// @notice The credit would take `wallet`'s balance past the packed width (2^104-1).
    error BalanceOverflow(address wallet, uint256 balanceAfter, uint256 max);
    /// @notice The mint would take the total supply past the packed width (2^128-1).
    error SupplyOverflow(uint256 supplyAfter, uint256 max);
    /// @notice EIP-2612 permit past its deadline (OpenZeppelin ERC20Permit's name).
    error ERC2612ExpiredSignature(uint256 deadline);
    /// @notice EIP-2612 permit not signed by `owner` (OpenZeppelin ERC20Permit's name).
    error ERC2612InvalidSigner(address signer, address owner);
    /// @notice `bankId` already minted under `ref`: a mint's off-chain event is minted once.
    error RefAlreadyMinted(bytes32 bankId, bytes32 ref);
    /// @notice `bankId` already burned under `ref` (a redemption, or a settlement payout of its merchant).
    error RefAlreadyBurned(bytes32 bankId, bytes32 ref);

    // ------------------------------------------------------------------ events added

    /// @notice The network operator paused all movements of value.
    event Paused(address account);
    /// @notice The network operator lifted the pause.
    event Unpaused(address account);

    // ------------------------------------------------------------------ storage

    /// @dev A hold: holder, expiry and status in one word, the amount in the next.
    struct HoldRecord {
        address holder;
        uint88 expiresAt; // clamped to 2^88-1 (never, for any practical purpose)
        HoldStatus status;
        uint256 amount;
    }

    /// @custom:storage-location erc7201:walletnet.storage.DigitalCash
    struct DigitalCashStorage {
        address consortium;
        uint8 decimals;
        address registry;
        address settlement;
        bytes32 nameHash; // keccak256(name): the EIP-712 domain's name hash, cached
        uint256 totals; // totalSupply (low 128 bits) | totalHeld (high 128 bits)
        string name; // token name = EIP-712 domain name
        string symbol;
        mapping(address wallet => uint256) wallets; // packed wallet words (see the packing notes on the contract)
        mapping(uint256 limitClass => uint256) limitWords; // packed limits + pause bit, classes 0..6 (0: pause only)
        mapping(address owner => mapping(address spender => uint256)) allowances;
        mapping(address wallet => uint256) held;
        mapping(bytes32 holdId => HoldRecord) holds;
        mapping(address authorizer => mapping(bytes32 nonce => bool)) authorizations;
        mapping(address owner => mapping(uint256 wordPos => uint256)) nonceBitmaps;
        mapping(bytes32 bankId => mapping(bytes32 ref => bool)) mintedRefs; // refs each bank minted under
        mapping(bytes32 bankId => mapping(bytes32 ref => bool)) burnedRefs; // redemption and payout refs, per bank
    }

    // keccak256(abi.encode(uint256(keccak256("walletnet.storage.DigitalCash")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant DIGITAL_CASH_STORAGE = 0xcf30720f323d9b7d59c9a4cc5acefa2ea9c41416846268feb151ffce42098a00;

    // ------------------------------------------------------------------ constants

    bytes32 private constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    string private constant EIP712_VERSION = "1";
    bytes32 private constant EIP712_VERSION_HASH = keccak256("1");

    /// @notice EIP-712 type hash of EIP-3009's TransferWithAuthorization.
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    /// @notice EIP-712 type hash of EIP-3009's ReceiveWithAuthorization (also a merchant payment).
    bytes32 public constant RECEIVE_WITH_AUTHORIZATION_TYPEHASH = keccak256(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"
    );
    /// @notice EIP-712 type hash of EIP-3009's CancelAuthorization.
    bytes32 public constant CANCEL_AUTHORIZATION_TYPEHASH = keccak256("CancelAuthorization(address authorizer,bytes32 nonce)");
    /// @notice EIP-712 type hash of EIP-2612's Permit.
    bytes32 public constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    /// @notice EIP-712 type hash of a RelayedTransfer (relay batch item, bitmap nonce).
    bytes32 public constant RELAYED_TRANSFER_TYPEHASH =
        keccak256("RelayedTransfer(address from,address to,uint256 value,uint256 validBefore,uint256 nonce)");
    /// @notice EIP-712 type hash of a Hold (ATM cash-out authorisation).
    bytes32 public constant HOLD_TYPEHASH = keccak256("Hold(address holder,uint256 value,bytes32 holdId,uint256 expiresAt)");
    /// @notice EIP-712 type hash of a Redemption (burn for payout to the bank account).
    bytes32 public constant REDEMPTION_TYPEHASH =
        keccak256("Redemption(address holder,uint256 value,uint256 validBefore,bytes32 nonce)");

    /// @notice Largest balance (and spentToday) the packed wallet word holds: 2^104-1 minor units.
    uint256 public constant MAX_BALANCE = (1 << 104) - 1;
    /// @dev Largest total supply / total held: 2^128-1.
    uint256 private constant MAX_TOTAL = (1 << 128) - 1;
    /// @dev Packed limit meaning "unlimited" (2^80-1).
    uint256 private constant UNLIMITED = (1 << 80) - 1;

    uint256 private constant SPENT_SHIFT = 104;
    uint256 private constant DAY_SHIFT = 208;
    uint256 private constant DAY_MASK = 0xffffff;
    uint256 private constant STATUS_SHIFT = 232;
    uint256 private constant CLASS_SHIFT = 240;
    uint256 private constant HAS_HOLDS = 1 << 248;
    /// @dev balance | spentToday | day: the fields a debit rewrites.
    uint256 private constant ACTIVITY_MASK = (1 << 232) - 1;

    uint256 private constant SINGLE_SHIFT = 80;
    uint256 private constant DAILY_SHIFT = 160;
    uint256 private constant PAUSED_BIT = 1 << 255;

    uint8 private constant STATUS_ACTIVE = 1; // IWalletRegistry.WalletStatus.Active
    uint8 private constant STATUS_FROZEN = 2; // IWalletRegistry.WalletStatus.Frozen
    uint8 private constant MAX_STATUS = 3; // IWalletRegistry.WalletStatus.Closed
    uint8 private constant MAX_LIMIT_CLASS = 6;
    uint8 private constant SYSTEM_CLASS = 6; // IWalletRegistry: system wallets, the settlement contract among them

    /// @dev What `_update` does with `value`.
    enum Flow {
        Transfer, // from's spendable -> to's spendable
        Mint, // new money -> to's spendable
        Burn, // from's spendable -> destroyed (redemption, settlement payout)
        Hold, // from's spendable -> from's held
        Capture, // from's held -> destroyed
        Release, // from's held -> from's spendable
        Closure // from's whole spendable -> destroyed (wallet closure)
    }

    /// @notice Initialise the proxy.
    /// @param name_ token name, also the EIP-712 domain name (version "1")
    /// @param symbol_ token symbol
    /// @param decimals_ decimals of the minor unit (2 for cents)
    /// @param consortium_ the Consortium (roles, quotas, governance)
    /// @param registry_ the WalletRegistry (pushes wallet states and limits)
    /// @dev Requirements: not initialised yet (InvalidInitialization); consortium_ and registry_ not zero
    ///      (ZeroAddress). Until the registry pushes limits every limit is zero, so nothing moves.
    ///      Emits Initialized(1).
    function initialize(
        string calldata name_,
        string calldata symbol_,
        uint8 decimals_,
        address consortium_,
        address registry_
    ) external initializer {
        if (consortium_ == address(0) || registry_ == address(0)) revert ZeroAddress();
        DigitalCashStorage storage $ = _s();
        $.name = name_;
        $.consortium = consortium_;
        $.decimals = decimals_;
        $.registry = registry_;
        $.symbol = symbol_;
        $.nameHash = keccak256(bytes(name_));
    }

    // ================================================================== ERC-20

    /// @notice The token name (also the EIP-712 domain name).
    function name() external view returns (string memory) {
        return _s().name;
    }

    /// @notice The token symbol.
    function symbol() external view returns (string memory) {
        return _s().symbol;
    }

    /// @notice Decimals: amounts are in minor units, 10^decimals of them per major unit.
    function decimals() external view returns (uint8) {
        return _s().decimals;
    }

    /// @notice All money in existence: spendable balances plus money on hold.
    function totalSupply() external view returns (uint256) {
        return _s().totals & MAX_TOTAL;
    }

    /// @notice Spendable balance of `account` (money on hold excluded, see heldBalance); for the token
    ///         contract itself, the total held (the holds' escrow).
    function balanceOf(address account) external view returns (uint256) {
        if (account == address(this)) return _s().totals >> 128;
        return _s().wallets[account] & MAX_BALANCE;
    }

    /// @notice What `spender` may still transfer from `owner`.
    function allowance(address owner, address spender) external view returns (uint256) {
        return _s().allowances[owner][spender];
    }

    /// @notice Transfer `value` from the caller to `to`.
    /// @dev Requirements, in this order: not paused (EnforcedPause); caller registered and Active
    ///      (WalletNotActive); caller's balance (ERC20InsufficientBalance), single-payment limit
    ///      (SinglePaymentLimitExceeded) and daily outflow limit (DailyOutflowLimitExceeded); `to`
    ///      registered and Active (WalletNotActive; ERC20InvalidReceiver for zero); `to` is not the
    ///      settlement contract (DirectTransferToSettlement: money reaches it only through its own
    ///      receiveWithAuthorization); `to`'s balance cap, money on hold included (BalanceCapExceeded).
    ///      Emits Transfer.
    function transfer(address to, uint256 value) external returns (bool) {
        _updateOrRevert(msg.sender, to, value, Flow.Transfer);
        return true;
    }

    /// @notice Let `spender` transfer up to `value` of the caller's money.
    /// @dev Requirements: spender not zero. Allowed while paused (an approval moves no value).
    ///      Emits Approval.
    function approve(address spender, uint256 value) external returns (bool) {
        _approve(msg.sender, spender, value);
        return true;
    }

    /// @notice Transfer `value` from `from` to `to` out of the caller's allowance.
    /// @dev Requirements: allowance >= value (type(uint256).max is never decreased); then as transfer.
    ///      Emits Transfer.
    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        DigitalCashStorage storage $ = _s();
        uint256 current = $.allowances[from][msg.sender];
        if (current != type(uint256).max) {
            if (current < value) revert ERC20InsufficientAllowance(msg.sender, current, value);
            unchecked {
                $.allowances[from][msg.sender] = current - value;
            }
        }
        _updateOrRevert(from, to, value, Flow.Transfer);
        return true;
    }

    // ================================================================== EIP-2612 / ERC-5267

    /// @notice Approve by the owner's EIP-712 signature (EIP-2612).
    /// @dev Requirements: block.timestamp <= deadline (ERC2612ExpiredSignature); signed by `owner` with
    ///      its current nonce (ERC2612InvalidSigner). Consumes the nonce. Emits Approval.
    function permit(address owner, address spender, uint256 value, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        if (block.timestamp > deadline) revert ERC2612ExpiredSignature(deadline);
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, _useNonce(owner), deadline));
        (address signer, ECDSA.RecoverError recoverError,) = ECDSA.tryRecover(_hashTypedData(structHash), v, r, s);
        if (recoverError != ECDSA.RecoverError.NoError || signer != owner) revert ERC2612InvalidSigner(signer, owner);
        _approve(owner, spender, value);
    }

    /// @notice The next EIP-2612 permit nonce of `owner`.
    function nonces(address owner) public view override(IERC20Permit, NoncesUpgradeable) returns (uint256) {
        return super.nonces(owner);
    }

    /// @notice The EIP-712 domain separator (name = token name, version "1", chain id, this address).
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparator();
    }

    /// @notice The EIP-712 domain (ERC-5267): name = token name, version "1", chain id, this address.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name_,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", _s().name, EIP712_VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    // ================================================================== EIP-3009

    /// @notice Execute a transfer signed by `from` (EIP-3009); anyone may submit it.
    /// @dev Requirements: validAfter < block.timestamp (AuthorizationNotYetValid) < validBefore
    ///      (AuthorizationExpired); nonce unused (AuthorizationAlreadyUsed); signed by `from`
    ///      (InvalidSignature); then as transfer from `from`. A failed transfer leaves the nonce unused.
    ///      Emits AuthorizationUsed and Transfer.
    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        _checkWindow(validAfter, validBefore);
        bytes32 structHash =
            keccak256(abi.encode(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce));
        _useAuthorization(from, nonce, structHash, v, r, s);
        _updateOrRevert(from, to, value, Flow.Transfer);
    }

    /// @notice Execute a transfer signed by `from`, submitted by the payee `to` itself (EIP-3009),
    ///         so a front-runner cannot use the authorization without the payee's own logic running.
    /// @dev Requirements: msg.sender == to (CallerMustBePayee); otherwise as transferWithAuthorization.
    ///      Emits AuthorizationUsed and Transfer.
    function receiveWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        if (to != msg.sender) revert CallerMustBePayee(msg.sender, to);
        _checkWindow(validAfter, validBefore);
        bytes32 structHash =
            keccak256(abi.encode(RECEIVE_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce));
        _useAuthorization(from, nonce, structHash, v, r, s);
        _updateOrRevert(from, to, value, Flow.Transfer);
    }

    /// @notice Cancel an unused authorization (EIP-3009 nonce, hold id or redemption nonce) by the
    ///         authorizer's signature.
    /// @dev Requirements: nonce unused (AuthorizationAlreadyUsed); signed by `authorizer`
    ///      (InvalidSignature). Allowed while paused (it moves no value). Emits AuthorizationCanceled.
    function cancelAuthorization(address authorizer, bytes32 nonce, uint8 v, bytes32 r, bytes32 s) external {
        _requireUnusedAuthorization(authorizer, nonce);
        _requireSigner(authorizer, keccak256(abi.encode(CANCEL_AUTHORIZATION_TYPEHASH, authorizer, nonce)), v, r, s);
        _s().authorizations[authorizer][nonce] = true;
        emit AuthorizationCanceled(authorizer, nonce);
    }

    /// @notice True if `nonce` of `authorizer` was used or cancelled (EIP-3009 nonces, hold ids and
    ///         redemption nonces share this namespace).
    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _s().authorizations[authorizer][nonce];
    }

    // ================================================================== bank relay path

    /// @notice Submit many signed RelayedTransfers in one transaction (caller: an active bank
    ///         operator). A failing item is skipped and reported; the others go through.
    /// @dev Requirements for the batch: caller is an operator of an active bank (the Consortium's
    ///      NotBankOperator / BankNotActive); not paused (EnforcedPause: the whole batch reverts).
    ///      Per item, in order: block.timestamp < validBefore (AuthorizationExpired); bitmap nonce
    ///      unused (UnorderedNonceUsed); signed by `from` (InvalidSignature); every transfer check.
    ///      A failed item changes nothing (its nonce stays unused, so a corrected retry is possible
    ///      until validBefore) and emits RelayFailed(index, from, nonce, the custom error's revert data).
    ///      A successful one marks its nonce used and emits Transfer.
    /// @return succeeded the number of items executed.
    function relayTransfers(RelayedTransfer[] calldata items) external returns (uint256 succeeded) {
        DigitalCashStorage storage $ = _s();
        IConsortium($.consortium).requireActiveOperator(msg.sender);
        if ($.limitWords[0] & PAUSED_BIT != 0) revert EnforcedPause();
        bytes32 domain = _domainSeparator();
        uint256 n = items.length;
        for (uint256 i; i < n; ++i) {
            RelayedTransfer calldata item = items[i];
            bytes memory err = _relayOne($, domain, item);
            if (err.length == 0) {
                ++succeeded;
            } else {
                emit RelayFailed(i, item.from, item.nonce, err);
            }
        }
    }

    /// @notice The relay nonce bitmap word `wordPos` of `owner`: bit b set = nonce (wordPos << 8 | b) used.
    function nonceBitmap(address owner, uint256 wordPos) external view returns (uint256) {
        return _s().nonceBitmaps[owner][wordPos];
    }

    // ================================================================== issuance

    /// @notice Mint `amount` to `wallet`; `ref` is the off-chain event id (ATM cash-in, top-up), minted
    ///         at most once per bank: a bank node restored from an older backup cannot mint an event twice.
    /// @dev Requirements: caller is an active operator of the wallet's custodian bank
    ///      (NotCustodianOperator); the bank has not minted under `ref` yet (RefAlreadyMinted); amount > 0
    ///      (ZeroAmount) and <= MAX_BALANCE (AmountTooLarge); not paused; wallet Active; wallet's balance
    ///      cap; within the bank's quota (the Consortium's QuotaExceeded). Records +amount as the bank's
    ///      issuance and `ref` as used. Emits Transfer(0, wallet) and Minted.
    function mint(address wallet, uint256 amount, bytes32 ref) external {
        _mint(wallet, amount, ref);
    }

    /// @notice Mint every item as `mint` would, in one transaction (ATM cash-ins and top-ups of one writer
    ///         round); all or nothing: a refused item reverts the whole batch with that item's error.
    /// @dev Same requirements and events per item as `mint`. An empty batch does nothing.
    function mintBatch(MintItem[] calldata items) external {
        for (uint256 i = 0; i < items.length; ++i) {
            _mint(items[i].wallet, items[i].amount, items[i].ref);
        }
    }

    function _mint(address wallet, uint256 amount, bytes32 ref) private {
        bytes32 bankId = _requireCustodianOperator(wallet);
        mapping(bytes32 => bool) storage minted = _s().mintedRefs[bankId];
        if (minted[ref]) revert RefAlreadyMinted(bankId, ref);
        minted[ref] = true;
        if (amount == 0) revert ZeroAmount();
        if (amount > MAX_BALANCE) revert AmountTooLarge(amount, MAX_BALANCE);
        _updateOrRevert(address(0), wallet, amount, Flow.Mint);
        IConsortium(_s().consortium).recordIssuance(bankId, int256(amount));
        emit Minted(wallet, bankId, amount, ref);
    }

    /// @notice Burn `value` from `holder` on the holder's signed Redemption, for payout to its bank
    ///         account; `ref` is the off-chain redemption id, burned at most once per bank.
    /// @dev Requirements: caller is an active operator of the holder's custodian bank; the bank has not
    ///      burned under `ref` yet (RefAlreadyBurned, checked before the authorization so a replay says so
    ///      even after the signature expired); value > 0; block.timestamp < validBefore; nonce unused;
    ///      signed by `holder`; not paused; holder Active; its balance, single-payment and daily outflow
    ///      limits. Records -value as the custodian's issuance and `ref` as used.
    ///      Emits AuthorizationUsed, Transfer(holder, 0) and Burned(reason Redemption).
    function redeemWithAuthorization(
        address holder,
        uint256 value,
        uint256 validBefore,
        bytes32 nonce,
        bytes32 ref,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        bytes32 bankId = _requireCustodianOperator(holder);
        _useBurnRef(bankId, ref);
        if (value == 0) revert ZeroAmount();
        if (block.timestamp >= validBefore) revert AuthorizationExpired(validBefore);
        _useAuthorization(holder, nonce, keccak256(abi.encode(REDEMPTION_TYPEHASH, holder, value, validBefore, nonce)), v, r, s);
        _burn(holder, value, bankId, ref, Flow.Burn, BurnReason.Redemption);
    }

    /// @notice Burn a closing wallet's whole balance for payout to its bound account (registry only).
    /// @dev Requirements: caller is the registry (NotRegistry); no money on hold (HoldsOutstanding);
    ///      not paused. The wallet's status and limits are not checked: closing is the registry's
    ///      decision. A zero balance burns nothing and emits nothing. Records -burned as `bankId`'s
    ///      issuance. Emits Transfer(wallet, 0) and Burned(reason WalletClosure).
    /// @return burned the balance burned
    function burnForClosure(address wallet, bytes32 bankId, bytes32 ref) external returns (uint256 burned) {
        DigitalCashStorage storage $ = _s();
        if (msg.sender != $.registry) revert NotRegistry(msg.sender);
        uint256 word = $.wallets[wallet];
        if (word & HAS_HOLDS != 0) revert HoldsOutstanding(wallet, $.held[wallet]);
        burned = word & MAX_BALANCE;
        if (burned != 0) _burn(wallet, burned, bankId, ref, Flow.Closure, BurnReason.WalletClosure);
    }

    /// @notice Burn `amount` of the settlement contract's own balance for a merchant's bank payout,
    ///         attributed to the acquirer `bankId`; `ref` (the settlement's) is burned at most once per bank.
    /// @dev Requirements: caller is the settlement contract (NotSettlement); `bankId` has not burned under
    ///      `ref` yet (RefAlreadyBurned); amount > 0; not paused; settlement wallet Active; its balance and
    ///      limits. Records -amount as `bankId`'s issuance and `ref` as used.
    ///      Emits Transfer(settlement, 0) and Burned(reason SettlementPayout).
    function burnForPayout(uint256 amount, bytes32 bankId, bytes32 ref) external {
        if (msg.sender != _s().settlement) revert NotSettlement(msg.sender);
        _useBurnRef(bankId, ref);
        if (amount == 0) revert ZeroAmount();
        _burn(msg.sender, amount, bankId, ref, Flow.Burn, BurnReason.SettlementPayout);
    }

    // ================================================================== holds

    /// @notice Put `value` of `holder`'s money on hold on the holder's signed Hold (ATM cash-out).
    /// @dev Requirements: caller is an active operator of the holder's custodian bank; value > 0;
    ///      block.timestamp < expiresAt (AuthorizationExpired: the expiry doubles as the signature's
    ///      deadline); holdId unused by the holder (AuthorizationAlreadyUsed) and by anyone
    ///      (HoldAlreadyExists); signed by `holder`; not paused; holder Active; its balance,
    ///      single-payment and daily outflow limits (the hold counts as outflow; a release does not
    ///      give it back). Emits AuthorizationUsed, Transfer(holder, token) and HoldPlaced.
    function placeHold(address holder, uint256 value, bytes32 holdId, uint256 expiresAt, uint8 v, bytes32 r, bytes32 s)
        external
    {
        _requireCustodianOperator(holder);
        if (value == 0) revert ZeroAmount();
        if (block.timestamp >= expiresAt) revert AuthorizationExpired(expiresAt);
        _requireUnusedAuthorization(holder, holdId);
        HoldRecord storage h = _s().holds[holdId];
        if (h.holder != address(0)) revert HoldAlreadyExists(holdId);
        _useAuthorization(holder, holdId, keccak256(abi.encode(HOLD_TYPEHASH, holder, value, holdId, expiresAt)), v, r, s);
        _updateOrRevert(holder, holder, value, Flow.Hold);
        h.holder = holder;
        h.expiresAt = expiresAt > type(uint88).max ? type(uint88).max : uint88(expiresAt);
        h.status = HoldStatus.Held;
        h.amount = value;
        emit HoldPlaced(holdId, holder, value, expiresAt);
    }

    /// @notice Burn held money after the ATM dispensed it; `ref` is the ATM's dispense event id.
    /// @dev Requirements: hold exists (UnknownHold) and is Held (HoldNotActive); caller is an active
    ///      operator of the holder's custodian bank; not paused; holder Active or Frozen (a freeze after
    ///      the ATM dispensed must not block the capture). Allowed after expiry as long as nobody
    ///      released it. Records -amount as the custodian's issuance.
    ///      Emits Transfer(token, 0), HoldCaptured and Burned(reason HoldCapture).
    function captureHold(bytes32 holdId, bytes32 ref) external {
        HoldRecord storage h = _activeHold(holdId);
        address holder = h.holder;
        bytes32 bankId = _requireCustodianOperator(holder);
        uint256 amount = h.amount;
        h.status = HoldStatus.Captured;
        _updateOrRevert(holder, address(0), amount, Flow.Capture);
        IConsortium(_s().consortium).recordIssuance(bankId, -int256(amount));
        emit HoldCaptured(holdId, holder, amount, ref);
        emit Burned(holder, bankId, amount, ref, BurnReason.HoldCapture);
    }

    /// @notice Return held money to the holder's spendable balance: by the custodian bank at any time
    ///         (ATM reversal), by the holder itself once the hold has expired.
    /// @dev Requirements: hold exists and is Held; caller is an active operator of the holder's
    ///      custodian bank, or the holder with block.timestamp >= expiresAt (HoldNotExpired); not
    ///      paused; holder Active or Frozen (released money stays frozen in the balance). No cap check
    ///      (caps already count held money). The daily allowance
    ///      used by the hold is not given back. Emits Transfer(token, holder) and HoldReleased.
    function releaseHold(bytes32 holdId) external {
        HoldRecord storage h = _activeHold(holdId);
        address holder = h.holder;
        if (msg.sender == holder) {
            uint256 expiresAt = h.expiresAt;
            if (block.timestamp < expiresAt) revert HoldNotExpired(holdId, expiresAt);
        } else {
            _requireCustodianOperator(holder);
        }
        uint256 amount = h.amount;
        h.status = HoldStatus.Released;
        _updateOrRevert(holder, holder, amount, Flow.Release);
        emit HoldReleased(holdId, holder, amount, msg.sender);
    }

    /// @notice A hold's record (all zero, status None, if unknown).
    function holdOf(bytes32 holdId) external view returns (HoldInfo memory) {
        HoldRecord storage h = _s().holds[holdId];
        return HoldInfo({holder: h.holder, amount: h.amount, expiresAt: h.expiresAt, status: h.status});
    }

    /// @notice True once `bankId` minted under `ref` (a second mint under it reverts RefAlreadyMinted).
    function refMinted(bytes32 bankId, bytes32 ref) external view returns (bool) {
        return _s().mintedRefs[bankId][ref];
    }

    /// @notice True once `bankId` burned under `ref` in a redemption or a settlement payout (a second
    ///         such burn reverts RefAlreadyBurned).
    function refBurned(bytes32 bankId, bytes32 ref) external view returns (bool) {
        return _s().burnedRefs[bankId][ref];
    }

    /// @notice Money of `wallet` on hold (not in balanceOf, still in totalSupply).
    function heldBalance(address wallet) external view returns (uint256) {
        return _s().held[wallet];
    }

    /// @notice All money on hold.
    function totalHeld() external view returns (uint256) {
        return _s().totals >> 128;
    }

    // ================================================================== registry / settlement hooks

    /// @notice Record a wallet's status and limit class as the registry decided them (registry only).
    /// @dev Requirements: caller is the registry; status 0..3 (InvalidWalletStatus); limitClass 0..6,
    ///      and not 0 unless status is None (InvalidLimitClass). Balance, holds and today's outflow
    ///      are kept (a tier change applies the new limits to what was already spent today).
    ///      Emits WalletStateSet.
    function setWalletState(address wallet, uint8 status, uint8 limitClass) external {
        DigitalCashStorage storage $ = _s();
        if (msg.sender != $.registry) revert NotRegistry(msg.sender);
        if (status > MAX_STATUS) revert InvalidWalletStatus(status);
        if (limitClass > MAX_LIMIT_CLASS || (limitClass == 0 && status != 0)) revert InvalidLimitClass(limitClass);
        uint256 word = $.wallets[wallet];
        word = (word & (ACTIVITY_MASK | HAS_HOLDS)) | (uint256(status) << STATUS_SHIFT)
            | (uint256(limitClass) << CLASS_SHIFT);
        $.wallets[wallet] = word;
        emit WalletStateSet(wallet, status, limitClass);
    }

    /// @notice Set a limit class's limits (registry only). Values >= 2^80-1, type(uint256).max in
    ///         particular, mean unlimited.
    /// @dev Requirements: caller is the registry; limitClass 1..6 (InvalidLimitClass). Emits LimitsSet
    ///      with the limits as stored (unlimited reported as type(uint256).max).
    function setLimits(uint8 limitClass, uint256 balanceCap, uint256 singlePaymentLimit, uint256 dailyOutflowLimit)
        external
    {
        DigitalCashStorage storage $ = _s();
        if (msg.sender != $.registry) revert NotRegistry(msg.sender);
        if (limitClass == 0 || limitClass > MAX_LIMIT_CLASS) revert InvalidLimitClass(limitClass);
        uint256 word = ($.limitWords[limitClass] & PAUSED_BIT) | _pack80(balanceCap)
            | (_pack80(singlePaymentLimit) << SINGLE_SHIFT) | (_pack80(dailyOutflowLimit) << DAILY_SHIFT);
        $.limitWords[limitClass] = word;
        (uint256 cap, uint256 single, uint256 daily) = _unpackLimits(word);
        emit LimitsSet(limitClass, cap, single, daily);
    }

    /// @notice Wire the MerchantSettlement contract; once, by the network operator.
    /// @dev Requirements: caller is the network operator; not set yet (SettlementAlreadySet); not zero.
    ///      The registry must also open it as an active system wallet. Emits SettlementSet.
    function setSettlement(address settlement_) external onlyNetworkOperator {
        DigitalCashStorage storage $ = _s();
        if ($.settlement != address(0)) revert SettlementAlreadySet($.settlement);
        if (settlement_ == address(0)) revert ZeroAddress();
        $.settlement = settlement_;
        emit SettlementSet(settlement_);
    }

    // ================================================================== pause

    /// @notice Stop every movement of value (transfers, authorizations, relays, mints, burns, holds).
    /// @dev Requirements: caller is the network operator; not paused (EnforcedPause). Emits Paused.
    function pause() external onlyNetworkOperator {
        if (_paused()) revert EnforcedPause();
        _setPauseBit(true);
        emit Paused(msg.sender);
    }

    /// @notice Lift the pause.
    /// @dev Requirements: caller is the network operator; paused (ExpectedPause). Emits Unpaused.
    function unpause() external onlyNetworkOperator {
        if (!_paused()) revert ExpectedPause();
        _setPauseBit(false);
        emit Unpaused(msg.sender);
    }

    /// @notice True while paused.
    function paused() external view returns (bool) {
        return _paused();
    }

    // ================================================================== views

    /// @notice A wallet's state as the token holds it.
    /// @return status WalletStatus value, limitClass, day (UTC day number of spentToday), spentToday
    function walletState(address wallet)
        external
        view
        returns (uint8 status, uint8 limitClass, uint256 day, uint256 spentToday)
    {
        uint256 word = _s().wallets[wallet];
        status = uint8(word >> STATUS_SHIFT);
        limitClass = uint8(word >> CLASS_SHIFT);
        day = (word >> DAY_SHIFT) & DAY_MASK;
        spentToday = (word >> SPENT_SHIFT) & MAX_BALANCE;
    }

    /// @notice What `wallet` may still pay out today under its daily outflow limit
    ///         (type(uint256).max if unlimited; 0 if the limit was lowered below today's outflow).
    function remainingDailyAllowance(address wallet) external view returns (uint256) {
        DigitalCashStorage storage $ = _s();
        uint256 word = $.wallets[wallet];
        uint256 daily = ($.limitWords[(word >> CLASS_SHIFT) & 0xff] >> DAILY_SHIFT) & UNLIMITED;
        if (daily == UNLIMITED) return type(uint256).max;
        uint256 spent = _spentToday(word);
        return spent >= daily ? 0 : daily - spent;
    }

    /// @notice The limits of a limit class (type(uint256).max = unlimited).
    function limits(uint8 limitClass)
        external
        view
        returns (uint256 balanceCap, uint256 singlePaymentLimit, uint256 dailyOutflowLimit)
    {
        return _unpackLimits(_s().limitWords[limitClass]);
    }

    /// @notice The Consortium contract.
    function consortium() external view returns (address) {
        return _s().consortium;
    }

    /// @notice The WalletRegistry contract.
    function registry() external view returns (address) {
        return _s().registry;
    }

    /// @notice The MerchantSettlement contract (zero until set).
    function settlement() external view returns (address) {
        return _s().settlement;
    }

    // ================================================================== the hook

    /// @dev THE hook: every movement of value. Returns the custom error's revert data and writes
    ///      nothing if a check fails; returns empty bytes after applying the movement and emitting
    ///      Transfer. The contract's notes list the checks per flow.
    function _update(address from, address to, uint256 value, Flow flow) private returns (bytes memory err) {
        DigitalCashStorage storage $ = _s();
        if (flow == Flow.Mint) return _mint($, to, value);

        // Every other flow takes value from `from`.
        uint256 fromWord = $.wallets[from];
        uint256 fromLimits = $.limitWords[uint8(fromWord >> CLASS_SHIFT)];
        if (fromLimits & PAUSED_BIT != 0) return abi.encodeWithSelector(EnforcedPause.selector);
        if (flow == Flow.Closure) return _closure($, from, fromWord, value);
        if (flow == Flow.Capture || flow == Flow.Release) {
            // A hold reserved its money before any later freeze: the ATM may already have dispensed, so
            // settling the hold must not wait for an unfreeze. Released money stays frozen in the balance.
            uint8 status = uint8(fromWord >> STATUS_SHIFT);
            if (status != STATUS_ACTIVE && status != STATUS_FROZEN) return _inactive(from, fromWord, true);
            return _fromHeld($, from, fromWord, value, flow);
        }
        if (uint8(fromWord >> STATUS_SHIFT) != STATUS_ACTIVE) return _inactive(from, fromWord, true);

        // Debit `from`'s spendable balance: balance, single-payment limit, daily outflow limit.
        unchecked {
            uint256 balance = fromWord & MAX_BALANCE;
            if (value > balance) {
                return abi.encodeWithSelector(ERC20InsufficientBalance.selector, from, balance, value);
            }
            uint256 limit = (fromLimits >> SINGLE_SHIFT) & UNLIMITED;
            if (value > limit && limit != UNLIMITED) {
                return abi.encodeWithSelector(SinglePaymentLimitExceeded.selector, from, value, limit);
            }
            uint256 today = (block.timestamp / 1 days) & DAY_MASK;
            uint256 spent = ((fromWord >> DAY_SHIFT) & DAY_MASK) == today ? (fromWord >> SPENT_SHIFT) & MAX_BALANCE : 0;
            limit = (fromLimits >> DAILY_SHIFT) & UNLIMITED;
            // spent, value < 2^104: no overflow
            if (spent + value > limit && limit != UNLIMITED) {
                return abi.encodeWithSelector(DailyOutflowLimitExceeded.selector, from, spent, value, limit);
            }
            spent += value;
            if (spent > MAX_BALANCE) spent = MAX_BALANCE;
            fromWord = (fromWord & ~ACTIVITY_MASK) | (balance - value) | (spent << SPENT_SHIFT) | (today << DAY_SHIFT);
        }

        if (flow == Flow.Transfer) {
            uint256 toWord = to == from ? fromWord : $.wallets[to];
            if (uint8(toWord >> STATUS_SHIFT) != STATUS_ACTIVE) return _inactive(to, toWord, false);
            // Only system wallets (class 6) can be the settlement contract: ordinary transfers skip the lookup.
            if (uint8(toWord >> CLASS_SHIFT) == SYSTEM_CLASS && to == $.settlement && msg.sender != to) {
                return abi.encodeWithSelector(DirectTransferToSettlement.selector, from);
            }
            (toWord, err) = _credit($, to, toWord, $.limitWords[uint8(toWord >> CLASS_SHIFT)], value);
            if (err.length != 0) return err;
            $.wallets[from] = fromWord;
            $.wallets[to] = toWord; // after from's write: a self-transfer keeps the final word
            emit Transfer(from, to, value);
        } else if (flow == Flow.Hold) {
            $.wallets[from] = fromWord | HAS_HOLDS;
            $.held[from] += value;
            $.totals += value << 128; // totalHeld <= totalSupply < 2^128
            emit Transfer(from, address(this), value);
        } else {
            // Burn
            $.wallets[from] = fromWord;
            $.totals -= value; // value <= from's balance <= totalSupply
            emit Transfer(from, address(0), value);
        }
    }

    /// @dev `_update` that reverts with the hook's error.
    function _updateOrRevert(address from, address to, uint256 value, Flow flow) private {
        bytes memory err = _update(from, to, value, flow);
        if (err.length != 0) {
            assembly ("memory-safe") {
                revert(add(err, 0x20), mload(err))
            }
        }
    }

    /// @dev The Mint flow of `_update`: new money to `to`'s spendable balance.
    function _mint(DigitalCashStorage storage $, address to, uint256 value) private returns (bytes memory err) {
        uint256 toWord = $.wallets[to];
        uint256 toLimits = $.limitWords[(toWord >> CLASS_SHIFT) & 0xff];
        if (toLimits & PAUSED_BIT != 0) return abi.encodeWithSelector(EnforcedPause.selector);
        if (uint8(toWord >> STATUS_SHIFT) != STATUS_ACTIVE) return _inactive(to, toWord, false);
        (toWord, err) = _credit($, to, toWord, toLimits, value);
        if (err.length != 0) return err;
        uint256 totals = $.totals;
        uint256 supplyAfter = (totals & MAX_TOTAL) + value;
        if (supplyAfter > MAX_TOTAL) return abi.encodeWithSelector(SupplyOverflow.selector, supplyAfter, MAX_TOTAL);
        $.wallets[to] = toWord;
        $.totals = totals + value; // no carry into totalHeld: supplyAfter <= MAX_TOTAL
        emit Transfer(address(0), to, value);
    }

    /// @dev The Closure flow of `_update`: burn `value` (the whole balance) with no status or limit
    ///      check, the registry having decided the closure.
    function _closure(DigitalCashStorage storage $, address from, uint256 word, uint256 value)
        private
        returns (bytes memory err)
    {
        uint256 balance = word & MAX_BALANCE;
        if (value > balance) return abi.encodeWithSelector(ERC20InsufficientBalance.selector, from, balance, value);
        unchecked {
            $.wallets[from] = word - value; // balance is the low field
        }
        $.totals -= value;
        emit Transfer(from, address(0), value);
    }

    /// @dev Add `value` (< 2^104) to the spendable balance in `word`, enforcing the balance cap
    ///      (counting money on hold) and the packed width. The status is checked by the caller.
    function _credit(DigitalCashStorage storage $, address wallet, uint256 word, uint256 limitWord, uint256 value)
        private
        view
        returns (uint256 newWord, bytes memory err)
    {
        unchecked {
            uint256 balanceAfter = (word & MAX_BALANCE) + value; // both < 2^104
            uint256 cap = limitWord & UNLIMITED;
            if (cap != UNLIMITED) {
                uint256 owned = balanceAfter;
                if (word & HAS_HOLDS != 0) owned += $.held[wallet];
                if (owned > cap) {
                    return (word, abi.encodeWithSelector(BalanceCapExceeded.selector, wallet, owned, cap));
                }
            }
            if (balanceAfter > MAX_BALANCE) {
                return (word, abi.encodeWithSelector(BalanceOverflow.selector, wallet, balanceAfter, MAX_BALANCE));
            }
            newWord = word + value; // balance is the low field and stays <= MAX_BALANCE
        }
    }

    /// @dev Capture (burn) or release (back to spendable) `value` of `from`'s held money. The caller
    ///      checked the pause and the holder's status; `value` is a Held hold's amount, <= held[from].
    function _fromHeld(DigitalCashStorage storage $, address from, uint256 word, uint256 value, Flow flow)
        private
        returns (bytes memory err)
    {
        uint256 heldAfter = $.held[from] - value;
        if (flow == Flow.Release) {
            uint256 balanceAfter = (word & MAX_BALANCE) + value;
            if (balanceAfter > MAX_BALANCE) {
                return abi.encodeWithSelector(BalanceOverflow.selector, from, balanceAfter, MAX_BALANCE);
            }
            word += value;
            $.totals -= value << 128;
            emit Transfer(address(this), from, value);
        } else {
            $.totals -= (value << 128) | value;
            emit Transfer(address(this), address(0), value);
        }
        $.held[from] = heldAfter;
        if (heldAfter == 0) word &= ~HAS_HOLDS;
        $.wallets[from] = word;
    }

    /// @dev The error for a side that is not an active wallet (OpenZeppelin's for the zero address).
    function _inactive(address wallet, uint256 word, bool isSender) private pure returns (bytes memory) {
        if (wallet == address(0)) {
            return isSender
                ? abi.encodeWithSelector(ERC20InvalidSender.selector, wallet)
                : abi.encodeWithSelector(ERC20InvalidReceiver.selector, wallet);
        }
        return abi.encodeWithSelector(WalletNotActive.selector, wallet, uint8(word >> STATUS_SHIFT));
    }

    // ================================================================== internals

    function _s() private pure returns (DigitalCashStorage storage $) {
        assembly {
            $.slot := DIGITAL_CASH_STORAGE
        }
    }

    /// @dev One relay item: the error's revert data, or empty after the transfer went through.
    function _relayOne(DigitalCashStorage storage $, bytes32 domain, RelayedTransfer calldata item)
        private
        returns (bytes memory err)
    {
        address from = item.from;
        uint256 nonce = item.nonce;
        if (block.timestamp >= item.validBefore) {
            return abi.encodeWithSelector(AuthorizationExpired.selector, item.validBefore);
        }
        mapping(uint256 => uint256) storage bitmap = $.nonceBitmaps[from];
        uint256 bits = bitmap[nonce >> 8];
        uint256 bit = 1 << (nonce & 0xff);
        if (bits & bit != 0) return abi.encodeWithSelector(UnorderedNonceUsed.selector, from, nonce);
        if (!_isSignedBy(from, _toTypedDataHash(domain, _relayedTransferHash(item)), item.v, item.r, item.s)) {
            return abi.encodeWithSelector(InvalidSignature.selector, from);
        }
        err = _update(from, item.to, item.value, Flow.Transfer);
        if (err.length == 0) bitmap[nonce >> 8] = bits | bit;
    }

    function _relayedTransferHash(RelayedTransfer calldata item) private pure returns (bytes32) {
        return keccak256(
            abi.encode(RELAYED_TRANSFER_TYPEHASH, item.from, item.to, item.value, item.validBefore, item.nonce)
        );
    }

    /// @dev Mark `ref` as burned by `bankId` (redemptions and settlement payouts: the burns a bank's
    ///      outbox could send twice; holds and closures are once-only by their own state).
    function _useBurnRef(bytes32 bankId, bytes32 ref) private {
        mapping(bytes32 => bool) storage burned = _s().burnedRefs[bankId];
        if (burned[ref]) revert RefAlreadyBurned(bankId, ref);
        burned[ref] = true;
    }

    /// @dev Shared tail of every burn: the hook, the issuance record, the Burned event.
    function _burn(address wallet, uint256 value, bytes32 bankId, bytes32 ref, Flow flow, BurnReason reason) private {
        _updateOrRevert(wallet, address(0), value, flow);
        IConsortium(_s().consortium).recordIssuance(bankId, -int256(value));
        emit Burned(wallet, bankId, value, ref, reason);
    }

    function _approve(address owner, address spender, uint256 value) private {
        if (owner == address(0)) revert ERC20InvalidApprover(address(0));
        if (spender == address(0)) revert ERC20InvalidSpender(address(0));
        _s().allowances[owner][spender] = value;
        emit Approval(owner, spender, value);
    }

    function _checkWindow(uint256 validAfter, uint256 validBefore) private view {
        if (block.timestamp <= validAfter) revert AuthorizationNotYetValid(validAfter);
        if (block.timestamp >= validBefore) revert AuthorizationExpired(validBefore);
    }

    function _requireUnusedAuthorization(address authorizer, bytes32 nonce) private view {
        if (_s().authorizations[authorizer][nonce]) revert AuthorizationAlreadyUsed(authorizer, nonce);
    }

    /// @dev Check and consume a bytes32 authorization nonce signed by `authorizer`.
    function _useAuthorization(address authorizer, bytes32 nonce, bytes32 structHash, uint8 v, bytes32 r, bytes32 s)
        private
    {
        _requireUnusedAuthorization(authorizer, nonce);
        _requireSigner(authorizer, structHash, v, r, s);
        _s().authorizations[authorizer][nonce] = true;
        emit AuthorizationUsed(authorizer, nonce);
    }

    function _requireSigner(address expected, bytes32 structHash, uint8 v, bytes32 r, bytes32 s) private view {
        if (!_isSignedBy(expected, _hashTypedData(structHash), v, r, s)) revert InvalidSignature(expected);
    }

    /// @dev True if (v, r, s) is `expected`'s signature of `digest` (low-s, non-zero signer).
    function _isSignedBy(address expected, bytes32 digest, uint8 v, bytes32 r, bytes32 s) private pure returns (bool) {
        (address signer, ECDSA.RecoverError recoverError,) = ECDSA.tryRecover(digest, v, r, s);
        return recoverError == ECDSA.RecoverError.NoError && signer == expected;
    }

    /// @dev The EIP-712 domain separator, from the cached name hash (one SLOAD instead of reading and
    ///      hashing the name string).
    function _domainSeparator() private view returns (bytes32) {
        return keccak256(
            abi.encode(EIP712_DOMAIN_TYPEHASH, _s().nameHash, EIP712_VERSION_HASH, block.chainid, address(this))
        );
    }

    function _hashTypedData(bytes32 structHash) private view returns (bytes32) {
        return _toTypedDataHash(_domainSeparator(), structHash);
    }

    /// @dev keccak256("\x19\x01" || domainSeparator || structHash), as EIP-712 defines the digest.
    function _toTypedDataHash(bytes32 domain, bytes32 structHash) private pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, hex"1901")
            mstore(add(ptr, 0x02), domain)
            mstore(add(ptr, 0x22), structHash)
            digest := keccak256(ptr, 0x42)
        }
    }

    /// @dev The custodian bank of `wallet`, if the caller is one of its active operators.
    function _requireCustodianOperator(address wallet) private view returns (bytes32 bankId) {
        DigitalCashStorage storage $ = _s();
        bankId = IWalletRegistry($.registry).custodianOf(wallet);
        if (bankId == bytes32(0) || !IConsortium($.consortium).isActiveOperator(bankId, msg.sender)) {
            revert NotCustodianOperator(msg.sender, wallet);
        }
    }

    function _paused() private view returns (bool) {
        return _s().limitWords[0] & PAUSED_BIT != 0;
    }

    function _setPauseBit(bool on) private {
        DigitalCashStorage storage $ = _s();
        for (uint256 c; c <= MAX_LIMIT_CLASS; ++c) {
            uint256 word = $.limitWords[c];
            $.limitWords[c] = on ? word | PAUSED_BIT : word & ~PAUSED_BIT;
        }
    }

    function _activeHold(bytes32 holdId) private view returns (HoldRecord storage h) {
        h = _s().holds[holdId];
        if (h.holder == address(0)) revert UnknownHold(holdId);
        if (h.status != HoldStatus.Held) revert HoldNotActive(holdId, h.status);
    }

    function _spentToday(uint256 word) private view returns (uint256) {
        uint256 today = (block.timestamp / 1 days) & DAY_MASK;
        return ((word >> DAY_SHIFT) & DAY_MASK) == today ? (word >> SPENT_SHIFT) & MAX_BALANCE : 0;
    }

    function _pack80(uint256 limit) private pure returns (uint256) {
        return limit >= UNLIMITED ? UNLIMITED : limit;
    }

    function _unpackLimits(uint256 word) private pure returns (uint256 cap, uint256 single, uint256 daily) {
        cap = _unpack80(word);
        single = _unpack80(word >> SINGLE_SHIFT);
        daily = _unpack80(word >> DAILY_SHIFT);
    }

    function _unpack80(uint256 bits) private pure returns (uint256) {
        uint256 limit = bits & UNLIMITED;
        return limit == UNLIMITED ? type(uint256).max : limit;
    }

    /// @dev Only the Consortium, i.e. an executed governance proposal, may upgrade.
    function _authorizeUpgrade(address) internal view override {
        if (msg.sender != address(_consortium())) revert NotGovernance(msg.sender);
    }

    function _consortium() internal view override returns (IConsortium) {
        return IConsortium(_s().consortium);
    }
}
