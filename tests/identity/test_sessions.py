"""Login, tokens, refresh rotation, logout, discovery."""
from __future__ import annotations

import asyncio

import jwt
import psycopg2

from tests.flows import ID, auth, company_with_employees, login


def outbox_types(database_url: str, subject: str) -> list[str]:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("select type from identity.outbox where subject = %s order by seq", (subject,))
        return [r[0] for r in cur.fetchall()]


class TestLogin:
    async def test_token_is_es256_with_kid_and_claims_and_verifies_with_jwks(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        jwks = (await platform.client.get(f"{ID}/.well-known/jwks.json")).json()
        header = jwt.get_unverified_header(person.token)
        assert header["alg"] == "ES256"
        key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
        claims = jwt.decode(person.token, jwt.PyJWK(key).key, algorithms=["ES256"], audience="esop",
                            issuer="http://localhost:8000/api/v1/identity")
        assert claims["sub"] == str(person.user_id) and claims["tid"] == str(company.tenant_id)
        assert claims["exp"] - claims["iat"] == 900 and claims["sid"]
        me = await platform.client.get(f"{ID}/me", headers=auth(person.token))
        assert me.status_code == 200 and me.json()["employee_no"] == person.employee_no

    async def test_login_by_mobile(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        resp = await platform.client.post(f"{ID}/token", json={"login": person.mobile, "password": person.password})
        assert resp.status_code == 200

    async def test_wrong_password_is_401_and_recorded(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        resp = await platform.client.post(f"{ID}/token", json={"login": person.email, "password": "wrong-password"})
        assert resp.status_code == 401 and resp.headers["content-type"] == "application/problem+json"
        assert "esop.identity.user.login_failed" in outbox_types(platform.database_url, str(person.user_id))

    async def test_five_failures_lock_the_account(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        for _ in range(5):
            await platform.client.post(f"{ID}/token", json={"login": person.email, "password": "wrong-password"})
        resp = await platform.client.post(f"{ID}/token", json={"login": person.email, "password": person.password})
        assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0

    async def test_unknown_login_looks_like_a_wrong_password(self, platform) -> None:
        resp = await platform.client.post(f"{ID}/token", json={"login": "nobody@example.com", "password": "x"})
        assert resp.status_code == 401


class TestRefresh:
    async def test_refresh_rotates_and_reuse_ends_the_session(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        first = person.refresh_token
        resp = await platform.client.post(f"{ID}/token/refresh", json={"refresh_token": first})
        assert resp.status_code == 200
        second = resp.json()
        assert second["refresh_token"] != first
        replay = await platform.client.post(f"{ID}/token/refresh", json={"refresh_token": first})
        assert replay.status_code == 401
        after = await platform.client.post(f"{ID}/token/refresh", json={"refresh_token": second["refresh_token"]})
        assert after.status_code == 401, "reuse of a rotated token must end the whole session"
        me = await platform.client.get(f"{ID}/me", headers=auth(second["access_token"]))
        assert me.status_code == 401
        assert "esop.identity.session.revoked" in outbox_types(platform.database_url, str(person.user_id))

    async def test_concurrent_refreshes_with_one_token_yield_one_winner(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        token = company.employees[0].refresh_token
        results = await asyncio.gather(*(platform.client.post(f"{ID}/token/refresh", json={"refresh_token": token})
                                         for _ in range(3)))
        assert sorted(r.status_code for r in results) == [200, 401, 401]


class TestLogout:
    async def test_logout_ends_the_session_and_is_idempotent(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        assert (await platform.client.post(f"{ID}/logout", headers=auth(person.token))).status_code == 204
        assert (await platform.client.post(f"{ID}/logout", headers=auth(person.token))).status_code == 204
        assert (await platform.client.get(f"{ID}/me", headers=auth(person.token))).status_code == 401
        resp = await platform.client.post(f"{ID}/token/refresh", json={"refresh_token": person.refresh_token})
        assert resp.status_code == 401
        assert outbox_types(platform.database_url, str(person.user_id)).count("esop.identity.user.logged_out") == 1
        await login(platform.client, person)


class TestTokensAtTheGateway:
    async def test_forged_or_garbage_tokens_are_refused_before_the_service(self, platform) -> None:
        forged = jwt.encode({"sub": "x", "aud": "esop", "iss": "http://localhost:8000/api/v1/identity"},
                            "secret", algorithm="HS256")
        for token in (forged, "garbage", ""):
            resp = await platform.client.get(f"{ID}/me", headers={"Authorization": f"Bearer {token}"})
            assert resp.status_code == 401
            assert resp.headers["content-type"] == "application/problem+json"

    async def test_no_token_is_401_from_the_service(self, platform) -> None:
        resp = await platform.client.get(f"{ID}/me")
        assert resp.status_code == 401 and resp.json()["title"] == "Unauthorized"


class TestDiscovery:
    async def test_openid_configuration_points_at_jwks(self, platform) -> None:
        doc = (await platform.client.get(f"{ID}/.well-known/openid-configuration")).json()
        assert doc["jwks_uri"].endswith("/.well-known/jwks.json")
        assert "ES256" in doc["id_token_signing_alg_values_supported"]
