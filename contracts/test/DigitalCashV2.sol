// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {DigitalCash} from "../DigitalCash.sol";

/// @title DigitalCashV2
/// @notice Test-only next implementation of DigitalCash, to prove an upgrade through governance keeps
///         balances, holds, limits and nonces. It adds state in a namespace of its own.
contract DigitalCashV2 is DigitalCash {
    /// @custom:storage-location erc7201:walletnet.test.DigitalCashV2
    struct V2Storage {
        uint256 marker;
    }

    // keccak256(abi.encode(uint256(keccak256("walletnet.test.DigitalCashV2")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant V2_LOCATION = keccak256(abi.encode(uint256(keccak256("walletnet.test.DigitalCashV2")) - 1))
        & ~bytes32(uint256(0xff));

    /// @notice The implementation's version, to see which one a proxy runs.
    function implementationVersion() external pure returns (uint256) {
        return 2;
    }

    /// @notice New state added by the upgrade (zero until set).
    function marker() external view returns (uint256) {
        return _v2().marker;
    }

    /// @notice Set the new state; network operator only (as V1's admin functions).
    function setMarker(uint256 value) external onlyNetworkOperator {
        _v2().marker = value;
    }

    function _v2() private pure returns (V2Storage storage $) {
        bytes32 slot = V2_LOCATION;
        assembly {
            $.slot := slot
        }
    }
}
