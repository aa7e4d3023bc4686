// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";

import {IConsortium} from "./interfaces/IConsortium.sol";

/// @title Consortium
/// @notice Member banks, the network operator and regulator roles, issuance quotas, M-of-N governance
///         and the chain permissioning (Besu account and node rules) of a walletnet network.
/// @dev Deployed behind an ERC1967 (UUPS) proxy. Every membership change, threshold change, role change
///      and upgrade (of this contract and of the others, whose `_authorizeUpgrade` only accepts this
///      contract) is a proposal: the network operator proposes `target.call(data)`, operators of active
///      banks approve (one approval per bank), and anyone executes it once the approvals of banks that
///      are still active reach `threshold()`.
///
///      Enode ids: a node is identified by its 64-byte public key, written as 128 hex characters. Every
///      function taking an enode id accepts either the bare hex (as Besu passes it to
///      `connectionAllowed`) or an enode URL `enode://<128 hex>`, optionally followed by an at sign and
///      `host:port`; ids are compared
///      case-insensitively on the hex part only. The string is stored as registered (so a URL with
///      host and port can be written straight into Besu's `nodes-allowlist`), and one node id belongs to
///      at most one bank.
contract Consortium is IConsortium, Initializable, UUPSUpgradeable {
    // --- errors added to IConsortium's ---
    /// @notice `bankId` is zero, which is reserved for "no bank" (system wallets).
    error InvalidBankId(bytes32 bankId);
    /// @notice The bank has been removed; a removed bank is never changed again.
    error BankIsRemoved(bytes32 bankId);
    /// @notice Only a suspended bank can be reactivated.
    error BankNotSuspended(bytes32 bankId, BankStatus status);
    /// @notice `enodeId` is neither 128 hex characters nor `enode://<128 hex>[@...]`.
    error InvalidEnode(string enodeId);
    /// @notice The node id of `enodeId` is already registered to `bankId`.
    error EnodeAlreadyRegistered(string enodeId, bytes32 bankId);
    /// @notice `enodeId` is not registered to `bankId`.
    error UnknownEnode(bytes32 bankId, string enodeId);
    /// @notice `operator` is not an operator of `bankId`.
    error NotOperatorOfBank(address operator, bytes32 bankId);

    struct Bank {
        string name;
        BankStatus status;
        uint256 quota;
        int256 netIssued;
        address[] operators;
        string[] enodes;
    }

    struct Proposal {
        address proposer;
        ProposalStatus status;
        address target;
        bytes data;
        string description;
        bytes32[] approvers; // banks that approved, in order
        mapping(bytes32 bankId => bool) approved;
    }

    struct EnodeEntry {
        bytes32 bankId;
        uint256 position; // index in the bank's `enodes` + 1
    }

    /// @custom:storage-location erc7201:walletnet.storage.Consortium
    struct ConsortiumStorage {
        address networkOperator;
        address regulator;
        address issuer;
        uint256 threshold;
        uint256 activeBankCount;
        uint256 proposalCount;
        bytes32[] bankIds;
        mapping(bytes32 bankId => Bank) banks;
        mapping(address operator => bytes32 bankId) bankOfOperator;
        mapping(address operator => uint256 position) operatorPosition; // index in the bank's `operators` + 1
        mapping(bytes32 nodeKey => EnodeEntry) enodes; // nodeKey = keccak256(lowercase 128-hex node id)
        mapping(uint256 proposalId => Proposal) proposals;
    }

    // keccak256(abi.encode(uint256(keccak256("walletnet.storage.Consortium")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant CONSORTIUM_STORAGE = 0x658344380c3088f0dc3c892365ed584f8f5a7effa5878df0bec25c2b2bf33700;

    function _s() private pure returns (ConsortiumStorage storage $) {
        assembly {
            $.slot := CONSORTIUM_STORAGE
        }
    }

    modifier onlyNetworkOperator() {
        if (msg.sender != _s().networkOperator) revert NotNetworkOperator(msg.sender);
        _;
    }

    modifier onlyGovernance() {
        if (msg.sender != address(this)) revert NotGovernance(msg.sender);
        _;
    }

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @notice Set up roles, the initial member banks (active, with their quotas) and the approval threshold.
    /// @dev Requirements: non-zero operator and regulator; valid, distinct bank ids, operators and enodes;
    ///      1 <= `threshold_` <= number of banks (InvalidThreshold); callable once (InvalidInitialization).
    ///      Emits NetworkOperatorChanged, RegulatorChanged, BankAdded, OperatorAdded, EnodeAdded, QuotaSet
    ///      (per bank), ThresholdSet and Initialized(1).
    function initialize(address networkOperator_, address regulator_, uint256 threshold_, InitialBank[] calldata banks)
        external
        initializer
    {
        _setNetworkOperator(networkOperator_);
        _setRegulator(regulator_);
        for (uint256 i = 0; i < banks.length; i++) {
            InitialBank calldata b = banks[i];
            _addBank(b.id, b.name, b.operators, b.enodes);
            _s().banks[b.id].quota = b.quota;
            emit QuotaSet(b.id, b.quota);
        }
        _setThreshold(threshold_);
    }

    // ------------------------------------------------------------------ roles

    /// @notice The network operator: proposes governance actions, sets quotas, wires the issuer.
    function networkOperator() external view returns (address) {
        return _s().networkOperator;
    }

    /// @notice The regulator: may freeze any wallet and read everything; allowed to send transactions.
    function regulator() external view returns (address) {
        return _s().regulator;
    }

    // ------------------------------------------------------------------ governance

    /// @notice Propose that the Consortium call `target` with `data` (a membership change, a threshold or
    ///         role change, an upgrade of any walletnet contract).
    /// @dev Requirements: caller is the network operator; `target` is not zero. Emits ProposalCreated.
    /// @return proposalId The new proposal's id (ids start at 1).
    function propose(address target, bytes calldata data, string calldata description)
        external
        onlyNetworkOperator
        returns (uint256 proposalId)
    {
        if (target == address(0)) revert ZeroAddress();
        ConsortiumStorage storage $ = _s();
        proposalId = ++$.proposalCount;
        Proposal storage p = $.proposals[proposalId];
        p.proposer = msg.sender;
        p.status = ProposalStatus.Pending;
        p.target = target;
        p.data = data;
        p.description = description;
        emit ProposalCreated(proposalId, msg.sender, target, data, description);
    }

    /// @notice Approve a pending proposal on behalf of the caller's bank.
    /// @dev Requirements: caller is an operator of an active bank (NotBankOperator / BankNotActive); the
    ///      proposal exists (UnknownProposal) and is pending (ProposalNotPending); the bank has not approved
    ///      it yet (AlreadyApproved). Emits ProposalApproved.
    function approve(uint256 proposalId) external {
        bytes32 bankId = _requireActiveOperator(msg.sender);
        Proposal storage p = _pendingProposal(proposalId);
        if (p.approved[bankId]) revert AlreadyApproved(proposalId, bankId);
        p.approved[bankId] = true;
        p.approvers.push(bankId);
        emit ProposalApproved(proposalId, bankId, msg.sender);
    }

    /// @notice Execute a pending proposal whose approvals reach the threshold; anyone may call.
    /// @dev Only approvals of banks that are active now count. The proposal is marked executed before
    ///      the call, so it cannot be re-entered. Requirements: the proposal exists and is pending; enough
    ///      approvals (NotEnoughApprovals); the call succeeds (ProposalCallFailed, carrying the call's
    ///      revert data). Emits ProposalExecuted, plus whatever the called function emits.
    /// @return result The call's return data.
    function execute(uint256 proposalId) external returns (bytes memory result) {
        Proposal storage p = _pendingProposal(proposalId);
        uint256 approvals = _countApprovals(p);
        uint256 threshold_ = _s().threshold;
        if (approvals < threshold_) revert NotEnoughApprovals(proposalId, approvals, threshold_);
        p.status = ProposalStatus.Executed;
        bool ok;
        (ok, result) = p.target.call(p.data);
        if (!ok) revert ProposalCallFailed(proposalId, result);
        emit ProposalExecuted(proposalId);
    }

    /// @notice Withdraw a pending proposal.
    /// @dev Requirements: caller is the network operator (NotNetworkOperator); the proposal exists
    ///      (UnknownProposal) and is pending (ProposalNotPending). Emits ProposalCancelled.
    function cancel(uint256 proposalId) external onlyNetworkOperator {
        Proposal storage p = _pendingProposal(proposalId);
        p.status = ProposalStatus.Cancelled;
        emit ProposalCancelled(proposalId);
    }

    /// @notice A proposal; `approvals` counts only approvals of banks that are active now (what `execute`
    ///         counts). Reverts UnknownProposal for an id never created.
    function proposal(uint256 proposalId) external view returns (ProposalInfo memory info) {
        Proposal storage p = _s().proposals[proposalId];
        if (p.status == ProposalStatus.None) revert UnknownProposal(proposalId);
        info = ProposalInfo({
            proposer: p.proposer,
            target: p.target,
            data: p.data,
            description: p.description,
            status: p.status,
            approvals: _countApprovals(p)
        });
    }

    /// @notice Number of proposals created so far (the latest proposal id).
    function proposalCount() external view returns (uint256) {
        return _s().proposalCount;
    }

    /// @notice Whether `bankId` has approved `proposalId` (whatever the bank's status now).
    function hasApproved(uint256 proposalId, bytes32 bankId) external view returns (bool) {
        return _s().proposals[proposalId].approved[bankId];
    }

    /// @notice Approvals (of active banks) needed to execute a proposal.
    function threshold() external view returns (uint256) {
        return _s().threshold;
    }

    // ------------------------------------------------------------------ governance-only

    /// @notice Admit a bank, active, with quota 0.
    /// @dev Governance only. Requirements: non-zero id not used before (BankAlreadyExists, including
    ///      removed banks); operators non-zero and not assigned to any bank; enodes valid and not
    ///      registered. Emits BankAdded, OperatorAdded and EnodeAdded.
    function addBank(bytes32 bankId, string calldata name, address[] calldata operators, string[] calldata enodes)
        external
        onlyGovernance
    {
        _addBank(bankId, name, operators, enodes);
    }

    /// @notice Suspend an active bank: its operators can no longer mint, approve, open wallets or send
    ///         transactions, and its nodes may no longer connect. Its wallets keep their balances.
    /// @dev Governance only. Requirements: the bank is active (UnknownBank / BankNotActive); the threshold
    ///      stays reachable, i.e. threshold <= active banks after suspension (InvalidThreshold: lower the
    ///      threshold first). Emits BankStatusChanged.
    function suspendBank(bytes32 bankId) external onlyGovernance {
        Bank storage b = _existingBank(bankId);
        if (b.status != BankStatus.Active) revert BankNotActive(bankId, b.status);
        _deactivate(bankId, b, BankStatus.Suspended);
    }

    /// @notice Reactivate a suspended bank.
    /// @dev Governance only. Requirements: the bank is suspended (UnknownBank / BankNotSuspended).
    ///      Emits BankStatusChanged.
    function reactivateBank(bytes32 bankId) external onlyGovernance {
        Bank storage b = _existingBank(bankId);
        if (b.status != BankStatus.Suspended) revert BankNotSuspended(bankId, b.status);
        b.status = BankStatus.Active;
        _s().activeBankCount += 1;
        emit BankStatusChanged(bankId, BankStatus.Active);
    }

    /// @notice Remove a bank for good. Its record, quota, netIssued and operator assignments stay (for
    ///         history and for its outstanding position). Its wallets keep their money: holders can move
    ///         it to a wallet at an active bank, but the removed bank itself can no longer redeem or mint.
    /// @dev Governance only. Requirements: the bank exists and is not removed (UnknownBank /
    ///      BankIsRemoved); if it is active, threshold <= active banks after removal (InvalidThreshold).
    ///      Emits BankStatusChanged.
    function removeBank(bytes32 bankId) external onlyGovernance {
        Bank storage b = _existingBank(bankId);
        if (b.status == BankStatus.Removed) revert BankIsRemoved(bankId);
        if (b.status == BankStatus.Active) {
            _deactivate(bankId, b, BankStatus.Removed);
        } else {
            b.status = BankStatus.Removed;
            emit BankStatusChanged(bankId, BankStatus.Removed);
        }
    }

    /// @notice Add an operator address (a node's signing key) to a bank (active or suspended).
    /// @dev Governance only. Requirements: the bank exists and is not removed; `operator` is non-zero and
    ///      not assigned to any bank (OperatorAlreadyAssigned). Emits OperatorAdded.
    function addOperator(bytes32 bankId, address operator) external onlyGovernance {
        Bank storage b = _existingBank(bankId);
        if (b.status == BankStatus.Removed) revert BankIsRemoved(bankId);
        _addOperator(bankId, b, operator);
    }

    /// @notice Remove an operator address from a bank; the address may later join any bank.
    /// @dev Governance only. Requirements: the bank exists (UnknownBank); `operator` is assigned to some
    ///      bank (UnknownOperator) and that bank is `bankId` (NotOperatorOfBank). Emits OperatorRemoved.
    function removeOperator(bytes32 bankId, address operator) external onlyGovernance {
        ConsortiumStorage storage $ = _s();
        Bank storage b = _existingBank(bankId);
        bytes32 current = $.bankOfOperator[operator];
        if (current == bytes32(0)) revert UnknownOperator(operator);
        if (current != bankId) revert NotOperatorOfBank(operator, bankId);
        uint256 index = $.operatorPosition[operator] - 1;
        uint256 last = b.operators.length - 1;
        if (index != last) {
            address moved = b.operators[last];
            b.operators[index] = moved;
            $.operatorPosition[moved] = index + 1;
        }
        b.operators.pop();
        delete $.operatorPosition[operator];
        delete $.bankOfOperator[operator];
        emit OperatorRemoved(bankId, operator);
    }

    /// @notice Register a node (enode id or URL, see the contract notes) for a bank (active or suspended).
    /// @dev Governance only. Requirements: the bank exists and is not removed; the id is valid
    ///      (InvalidEnode) and not registered (EnodeAlreadyRegistered). Emits EnodeAdded.
    function addEnode(bytes32 bankId, string calldata enodeId) external onlyGovernance {
        Bank storage b = _existingBank(bankId);
        if (b.status == BankStatus.Removed) revert BankIsRemoved(bankId);
        _addEnode(bankId, b, enodeId);
    }

    /// @notice Deregister a bank's node; `enodeId` may be given in any accepted form.
    /// @dev Governance only. Requirements: the bank exists; the id is valid (InvalidEnode) and registered
    ///      to that bank (UnknownEnode). Emits EnodeRemoved with the string as it was registered.
    function removeEnode(bytes32 bankId, string calldata enodeId) external onlyGovernance {
        ConsortiumStorage storage $ = _s();
        Bank storage b = _existingBank(bankId);
        (bool ok, bytes32 key) = _enodeKey(enodeId);
        if (!ok) revert InvalidEnode(enodeId);
        EnodeEntry memory entry = $.enodes[key];
        if (entry.bankId != bankId) revert UnknownEnode(bankId, enodeId);
        uint256 index = entry.position - 1;
        uint256 last = b.enodes.length - 1;
        string memory removed = b.enodes[index];
        if (index != last) {
            string memory moved = b.enodes[last];
            b.enodes[index] = moved;
            (, bytes32 movedKey) = _enodeKey(moved);
            $.enodes[movedKey].position = index + 1;
        }
        b.enodes.pop();
        delete $.enodes[key];
        emit EnodeRemoved(bankId, removed);
    }

    /// @notice Change the number of bank approvals a proposal needs.
    /// @dev Governance only. Requirements: 1 <= `newThreshold` <= active banks (InvalidThreshold).
    ///      Emits ThresholdSet.
    function setThreshold(uint256 newThreshold) external onlyGovernance {
        _setThreshold(newThreshold);
    }

    /// @notice Hand the network operator role to another address (for example a multisig).
    /// @dev Governance only. Requirements: non-zero (ZeroAddress). Emits NetworkOperatorChanged.
    function setNetworkOperator(address newOperator) external onlyGovernance {
        _setNetworkOperator(newOperator);
    }

    /// @notice Hand the regulator role to another address.
    /// @dev Governance only. Requirements: non-zero (ZeroAddress). Emits RegulatorChanged.
    function setRegulator(address newRegulator) external onlyGovernance {
        _setRegulator(newRegulator);
    }

    // ------------------------------------------------------------------ quotas and issuance

    /// @notice Set a bank's issuance quota: the most its net issuance (minted - burned) may reach.
    /// @dev Requirements: caller is the network operator; the bank exists (UnknownBank). A quota below the
    ///      current netIssued is allowed: the bank can then only redeem until it is back under. Emits QuotaSet.
    function setQuota(bytes32 bankId, uint256 quota_) external onlyNetworkOperator {
        Bank storage b = _existingBank(bankId);
        b.quota = quota_;
        emit QuotaSet(bankId, quota_);
    }

    /// @notice Wire the token contract that records issuance; once.
    /// @dev Requirements: caller is the network operator; non-zero (ZeroAddress); not set before
    ///      (IssuerAlreadySet). Emits IssuerSet.
    function setIssuer(address issuer_) external onlyNetworkOperator {
        ConsortiumStorage storage $ = _s();
        if (issuer_ == address(0)) revert ZeroAddress();
        if ($.issuer != address(0)) revert IssuerAlreadySet($.issuer);
        $.issuer = issuer_;
        emit IssuerSet(issuer_);
    }

    /// @notice The token contract allowed to record issuance (zero until wired).
    function issuer() external view returns (address) {
        return _s().issuer;
    }

    /// @notice Record a mint (`delta` > 0) or a burn (`delta` < 0) of `bankId`'s money.
    /// @dev Requirements: caller is the issuer (NotIssuer); the bank exists (UnknownBank). A mint needs
    ///      an active bank (BankNotActive) and netIssued + delta <= quota (QuotaExceeded); a burn is always
    ///      recorded (a burn the token accepted must never be lost from the positions). netIssued may go
    ///      negative. Emits IssuanceRecorded.
    function recordIssuance(bytes32 bankId, int256 delta) external {
        if (msg.sender != _s().issuer) revert NotIssuer(msg.sender);
        Bank storage b = _existingBank(bankId);
        int256 next = b.netIssued + delta;
        if (delta > 0) {
            if (b.status != BankStatus.Active) revert BankNotActive(bankId, b.status);
            if (next > 0 && uint256(next) > b.quota) {
                revert QuotaExceeded(bankId, b.quota, b.netIssued, uint256(delta));
            }
        }
        b.netIssued = next;
        emit IssuanceRecorded(bankId, delta, next);
    }

    /// @notice A bank's issuance quota in minor units (0 for an unknown bank).
    function quota(bytes32 bankId) external view returns (uint256) {
        return _s().banks[bankId].quota;
    }

    /// @notice A bank's net issuance, minted - burned, in minor units; may be negative (0 for an unknown bank).
    function netIssued(bytes32 bankId) external view returns (int256) {
        return _s().banks[bankId].netIssued;
    }

    // ------------------------------------------------------------------ membership views

    /// @notice The bank an operator address belongs to (zero if none), whatever its status.
    function bankOfOperator(address operator) external view returns (bytes32) {
        return _s().bankOfOperator[operator];
    }

    /// @notice True if `operator` is an operator of `bankId` and that bank is active.
    function isActiveOperator(bytes32 bankId, address operator) external view returns (bool) {
        ConsortiumStorage storage $ = _s();
        return bankId != bytes32(0) && $.bankOfOperator[operator] == bankId && $.banks[bankId].status == BankStatus.Active;
    }

    /// @notice The active bank of `operator`; reverts NotBankOperator (no bank) or BankNotActive.
    function requireActiveOperator(address operator) external view returns (bytes32 bankId) {
        return _requireActiveOperator(operator);
    }

    /// @notice A bank's status (None for an id never admitted).
    function bankStatus(bytes32 bankId) external view returns (BankStatus) {
        return _s().banks[bankId].status;
    }

    /// @notice A bank's record; reverts UnknownBank for an id never admitted.
    function bank(bytes32 bankId) external view returns (BankInfo memory) {
        Bank storage b = _existingBank(bankId);
        return BankInfo({
            id: bankId,
            name: b.name,
            status: b.status,
            quota: b.quota,
            netIssued: b.netIssued,
            operators: b.operators,
            enodes: b.enodes
        });
    }

    /// @notice Every bank ever admitted (any status), in admission order.
    function bankIds() external view returns (bytes32[] memory) {
        return _s().bankIds;
    }

    /// @notice Number of banks whose status is Active.
    function activeBankCount() external view returns (uint256) {
        return _s().activeBankCount;
    }

    /// @notice Everything Besu's local allowlists need, in one call.
    /// @return accounts Operators of active banks (bank by bank), then the network operator and the regulator.
    /// @return enodes Registered nodes of active banks, as registered.
    function activeMembership() external view returns (address[] memory accounts, string[] memory enodes) {
        ConsortiumStorage storage $ = _s();
        uint256 nAccounts = 2;
        uint256 nEnodes = 0;
        uint256 nBanks = $.bankIds.length;
        for (uint256 i = 0; i < nBanks; i++) {
            Bank storage b = $.banks[$.bankIds[i]];
            if (b.status == BankStatus.Active) {
                nAccounts += b.operators.length;
                nEnodes += b.enodes.length;
            }
        }
        accounts = new address[](nAccounts);
        enodes = new string[](nEnodes);
        uint256 a = 0;
        uint256 e = 0;
        for (uint256 i = 0; i < nBanks; i++) {
            Bank storage b = $.banks[$.bankIds[i]];
            if (b.status != BankStatus.Active) continue;
            for (uint256 j = 0; j < b.operators.length; j++) {
                accounts[a++] = b.operators[j];
            }
            for (uint256 j = 0; j < b.enodes.length; j++) {
                enodes[e++] = b.enodes[j];
            }
        }
        accounts[a++] = $.networkOperator;
        accounts[a] = $.regulator;
    }

    // ------------------------------------------------------------------ Besu permissioning

    /// @notice Besu account rules: true only for operators of active banks, the network operator and the
    ///         regulator. Only `sender` is considered.
    function transactionAllowed(address sender, address, uint256, uint256, uint256, bytes calldata)
        external
        view
        returns (bool)
    {
        ConsortiumStorage storage $ = _s();
        if (sender == $.networkOperator || sender == $.regulator) return true;
        bytes32 bankId = $.bankOfOperator[sender];
        return bankId != bytes32(0) && $.banks[bankId].status == BankStatus.Active;
    }

    /// @notice Besu node rules (v2): true only for a node registered to an active bank. `enodeId` is the
    ///         bare 128-hex node id or an `enode://` URL (case-insensitive); `ip` and `port` are not
    ///         considered. A malformed id returns false.
    function connectionAllowed(string calldata enodeId, string calldata, uint16) external view returns (bool) {
        ConsortiumStorage storage $ = _s();
        (bool ok, bytes32 key) = _enodeKey(enodeId);
        if (!ok) return false;
        bytes32 bankId = $.enodes[key].bankId;
        return bankId != bytes32(0) && $.banks[bankId].status == BankStatus.Active;
    }

    /// @notice Which bank a node id (any accepted form) is registered to; zero if none or malformed.
    function bankOfEnode(string calldata enodeId) external view returns (bytes32) {
        (bool ok, bytes32 key) = _enodeKey(enodeId);
        return ok ? _s().enodes[key].bankId : bytes32(0);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Upgrades of the Consortium itself are governance actions.
    function _authorizeUpgrade(address) internal view override onlyGovernance {}

    function _existingBank(bytes32 bankId) private view returns (Bank storage b) {
        b = _s().banks[bankId];
        if (b.status == BankStatus.None) revert UnknownBank(bankId);
    }

    function _pendingProposal(uint256 proposalId) private view returns (Proposal storage p) {
        p = _s().proposals[proposalId];
        if (p.status == ProposalStatus.None) revert UnknownProposal(proposalId);
        if (p.status != ProposalStatus.Pending) revert ProposalNotPending(proposalId, p.status);
    }

    function _countApprovals(Proposal storage p) private view returns (uint256 count) {
        ConsortiumStorage storage $ = _s();
        uint256 n = p.approvers.length;
        for (uint256 i = 0; i < n; i++) {
            if ($.banks[p.approvers[i]].status == BankStatus.Active) count++;
        }
    }

    function _requireActiveOperator(address operator) private view returns (bytes32 bankId) {
        ConsortiumStorage storage $ = _s();
        bankId = $.bankOfOperator[operator];
        if (bankId == bytes32(0)) revert NotBankOperator(operator);
        BankStatus status = $.banks[bankId].status;
        if (status != BankStatus.Active) revert BankNotActive(bankId, status);
    }

    function _addBank(bytes32 bankId, string calldata name, address[] calldata operators, string[] calldata enodes)
        private
    {
        ConsortiumStorage storage $ = _s();
        if (bankId == bytes32(0)) revert InvalidBankId(bankId);
        Bank storage b = $.banks[bankId];
        if (b.status != BankStatus.None) revert BankAlreadyExists(bankId);
        b.name = name;
        b.status = BankStatus.Active;
        $.bankIds.push(bankId);
        $.activeBankCount += 1;
        emit BankAdded(bankId, name);
        for (uint256 i = 0; i < operators.length; i++) {
            _addOperator(bankId, b, operators[i]);
        }
        for (uint256 i = 0; i < enodes.length; i++) {
            _addEnode(bankId, b, enodes[i]);
        }
    }

    function _addOperator(bytes32 bankId, Bank storage b, address operator) private {
        ConsortiumStorage storage $ = _s();
        if (operator == address(0)) revert ZeroAddress();
        bytes32 current = $.bankOfOperator[operator];
        if (current != bytes32(0)) revert OperatorAlreadyAssigned(operator, current);
        b.operators.push(operator);
        $.bankOfOperator[operator] = bankId;
        $.operatorPosition[operator] = b.operators.length;
        emit OperatorAdded(bankId, operator);
    }

    function _addEnode(bytes32 bankId, Bank storage b, string calldata enodeId) private {
        ConsortiumStorage storage $ = _s();
        (bool ok, bytes32 key) = _enodeKey(enodeId);
        if (!ok) revert InvalidEnode(enodeId);
        bytes32 current = $.enodes[key].bankId;
        if (current != bytes32(0)) revert EnodeAlreadyRegistered(enodeId, current);
        b.enodes.push(enodeId);
        $.enodes[key] = EnodeEntry({bankId: bankId, position: b.enodes.length});
        emit EnodeAdded(bankId, enodeId);
    }

    /// @dev Move an active bank to Suspended or Removed, keeping the threshold reachable.
    function _deactivate(bytes32 bankId, Bank storage b, BankStatus status) private {
        ConsortiumStorage storage $ = _s();
        uint256 remaining = $.activeBankCount - 1;
        if ($.threshold > remaining) revert InvalidThreshold($.threshold, remaining);
        $.activeBankCount = remaining;
        b.status = status;
        emit BankStatusChanged(bankId, status);
    }

    function _setThreshold(uint256 newThreshold) private {
        ConsortiumStorage storage $ = _s();
        if (newThreshold == 0 || newThreshold > $.activeBankCount) {
            revert InvalidThreshold(newThreshold, $.activeBankCount);
        }
        $.threshold = newThreshold;
        emit ThresholdSet(newThreshold);
    }

    function _setNetworkOperator(address newOperator) private {
        ConsortiumStorage storage $ = _s();
        if (newOperator == address(0)) revert ZeroAddress();
        emit NetworkOperatorChanged($.networkOperator, newOperator);
        $.networkOperator = newOperator;
    }

    function _setRegulator(address newRegulator) private {
        ConsortiumStorage storage $ = _s();
        if (newRegulator == address(0)) revert ZeroAddress();
        emit RegulatorChanged($.regulator, newRegulator);
        $.regulator = newRegulator;
    }

    /// @dev Normalise an enode id: strip an "enode://" prefix and anything from the first at sign on; the rest must be
    ///      exactly 128 hex characters. Returns keccak256 of the lowercase hex.
    function _enodeKey(string memory enodeId) private pure returns (bool ok, bytes32 key) {
        bytes memory s = bytes(enodeId);
        uint256 start = 0;
        if (s.length >= 8 && _hasEnodeScheme(s)) start = 8;
        uint256 end = start;
        while (end < s.length && s[end] != "@") end++;
        if (end - start != 128) return (false, bytes32(0));
        bytes memory id = new bytes(128);
        for (uint256 i = 0; i < 128; i++) {
            bytes1 c = s[start + i];
            if (c >= "A" && c <= "F") {
                c = bytes1(uint8(c) + 32);
            } else if (!((c >= "0" && c <= "9") || (c >= "a" && c <= "f"))) {
                return (false, bytes32(0));
            }
            id[i] = c;
        }
        return (true, keccak256(id));
    }

    function _hasEnodeScheme(bytes memory s) private pure returns (bool) {
        bytes memory scheme = "enode://";
        for (uint256 i = 0; i < 8; i++) {
            bytes1 c = s[i];
            if (c >= "A" && c <= "Z") c = bytes1(uint8(c) + 32);
            if (c != scheme[i]) return false;
        }
        return true;
    }
}
