"""Password hashing with Argon2id (pwdlib's defaults: 64 MiB, 3 passes)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher().verify(password, password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("no user has this password")


def burn_verify_time(password: str) -> None:
    """Spend what a real check costs, so response time does not tell which usernames exist."""
    verify_password(password, _dummy_hash())
