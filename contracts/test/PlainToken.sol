// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title PlainToken
/// @notice Gas baseline only: a plain OpenZeppelin 5 ERC20 + ERC20Permit with an open mint, compiled
///         with the same settings as walletnet's contracts and measured in the same run.
contract PlainToken is ERC20, ERC20Permit {
    constructor() ERC20("Plain", "PLAIN") ERC20Permit("Plain") {}

    /// @notice Mint freely (benchmark only; never deploy this on a real network).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Burn from the caller (benchmark baseline for redemption).
    function burn(uint256 amount) external {
        _burn(msg.sender, amount);
    }

    function decimals() public pure override returns (uint8) {
        return 2;
    }
}
