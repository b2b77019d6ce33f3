"""Passwords (argon2id, OWASP parameters), one-time codes and opaque tokens."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
password_hash = PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19456, parallelism=1),))
_DUMMY_HASH = password_hash.hash("a password nobody has, to spend the same time on unknown users")

MIN_PASSWORD = 10
MAX_PASSWORD = 128
INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def password_problems(password: str, *, personal: list[str]) -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        problems.append(f"at most {MAX_PASSWORD} characters")
    if len(set(password)) < 4:
        problems.append("too few different characters")
    lowered = password.lower()
    if any(p and len(p) >= 4 and p.lower() in lowered for p in personal):
        problems.append("must not contain your name, mobile, email or employee number")
    return problems


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    if hashed is None:
        password_hash.verify(password, _DUMMY_HASH)
        return False
    return password_hash.verify(password, hashed)


def new_verification_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def new_invitation_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(10))


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def same_digest(value: str, expected: str) -> bool:
    return hmac.compare_digest(digest(value), expected)
