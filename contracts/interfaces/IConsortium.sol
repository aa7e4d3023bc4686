// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IConsortium
/// @notice Membership, roles, issuance quotas and chain permissioning of a walletnet network.
/// @dev Membership changes and upgrades go through proposals: the network operator proposes a call
///      (target + calldata), active member banks approve (one approval per bank, given by any of its
///      operators), and once `threshold()` approvals are in, anyone may execute it. Calls that only
///      governance may make (`onlyGovernance`) must come from the Consortium itself, i.e. from an
///      executed proposal.
interface IConsortium {
    enum BankStatus {
        None,
        Active,
        Suspended,
        Removed
    }

    enum ProposalStatus {
        None,
        Pending,
        Executed,
        Cancelled
    }

    /// @notice A bank admitted at deployment.
    struct InitialBank {
        bytes32 id;
        string name;
        address[] operators;
        string[] enodes;
        uint256 quota;
    }

    struct BankInfo {
        bytes32 id;
        string name;
        BankStatus status;
        uint256 quota;
        int256 netIssued;
        address[] operators;
        string[] enodes;
    }

    struct ProposalInfo {
        address proposer;
        address target;
        bytes data;
        string description;
        ProposalStatus status;
        uint256 approvals;
    }

    // --- errors ---
    /// @notice Only the network operator may call this.
    error NotNetworkOperator(address caller);
    /// @notice Only an executed governance proposal may call this (upgrades, membership changes).
    error NotGovernance(address caller);
    /// @notice The caller is not an operator of an active member bank.
    error NotBankOperator(address caller);
    /// @notice Only the token may record issuance.
    error NotIssuer(address caller);
    /// @notice A bank with this id is already a member.
    error BankAlreadyExists(bytes32 bankId);
    /// @notice No bank with this id.
    error UnknownBank(bytes32 bankId);
    /// @notice The bank is not Active (unknown, suspended or removed).
    error BankNotActive(bytes32 bankId, BankStatus status);
    /// @notice The address is already an operator of a bank.
    error OperatorAlreadyAssigned(address operator, bytes32 bankId);
    /// @notice The address is not an operator of any bank.
    error UnknownOperator(address operator);
    /// @notice No proposal with this id.
    error UnknownProposal(uint256 proposalId);
    /// @notice The proposal was already executed or cancelled.
    error ProposalNotPending(uint256 proposalId, ProposalStatus status);
    /// @notice This bank already approved the proposal (one approval per bank).
    error AlreadyApproved(uint256 proposalId, bytes32 bankId);
    /// @notice The proposal has fewer approvals than the threshold.
    error NotEnoughApprovals(uint256 proposalId, uint256 approvals, uint256 threshold);
    /// @notice The executed proposal's call reverted; `returndata` holds its revert data.
    error ProposalCallFailed(uint256 proposalId, bytes returndata);
    /// @notice The approval threshold must be from 1 to the number of active banks.
    error InvalidThreshold(uint256 threshold, uint256 activeBanks);
    /// @notice The mint would take the bank's net issuance beyond its quota.
    error QuotaExceeded(bytes32 bankId, uint256 quota, int256 netIssued, uint256 amount);
    /// @notice An address argument is the zero address.
    error ZeroAddress();
    /// @notice The issuer (the token) is wired once.
    error IssuerAlreadySet(address issuer);

    // --- events ---
    event BankAdded(bytes32 indexed bankId, string name);
    event BankStatusChanged(bytes32 indexed bankId, BankStatus status);
    event OperatorAdded(bytes32 indexed bankId, address indexed operator);
    event OperatorRemoved(bytes32 indexed bankId, address indexed operator);
    event EnodeAdded(bytes32 indexed bankId, string enodeId);
    event EnodeRemoved(bytes32 indexed bankId, string enodeId);
    event QuotaSet(bytes32 indexed bankId, uint256 quota);
    event IssuanceRecorded(bytes32 indexed bankId, int256 delta, int256 netIssued);
    event ThresholdSet(uint256 threshold);
    event NetworkOperatorChanged(address indexed previous, address indexed current);
    event RegulatorChanged(address indexed previous, address indexed current);
    event IssuerSet(address indexed issuer);
    event ProposalCreated(uint256 indexed proposalId, address indexed proposer, address indexed target, bytes data, string description);
    event ProposalApproved(uint256 indexed proposalId, bytes32 indexed bankId, address indexed operator);
    event ProposalExecuted(uint256 indexed proposalId);
    event ProposalCancelled(uint256 indexed proposalId);

    // --- roles ---
    function networkOperator() external view returns (address);
    function regulator() external view returns (address);

    // --- governance ---
    function propose(address target, bytes calldata data, string calldata description) external returns (uint256 proposalId);
    function approve(uint256 proposalId) external;
    function execute(uint256 proposalId) external returns (bytes memory result);
    function cancel(uint256 proposalId) external;
    function proposal(uint256 proposalId) external view returns (ProposalInfo memory);
    function hasApproved(uint256 proposalId, bytes32 bankId) external view returns (bool);
    function threshold() external view returns (uint256);

    // governance-only (called by an executed proposal)
    function addBank(bytes32 bankId, string calldata name, address[] calldata operators, string[] calldata enodes) external;
    function suspendBank(bytes32 bankId) external;
    function reactivateBank(bytes32 bankId) external;
    function removeBank(bytes32 bankId) external;
    function addOperator(bytes32 bankId, address operator) external;
    function removeOperator(bytes32 bankId, address operator) external;
    function addEnode(bytes32 bankId, string calldata enodeId) external;
    function removeEnode(bytes32 bankId, string calldata enodeId) external;
    function setThreshold(uint256 newThreshold) external;
    function setNetworkOperator(address newOperator) external;
    function setRegulator(address newRegulator) external;

    // --- quotas and issuance ---
    /// @notice Set a bank's issuance quota (network operator only). Emits QuotaSet.
    function setQuota(bytes32 bankId, uint256 quota) external;
    /// @notice Wire the token allowed to record issuance; once, by the network operator.
    function setIssuer(address issuer) external;
    function issuer() external view returns (address);
    /// @notice Record a mint (delta > 0, checked against quota) or burn (delta < 0) by the token.
    function recordIssuance(bytes32 bankId, int256 delta) external;
    function quota(bytes32 bankId) external view returns (uint256);
    function netIssued(bytes32 bankId) external view returns (int256);

    // --- membership views ---
    /// @notice The bank an operator address belongs to (zero if none), whatever its status.
    function bankOfOperator(address operator) external view returns (bytes32);
    /// @notice True if `operator` is an operator of `bankId` and that bank is active.
    function isActiveOperator(bytes32 bankId, address operator) external view returns (bool);
    /// @notice The active bank of `operator`; reverts NotBankOperator / BankNotActive otherwise.
    function requireActiveOperator(address operator) external view returns (bytes32 bankId);
    function bankStatus(bytes32 bankId) external view returns (BankStatus);
    function bank(bytes32 bankId) external view returns (BankInfo memory);
    function bankIds() external view returns (bytes32[] memory);
    function activeBankCount() external view returns (uint256);
    /// @notice Everything Besu's local allowlists need, in one call.
    function activeMembership() external view returns (address[] memory accounts, string[] memory enodes);

    // --- Besu on-chain permissioning (deprecated by Besu, still answered) ---
    function transactionAllowed(address sender, address target, uint256 value, uint256 gasPrice, uint256 gasLimit, bytes calldata payload)
        external view returns (bool);
    function connectionAllowed(string calldata enodeId, string calldata ip, uint16 port) external view returns (bool);
}
