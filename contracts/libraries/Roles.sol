// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Roles
/// @notice Role bits a member holds inside one constellation. A member holds a set of roles
/// (a bit mask) per constellation; holding no role means not being a member.
library Roles {
    uint256 internal constant SUPPLIER = 1 << 0;
    uint256 internal constant MANUFACTURER = 1 << 1;
    uint256 internal constant LOGISTICS = 1 << 2;
    uint256 internal constant BRAND = 1 << 3;
    uint256 internal constant RETAILER = 1 << 4;
    uint256 internal constant CERTIFIER = 1 << 5;
    uint256 internal constant COORDINATOR = 1 << 6;
    /// @notice An operator trusted by the constellation to anchor batches of events that
    /// members signed off chain; it authors no record itself.
    uint256 internal constant ANCHORER = 1 << 7;

    /// @notice Every defined role; any other bit is invalid.
    uint256 internal constant ALL = (1 << 8) - 1;

    /// @notice Roles whose holders may anchor event batches.
    uint256 internal constant WRITERS = SUPPLIER | MANUFACTURER | LOGISTICS | BRAND | RETAILER | CERTIFIER | ANCHORER;
}
