"""Password hashing (scrypt) and bearer tokens (random secrets, stored hashed).

A token reads ``ahoy_<kind>_<id>.<secret>``: the id finds the row, the secret is
compared in constant time against its stored SHA-256 (it has 256 bits of entropy,
so a fast hash is the right one; passwords get scrypt).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 14, 8, 1
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    return hmac.compare_digest(got, _unb64(key))


#: Checked against when the user does not exist, so timing does not tell.
DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43


def password_problem(password: str, username: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if password.lower() == username.lower():
        return "a password may not be the user name"
    return None


def new_token(kind: str) -> tuple[str, str, str]:
    """(token id, full token to hand out once, hash of its secret to store)."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return token_id, f"ahoy_{kind}_{token_id}.{secret}", hash_secret(secret)


def split_token(token: str) -> tuple[str, str, str] | None:
    """(kind, id, secret) of a well-formed token, else None."""
    head, _, secret = token.partition(".")
    parts = head.split("_")
    if len(parts) != 3 or parts[0] != "ahoy" or not secret or len(token) > 200:
        return None
    return parts[1], parts[2], secret


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 << 20, dklen=32)


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode().rstrip("=")


def _unb64(s: str) -> bytes:
    return base64.b64decode(s + "=" * (-len(s) % 4))
