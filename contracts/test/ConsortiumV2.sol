// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Consortium} from "../Consortium.sol";

/// @title ConsortiumV2 (test only)
/// @notice A second Consortium implementation for the upgrade test: same storage, one new function.
contract ConsortiumV2 is Consortium {
    /// @notice Implementation version, to tell the upgraded proxy apart.
    function version() external pure returns (string memory) {
        return "2";
    }
}
