"""Managed member keys, sealed at rest with AES-256-GCM (the `cryptography` library) under a
key-encryption key from settings. The member id is bound in as associated data, so a sealed key
copied onto another member's row does not open."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_account import Account
from eth_account.signers.local import LocalAccount

from service.errors import ConfigurationError

NONCE_BYTES = 12


def generate_key_encryption_key() -> str:
    """A fresh key-encryption key, as the CONSTELLATE_KEY_ENCRYPTION_KEY setting expects it."""
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


class KeyVault:
    """Seals and opens member private keys."""

    def __init__(self, key_encryption_key: str) -> None:
        try:
            raw = base64.urlsafe_b64decode(key_encryption_key.encode())
        except (binascii.Error, ValueError) as exc:
            raise ConfigurationError("the key-encryption key is not base64") from exc
        if len(raw) != 32:
            raise ConfigurationError("the key-encryption key must be 32 bytes (base64 of 32 random bytes)")
        self._aead = AESGCM(raw)

    def new_account(self) -> LocalAccount:
        return Account.create()

    def seal(self, *, member_id: str, private_key: bytes) -> tuple[bytes, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        return nonce, self._aead.encrypt(nonce, private_key, member_id.encode())

    def open(self, *, member_id: str, nonce: bytes, ciphertext: bytes) -> LocalAccount:
        try:
            private_key = self._aead.decrypt(nonce, ciphertext, member_id.encode())
        except InvalidTag as exc:
            raise ConfigurationError(
                f"managed key of member {member_id} does not open with this key-encryption key"
            ) from exc
        return Account.from_key(private_key)
