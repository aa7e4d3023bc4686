// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";

import {IConsortium} from "./interfaces/IConsortium.sol";

/// @title ConsortiumBound
/// @notice What the contracts wired to the Consortium (WalletRegistry, DigitalCash, MerchantSettlement)
///         share: they are UUPS proxy implementations, and the Consortium names their network operator.
/// @dev No state of its own: each contract keeps the Consortium's address in its ERC-7201 namespace and
///      hands it out through `_consortium()`.
abstract contract ConsortiumBound is Initializable, UUPSUpgradeable {
    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @dev Reverts NotNetworkOperator unless the caller is the Consortium's network operator.
    modifier onlyNetworkOperator() {
        if (msg.sender != _consortium().networkOperator()) revert IConsortium.NotNetworkOperator(msg.sender);
        _;
    }

    /// @dev The Consortium this contract is wired to (zero before initialisation).
    function _consortium() internal view virtual returns (IConsortium);
}
