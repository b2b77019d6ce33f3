"""Access tokens: ES256 JWTs with a `kid`, verified against identity's JWKS.

`iss`, `aud`, `exp` and the key id are always checked.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ALGORITHM = "ES256"


class InvalidToken(Exception):
    pass


class KeysUnavailable(Exception):
    """Identity's keys cannot be fetched and none are cached for the token's kid: retry later."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str

    @classmethod
    def generate(cls) -> "SigningKey":
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return cls(kid=uuid.uuid4().hex, private_pem=pem)

    def public_jwk(self) -> dict[str, Any]:
        private = serialization.load_pem_private_key(self.private_pem.encode(), password=None)
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}


@dataclass(frozen=True)
class Claims:
    sub: str
    tid: str | None
    sid: str | None
    roles: list[str]
    scope: str
    exp: int
    raw: dict[str, Any] = field(repr=False)


def issue_token(key: SigningKey, *, issuer: str, audience: str, subject: str, ttl_seconds: int,
                **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": issuer, "aud": audience, "sub": subject, "iat": now, "nbf": now, "exp": now + ttl_seconds,
               "jti": uuid.uuid4().hex, **claims}
    return jwt.encode(payload, key.private_pem, algorithm=ALGORITHM, headers={"kid": key.kid})


class TokenVerifier:
    """Verifies tokens against a JWKS fetched on demand and cached; refetches on an unknown kid."""

    def __init__(self, fetch_jwks: Callable[[], Awaitable[dict[str, Any]]], *, issuer: str, audience: str,
                 cache_seconds: float = 300.0, min_refetch_seconds: float = 5.0):
        self._fetch = fetch_jwks
        self.issuer = issuer
        self.audience = audience
        self.cache_seconds = cache_seconds
        self.min_refetch_seconds = min_refetch_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _key(self, kid: str) -> jwt.PyJWK:
        fresh = time.monotonic() - self._fetched_at < self.cache_seconds
        if kid in self._keys and fresh:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys or time.monotonic() - self._fetched_at >= self.cache_seconds:
                if time.monotonic() - self._fetched_at >= self.min_refetch_seconds or not self._keys:
                    await self._refetch(kid)
        if kid not in self._keys:
            raise InvalidToken("unknown signing key")
        return self._keys[kid]

    async def _refetch(self, kid: str) -> None:
        """Fetch the JWKS. If identity cannot be reached, the keys already known stay in use (a key
        does not go bad because identity is down); a kid never seen is then 'retry later', not 'invalid'."""
        try:
            jwks = await self._fetch()
        except Exception as exc:  # noqa: BLE001 - any failure to reach identity
            self._fetched_at = time.monotonic()  # do not hammer identity while it is down
            if kid in self._keys:
                return
            raise KeysUnavailable(f"identity's signing keys cannot be fetched: {exc!r}") from exc
        self._keys = {k["kid"]: jwt.PyJWK(k) for k in jwks.get("keys", []) if "kid" in k}
        self._fetched_at = time.monotonic()

    async def verify(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") != ALGORITHM or not header.get("kid"):
            raise InvalidToken("unsupported token algorithm or missing key id")
        key = await self._key(str(header["kid"]))
        try:
            raw = jwt.decode(token, key.key, algorithms=[ALGORITHM], audience=self.audience, issuer=self.issuer,
                             options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"invalid token: {exc}") from exc
        return Claims(sub=raw["sub"], tid=raw.get("tid"), sid=raw.get("sid"), roles=list(raw.get("roles", [])),
                      scope=raw.get("scope", ""), exp=raw["exp"], raw=raw)
