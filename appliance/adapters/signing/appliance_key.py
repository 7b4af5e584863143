"""The appliance's own Ed25519 key: made once per install, kept in the data dir.

It signs what must be checkable outside the catalog (audit checkpoints today;
sealed engines and air-gap receipts later). The private half never leaves the
file (mode 0600 in a 0700 folder) and is never logged; the public half and its
id (the first 16 hex digits of its SHA-256) are what others hold.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from appliance.errors import ConfigError

KEY_FILE = "appliance.ed25519.pem"


class ApplianceKey:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.public_bytes = self.public.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = hashlib.sha256(self.public_bytes).hexdigest()[:16]

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> ApplianceKey:
        """The key in ``keys_dir``, made there first if there is none. Two processes
        making it at once agree: the file is created exclusively, the loser reads it."""
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = keys_dir / KEY_FILE
        if not path.exists():
            cls._create(path)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"the appliance key {path} cannot be read ({exc})",
                hint="restore it from a backup; a new key cannot verify what the old one signed",
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"the appliance key {path} is not an Ed25519 key")
        return cls(key)

    @staticmethod
    def _create(path: Path) -> None:
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if another process got there first: keep theirs
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def verify(self, signature: bytes, message: bytes) -> bool:
        return verify_signature(self.public_bytes, signature, message)


def verify_signature(public_bytes: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_bytes).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
