"""Registration by invitation with a one-time code."""
from __future__ import annotations

import asyncio

import psycopg2
import pytest

from tests.flows import (
    ID,
    Person,
    create_company,
    eventually,
    import_roster,
    invitation_code,
    make_platform_admin,
    message_for,
    register,
)


@pytest.fixture
async def invited(platform):
    """A company with one invited (not yet registered) employee: (company, person, invitation code)."""
    root = await make_platform_admin(platform.database_url)
    company = await create_company(platform, root)
    person = Person.fake(1)
    await import_roster(platform, company, [person])
    return company, person, await invitation_code(platform.message_sink, person.user_id)


def sql(database_url: str, statement: str, *args) -> None:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(statement, args)


async def send_code(client, code: str, channel: str = "mobile"):
    return await client.post(f"{ID}/registrations/code", json={"invitation_code": code, "channel": channel})


async def complete(client, code: str, otp: str, password: str = "Correct-Horse-Battery-9"):
    return await client.post(f"{ID}/registrations", json={"invitation_code": code, "verification_code": otp,
                                                          "password": password})


class TestRegister:
    async def test_code_goes_to_the_mobile_and_registration_publishes_the_event(self, platform, invited) -> None:
        _company, person, code = invited
        resp = await send_code(platform.client, code)
        assert resp.status_code == 202
        assert resp.json()["destination"].endswith(person.mobile[-4:]) and "****" in resp.json()["destination"]
        otp = message_for(platform.message_sink, person.user_id, "registration")
        assert otp["to"] == f"+86{person.mobile}" and otp["channel"] == "mobile"
        resp = await complete(platform.client, code, otp["code"])
        assert resp.status_code == 201, resp.text
        assert resp.json()["status"] == "active"
        with psycopg2.connect(platform.database_url) as conn, conn.cursor() as cur:
            cur.execute("select count(*) from identity.outbox where type = 'esop.identity.user.registered' "
                        "and subject = %s", (str(person.user_id),))
            assert cur.fetchone()[0] == 1

    async def test_invitation_works_once(self, platform, invited) -> None:
        _company, person, code = invited
        await register(platform.client, platform.message_sink, person)
        resp = await send_code(platform.client, code)
        assert resp.status_code == 409
        assert resp.headers["content-type"] == "application/problem+json"

    async def test_unknown_invitation_is_404(self, platform) -> None:
        resp = await send_code(platform.client, "NOSUCHCODE")
        assert resp.status_code == 404 and resp.json()["status"] == 404


class TestVerificationCode:
    async def test_wrong_codes_count_and_the_fifth_kills_the_code(self, platform, invited) -> None:
        _company, person, code = invited
        await send_code(platform.client, code)
        otp = message_for(platform.message_sink, person.user_id, "registration")["code"]
        wrong = "000000" if otp != "000000" else "111111"
        for left in (4, 3, 2, 1, 0):
            resp = await complete(platform.client, code, wrong)
            assert resp.status_code == 400
            assert resp.json()["tries_left"] == left
        resp = await complete(platform.client, code, otp)
        assert resp.status_code == 410, "the right code must not work after five wrong tries"

    async def test_expired_code_is_refused(self, platform, invited) -> None:
        _company, person, code = invited
        await send_code(platform.client, code)
        otp = message_for(platform.message_sink, person.user_id, "registration")["code"]
        sql(platform.database_url, "update identity.verification_codes set expires_at = now() - interval '1 second'")
        resp = await complete(platform.client, code, otp)
        assert resp.status_code == 410
        assert "expired" in resp.json()["detail"]

    async def test_asking_again_at_once_is_throttled_then_replaces_the_code(self, platform, invited) -> None:
        _company, person, code = invited
        await send_code(platform.client, code)
        first = message_for(platform.message_sink, person.user_id, "registration")["code"]
        resp = await send_code(platform.client, code)
        assert resp.status_code == 429 and "Retry-After" in resp.headers
        sql(platform.database_url, "update identity.verification_codes set created_at = now() - interval '1 minute'")
        assert (await send_code(platform.client, code, "email")).status_code == 202
        second = message_for(platform.message_sink, person.user_id, "registration")
        assert second["channel"] == "email"
        if first != second["code"]:
            assert (await complete(platform.client, code, first)).status_code == 400
        assert (await complete(platform.client, code, second["code"])).status_code == 201

    async def test_weak_password_is_refused_and_the_code_still_works(self, platform, invited) -> None:
        _company, person, code = invited
        await send_code(platform.client, code)
        otp = message_for(platform.message_sink, person.user_id, "registration")["code"]
        resp = await complete(platform.client, code, otp, password="short")
        assert resp.status_code == 422
        assert resp.json()["errors"][0]["loc"] == ["body", "password"]
        resp = await complete(platform.client, code, otp, password=f"x{person.mobile}y-long")
        assert resp.status_code == 422
        assert (await complete(platform.client, code, otp)).status_code == 201

    async def test_concurrent_completions_register_once(self, platform, invited) -> None:
        _company, person, code = invited
        await send_code(platform.client, code)
        otp = message_for(platform.message_sink, person.user_id, "registration")["code"]
        results = await asyncio.gather(*(complete(platform.client, code, otp) for _ in range(4)))
        assert sorted(r.status_code for r in results) == [201, 409, 409, 409]


class TestBadInput:
    @pytest.mark.parametrize("body", [{}, {"invitation_code": "ABCDEFGH"}, {"invitation_code": "ABCDEFGH",
                                                                             "channel": "pigeon"},
                                      {"invitation_code": 5, "channel": "mobile", "extra": 1}, []])
    async def test_malformed_bodies_get_problem_details(self, platform, body) -> None:
        resp = await platform.client.post(f"{ID}/registrations/code", json=body)
        assert resp.status_code == 422
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["errors"]

    async def test_not_json_at_all(self, platform) -> None:
        resp = await platform.client.post(f"{ID}/registrations", content=b"\x00\xff{",
                                          headers={"content-type": "application/json"})
        assert resp.status_code == 400
        assert resp.headers["content-type"] == "application/problem+json"


async def test_eventually_times_out() -> None:
    async def never() -> None:
        return None

    with pytest.raises(AssertionError):
        await eventually(never, timeout=0.2)
