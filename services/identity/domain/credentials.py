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


def _folded(text: str) -> str:
    """Lower case without spaces and the separators people put in numbers and names."""
    return "".join(c for c in text.lower() if c.isalnum() or c == "@")


def _personal_parts(name: str | None, email: str | None, mobile: str | None, employee_no: str | None) -> list[str]:
    """What a password may not contain: the whole email and its name part, the name (a Chinese
    name of two characters counts), the mobile's last eight digits, the employee number."""
    parts = [email, email.split("@")[0] if email else None, name, employee_no]
    folded = [f for f in (_folded(p) for p in parts if p) if len(f) >= 3 or (len(f) >= 2 and not f.isascii())]
    digits = "".join(c for c in mobile or "" if c.isdigit())
    return folded + ([digits[-8:]] if len(digits) >= 8 else [])


def password_problems(password: str, *, name: str | None = None, email: str | None = None,
                      mobile: str | None = None, employee_no: str | None = None) -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        problems.append(f"at most {MAX_PASSWORD} characters")
    if len(set(password)) < 4:
        problems.append("too few different characters")
    folded = _folded(password)
    if any(p in folded for p in _personal_parts(name, email, mobile, employee_no)):
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
