"""Token verification: only identity's ES256 tokens, for our issuer and audience, unexpired, with a known kid."""
from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
import pytest
from fastapi import FastAPI

from shared.auth import CurrentPrincipal
from shared.errors import install_error_handlers

from shared.tokens import InvalidToken, KeysUnavailable, SigningKey, TokenVerifier, issue_token

ISS, AUD = "https://id.example/api/v1/identity", "esop"


class Jwks:
    """Identity's JWKS document as a fetch function, counting how often it is fetched."""

    def __init__(self, *keys: SigningKey):
        self.keys = list(keys)
        self.fetches = 0

    async def __call__(self) -> dict:
        self.fetches += 1
        return {"keys": [k.public_jwk() for k in self.keys]}


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate()


def _token(key: SigningKey, **overrides) -> str:
    claims = {"issuer": ISS, "audience": AUD, "subject": "u1", "ttl_seconds": 60, **overrides}
    return issue_token(key, **claims)


def _b64(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


class TestVerifyToken:
    async def test_a_good_token_gives_its_claims(self, key) -> None:
        claims = await TokenVerifier(Jwks(key), issuer=ISS, audience=AUD).verify(
            _token(key, tid="t1", sid="s1", roles=["employee"], scope="openid"))
        assert (claims.sub, claims.tid, claims.sid, claims.roles, claims.scope) == ("u1", "t1", "s1", ["employee"],
                                                                                     "openid")

    @pytest.mark.parametrize("overrides", [{"issuer": "https://evil.example"}, {"audience": "other"},
                                           {"ttl_seconds": -5}])
    async def test_wrong_issuer_audience_or_expired_is_refused(self, key, overrides) -> None:
        with pytest.raises(InvalidToken):
            await TokenVerifier(Jwks(key), issuer=ISS, audience=AUD).verify(_token(key, **overrides))

    async def test_another_key_under_the_published_kid_is_refused(self, key) -> None:
        impostor = SigningKey(kid=key.kid, private_pem=SigningKey.generate().private_pem)
        with pytest.raises(InvalidToken):
            await TokenVerifier(Jwks(key), issuer=ISS, audience=AUD).verify(_token(impostor))

    async def test_alg_none_and_hmac_with_the_public_key_are_refused(self, key) -> None:
        payload = {"iss": ISS, "aud": AUD, "sub": "u1", "iat": int(time.time()), "exp": int(time.time()) + 60}
        unsigned = f"{_b64({'alg': 'none', 'kid': key.kid})}.{_b64(payload)}."
        public_pem = json.dumps(key.public_jwk()).encode() * 2  # a 'secret' an attacker can know
        hmac = jwt.encode(payload, public_pem, algorithm="HS256", headers={"kid": key.kid})
        verifier = TokenVerifier(Jwks(key), issuer=ISS, audience=AUD)
        for token in (unsigned, hmac, "garbage", "", "a.b.c"):
            with pytest.raises(InvalidToken):
                await verifier.verify(token)

    async def test_a_token_without_exp_is_refused(self, key) -> None:
        token = jwt.encode({"iss": ISS, "aud": AUD, "sub": "u1", "iat": int(time.time())}, key.private_pem,
                           algorithm="ES256", headers={"kid": key.kid})
        with pytest.raises(InvalidToken):
            await TokenVerifier(Jwks(key), issuer=ISS, audience=AUD).verify(token)


class TestJwksCache:
    async def test_a_new_key_is_fetched_once_and_unknown_kids_do_not_hammer_identity(self, key) -> None:
        jwks = Jwks(key)
        verifier = TokenVerifier(jwks, issuer=ISS, audience=AUD, min_refetch_seconds=60)
        await verifier.verify(_token(key))
        await verifier.verify(_token(key))
        assert jwks.fetches == 1
        stranger = SigningKey.generate()
        for _ in range(20):
            with pytest.raises(InvalidToken):
                await verifier.verify(_token(stranger))
        assert jwks.fetches == 1

    async def test_a_rotated_key_is_picked_up_after_the_refetch_pause(self, key) -> None:
        jwks = Jwks(key)
        verifier = TokenVerifier(jwks, issuer=ISS, audience=AUD, min_refetch_seconds=0)
        await verifier.verify(_token(key))
        rotated = SigningKey.generate()
        jwks.keys.append(rotated)
        assert (await verifier.verify(_token(rotated))).sub == "u1"
        assert jwks.fetches == 2


class TestIdentityUnreachable:
    """Regression: with identity down, a service whose key cache had aged (or a service that had just
    started) answered every authenticated call with a 500 (the JWKS fetch's ConnectError escaped)."""

    async def test_known_keys_keep_working_after_the_cache_ages(self, key) -> None:
        jwks = Jwks(key)
        verifier = TokenVerifier(jwks, issuer=ISS, audience=AUD, cache_seconds=0.0, min_refetch_seconds=0.0)
        await verifier.verify(_token(key))

        async def down() -> dict:
            raise ConnectionError("identity is down")

        verifier._fetch = down
        assert (await verifier.verify(_token(key))).sub == "u1"

    async def test_without_keys_it_says_unavailable_not_invalid(self, key) -> None:
        async def down() -> dict:
            raise ConnectionError("identity is down")

        verifier = TokenVerifier(down, issuer=ISS, audience=AUD)
        with pytest.raises(KeysUnavailable):
            await verifier.verify(_token(key))

    async def test_a_service_answers_503_problem_when_it_cannot_get_keys(self, key) -> None:
        async def down() -> dict:
            raise ConnectionError("identity is down")

        app = FastAPI()
        install_error_handlers(app)
        app.state.verifier = TokenVerifier(down, issuer=ISS, audience=AUD)

        @app.get("/me")
        async def me(principal: CurrentPrincipal) -> dict:
            return {"sub": str(principal.user_id)}

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            resp = await client.get("/me", headers={"Authorization": f"Bearer {_token(key)}"})
        assert resp.status_code == 503 and resp.headers["content-type"] == "application/problem+json", resp.text
        assert resp.headers.get("retry-after")
