"""Password hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against this when no resident matches keeps login timing uniform: a hash made
# once with `_hasher`'s parameters (Argon2id, 64 MiB, 3 passes, 4 lanes), so verifying it
# costs what verifying a resident's does (tests/unit/test_passwords.py holds it to them).
# Written out rather than hashed at import, which took each worker ~160 ms of CPU and
# 64 MiB of transient memory at start.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$ZRADONc0RbdZDzFR9tZL1w$VIFk8lDJjvINfKJiEZ3ASzSjKF2Kcenn/x2/MDIuHKE"
