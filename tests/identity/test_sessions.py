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
        resp = await platform.client.post(f"{ID}/token", json={"login": person.login_name, "password": "wrong-password"})
        assert resp.status_code == 401 and resp.headers["content-type"] == "application/problem+json"
        assert "esop.identity.user.login_failed" in outbox_types(platform.database_url, str(person.user_id))

    async def test_five_failures_lock_the_account(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        for _ in range(5):
            await platform.client.post(f"{ID}/token", json={"login": person.login_name, "password": "wrong-password"})
        resp = await platform.client.post(f"{ID}/token", json={"login": person.login_name, "password": person.password})
        assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0

    async def test_lockouts_grow_and_a_good_login_resets_them(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        waits = []
        for _ in range(2):
            for _ in range(5):
                await platform.client.post(f"{ID}/token", json={"login": person.login_name, "password": "wrong-pw"})
            resp = await platform.client.post(f"{ID}/token", json={"login": person.login_name,
                                                                   "password": person.password})
            assert resp.status_code == 429
            waits.append(int(resp.headers["Retry-After"]))
            with psycopg2.connect(platform.database_url) as conn, conn.cursor() as cur:
                cur.execute("update identity.users set locked_until = now() where id = %s", (str(person.user_id),))
                cur.execute("update identity.login_throttles set locked_until = now()")  # the name's lock too
        assert 55 <= waits[0] <= 61 and 115 <= waits[1] <= 121
        assert (await platform.client.post(f"{ID}/token", json={"login": person.login_name,
                                                                "password": person.password})).status_code == 200

    async def test_parallel_guesses_are_counted_and_locked_out_too(self, platform) -> None:
        """Regression: 30 wrong passwords sent at once all got 401 (lost updates of the failure
        count), and the right password then opened the account."""
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        guesses = await asyncio.gather(*(platform.client.post(f"{ID}/token", json={
            "login": person.login_name, "password": f"wrong-password-{i}"}) for i in range(12)))
        codes = sorted(r.status_code for r in guesses)
        assert codes == [401] * 5 + [429] * 7, codes
        resp = await platform.client.post(f"{ID}/token", json={"login": person.login_name, "password": person.password})
        assert resp.status_code == 429

    async def test_the_lockout_message_agrees_with_retry_after(self, platform) -> None:
        """Regression: a 1-minute lock said "try again in 2 minute(s)"."""
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        for _ in range(5):
            await platform.client.post(f"{ID}/token", json={"login": person.login_name, "password": "wrong-password"})
        resp = await platform.client.post(f"{ID}/token", json={"login": person.login_name, "password": person.password})
        assert resp.status_code == 429 and int(resp.headers["Retry-After"]) <= 61
        assert "1 minute" in resp.json()["detail"] and "minutes" not in resp.json()["detail"], resp.json()["detail"]

    async def test_the_client_cannot_write_its_own_address_into_the_login_record(self, platform) -> None:
        """Regression: a client-sent X-Forwarded-For was recorded as the login's IP."""
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        resp = await platform.client.post(f"{ID}/token", headers={"X-Forwarded-For": "6.6.6.6"},
                                          json={"login": person.login_name, "password": person.password})
        assert resp.status_code == 200
        with psycopg2.connect(platform.database_url) as conn, conn.cursor() as cur:
            cur.execute("select envelope->'data'->>'ip' from identity.outbox where type = %s and subject = %s "
                        "order by seq desc limit 1", ("esop.identity.user.logged_in", str(person.user_id)))
            [(ip,)] = cur.fetchall()
        assert ip == "127.0.0.1"

    async def test_unknown_login_looks_like_a_wrong_password(self, platform) -> None:
        resp = await platform.client.post(f"{ID}/token", json={"login": "nobody@example.com", "password": "x"})
        assert resp.status_code == 401

    async def test_lockout_does_not_tell_who_has_an_account(self, platform) -> None:
        """Regression: five wrong passwords locked a real account (429) while an unknown login stayed
        401 forever, so anyone could find out which mobiles and emails are on the platform."""
        company = await company_with_employees(platform, 1)
        known = company.employees[0].login_name
        answers = {}
        for name in (known, "13912345678", "nobody.here@example.com"):
            for _ in range(5):
                await platform.client.post(f"{ID}/token", json={"login": name, "password": "wrong-password"})
            resp = await platform.client.post(f"{ID}/token", json={"login": name, "password": "wrong-password"})
            answers[name] = (resp.status_code, resp.json()["detail"], resp.headers.get("Retry-After") is not None)
        assert len(set(answers.values())) == 1 and answers[known][0] == 429, answers
        # The same name written another way is the same name.
        resp = await platform.client.post(f"{ID}/token", json={"login": "139 1234 5678", "password": "x"})
        assert resp.status_code == 429

    async def test_lockout_does_not_tell_who_has_an_account_through_the_scope_flags(self, platform) -> None:
        """Regression: with a name locked, `tenant_id` or `"platform": true` answered 401 for a real
        account (it was locked on the account) and 429 for an unknown name (locked on the name); and
        failures with `platform: true` locked an unknown name but not a real one."""
        import uuid

        company = await company_with_employees(platform, 2)
        known, other_known = company.employees[0].login_name, company.employees[1].login_name
        scoped = [{"tenant_id": str(uuid.uuid4())}, {"platform": True}]
        answers = {}
        for name in (known, "13912345670"):
            for _ in range(5):
                await platform.client.post(f"{ID}/token", json={"login": name, "password": "wrong-password"})
            answers[name] = [(await platform.client.post(f"{ID}/token", json={
                "login": name, "password": "wrong-password", **extra})).status_code for extra in scoped]
        assert answers[known] == answers["13912345670"] == [429, 429], answers
        answers = {}
        for name in (other_known, "13912345671"):
            for _ in range(5):
                await platform.client.post(f"{ID}/token", json={"login": name, "password": "wrong", "platform": True})
            answers[name] = (await platform.client.post(f"{ID}/token", json={"login": name, "password": "wrong"})
                             ).status_code
        assert answers[other_known] == answers["13912345671"] == 429, answers


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
        first = await platform.client.post(f"{ID}/logout", headers=auth(person.token))
        assert first.status_code == 204 and first.content == b""
        assert "content-type" not in first.headers, "regression: a 204 said it carried JSON"
        assert (await platform.client.post(f"{ID}/logout", headers=auth(person.token))).status_code == 204
        assert (await platform.client.get(f"{ID}/me", headers=auth(person.token))).status_code == 401
        resp = await platform.client.post(f"{ID}/token/refresh", json={"refresh_token": person.refresh_token})
        assert resp.status_code == 401
        assert outbox_types(platform.database_url, str(person.user_id)).count("esop.identity.user.logged_out") == 1
        await login(platform.client, person)


class TestTokensAtTheGateway:
    async def test_forged_or_garbage_tokens_are_refused_before_the_service(self, platform) -> None:
        forged = jwt.encode({"sub": "x", "aud": "esop", "iss": "http://localhost:8000/api/v1/identity"},
                            "a-secret-an-attacker-chose-of-32-bytes", algorithm="HS256")
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


class TestLoginNamesAcrossCompanies:
    """Regression: a company admin who put someone else's email on their roster could lock that
    person (even the platform administrator) out of login with a 400 'give tenant_id'."""

    async def test_an_unverified_copy_of_my_email_does_not_lock_me_out(self, platform) -> None:
        from tests.flows import Person, create_company, import_roster, make_platform_admin, register

        root = await make_platform_admin(platform.database_url)
        victim_company = await create_company(platform, root)
        victim = Person.fake(1)
        await import_roster(platform, victim_company, [victim])
        await register(platform.client, platform.message_sink, victim, channel="email")
        attacker_company = await create_company(platform, root)
        impostor = Person.fake(7)
        impostor.email = victim.email  # someone else's email, the attacker's own mobile
        await import_roster(platform, attacker_company, [impostor])
        await register(platform.client, platform.message_sink, impostor, channel="mobile")
        resp = await platform.client.post(f"{ID}/token", json={"login": victim.email, "password": victim.password})
        assert resp.status_code == 200, resp.text
        claims = jwt.decode(resp.json()["access_token"], options={"verify_signature": False})
        assert claims["sub"] == str(victim.user_id)

    async def test_the_platform_admin_keeps_logging_in_when_a_company_admin_shares_the_email(self, platform) -> None:
        from tests.flows import make_platform_admin

        root = await make_platform_admin(platform.database_url)
        await login(platform.client, root)
        resp = await platform.client.post(f"{ID}/tenants", headers=auth(root.token), json={
            "name": "同邮箱公司", "admin": {"name": "x", "email": root.email.upper(), "mobile": "13800138000"}})
        assert resp.status_code == 201
        from tests.flows import Person, register

        admin = Person(name="x", mobile="13800138000", email=root.email, user_id=__import__("uuid").UUID(
            resp.json()["admin_user_id"]), password="Another-Company-Pass9")
        await register(platform.client, platform.message_sink, admin, channel="email")
        for person in (root, admin):
            resp = await platform.client.post(f"{ID}/token", json={"login": root.email, "password": person.password})
            assert resp.status_code == 200, resp.text
            claims = jwt.decode(resp.json()["access_token"], options={"verify_signature": False})
            assert claims["sub"] == str(person.user_id)

    async def test_an_unproven_email_is_no_login_name(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]  # registered with a code sent to the mobile
        resp = await platform.client.post(f"{ID}/token", json={"login": person.email, "password": person.password})
        assert resp.status_code == 401
        resp = await platform.client.post(f"{ID}/token", json={"login": person.mobile, "password": person.password})
        assert resp.status_code == 200

    async def test_the_platform_admin_can_pick_the_platform_account_when_passwords_agree_too(self, platform) -> None:
        """Regression: a company that put the platform administrator's email on its roster, registered
        with the same password, left no way to reach the platform account: tenant_id null was still
        'give tenant_id' (400), and the company's id opened the employee account."""
        import uuid

        from tests.flows import Person, make_platform_admin, register

        root = await make_platform_admin(platform.database_url)
        await login(platform.client, root)
        resp = await platform.client.post(f"{ID}/tenants", headers=auth(root.token), json={
            "name": f"同密码公司 {uuid.uuid4().hex[:6]}",
            "admin": {"name": "x", "email": root.email, "mobile": "13800138001"}})
        assert resp.status_code == 201, resp.text
        twin = Person(name="x", mobile="13800138001", email=root.email, password=root.password,
                      user_id=uuid.UUID(resp.json()["admin_user_id"]))
        await register(platform.client, platform.message_sink, twin, channel="email")
        ambiguous = await platform.client.post(f"{ID}/token", json={"login": root.email, "password": root.password})
        assert ambiguous.status_code == 400 and "platform" in ambiguous.json()["detail"]
        for extra, who in (({"platform": True}, root), ({"tenant_id": resp.json()["id"]}, twin)):
            chosen = await platform.client.post(f"{ID}/token", json={"login": root.email, "password": root.password,
                                                                      **extra})
            assert chosen.status_code == 200, chosen.text
            claims = jwt.decode(chosen.json()["access_token"], options={"verify_signature": False})
            assert claims["sub"] == str(who.user_id)
        both = await platform.client.post(f"{ID}/token", json={"login": root.email, "password": root.password,
                                                                "platform": True, "tenant_id": resp.json()["id"]})
        assert both.status_code == 422
