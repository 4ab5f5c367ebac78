"""Who an Ethereum key may authenticate as. Decided here once, for sign-in (SIWE) and for the
keys members are onboarded with:

- the relayer's key is the operator's hot transaction key: it pays gas and proves *when*,
  never *who*, so it signs nobody in (not the operator, not a member);
- the operator's administrative identity is an account of its own (`operator_address`) or the
  bootstrap admin API key, never the relayer;
- the keys of Anvil's default mnemonic are published: outside an explicit development flag
  (`dev_mode`, which `up` turns on for its embedded Anvil) they authenticate nobody."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_utils import to_checksum_address

from service.chain.anvil import DEV_MNEMONIC
from service.errors import NotAuthenticated, PolicyDenied

DEV_ACCOUNTS = 20
"""Accounts of the default mnemonic that development tools fund and print (Anvil 10, Hardhat 20)."""


@lru_cache(maxsize=1)
def dev_addresses() -> frozenset[str]:
    """The addresses of Anvil's (and Hardhat's) default mnemonic: their private keys are public."""
    seed = seed_from_mnemonic(DEV_MNEMONIC, "")
    return frozenset(
        Account.from_key(key_from_seed(seed, f"m/44'/60'/0'/0/{index}")).address for index in range(DEV_ACCOUNTS)
    )


@dataclass(frozen=True)
class Identities:
    """The keys that are not members' own: the relayer's, the operator's admin account, and
    whether the published development keys count (a development chain only)."""

    relayer: str | None
    operator: str | None = None
    dev_mode: bool = False

    def refuse_published_key(self, address: str, *, action: str) -> None:
        """PolicyDenied when `address` is a well-known development account outside dev mode."""
        if not self.dev_mode and to_checksum_address(address) in dev_addresses():
            raise PolicyDenied(
                f"{address} is one of Anvil's well-known development accounts (its private key is public): it "
                f"cannot {action} unless the service runs in development mode (CONSTELLATE_DEV_MODE)"
            )

    def is_operator(self, address: str) -> bool:
        """True when `address` is the operator's administrative account (never the relayer)."""
        return self.operator is not None and to_checksum_address(address) == to_checksum_address(self.operator)

    def check_member_key(self, address: str) -> None:
        """PolicyDenied for a key no member may hold: a published one, or the relayer's."""
        self.refuse_published_key(address, action="be a member's key")
        if self.relayer is not None and to_checksum_address(address) == to_checksum_address(self.relayer):
            raise PolicyDenied(f"{address} is the relayer's transaction key: it cannot be a member's key")

    def check_sign_in(self, address: str) -> None:
        """NotAuthenticated for a key that may sign nobody in: a published one, or the relayer's."""
        try:
            self.refuse_published_key(address, action="sign in")
        except PolicyDenied as exc:
            raise NotAuthenticated(str(exc)) from None
        if self.relayer is not None and to_checksum_address(address) == to_checksum_address(self.relayer):
            raise NotAuthenticated(
                f"{address} is the relayer's transaction key: it signs transactions, never anyone in "
                "(the operator signs in with CONSTELLATE_OPERATOR_ADDRESS or the admin API key)"
            )
