"""The services as processes lose the broker mid-stream (a TCP proxy the test controls cuts every
connection) and get it back: no event is lost and no consumer applies one twice."""
from __future__ import annotations

import asyncio
import uuid

import httpx
import psycopg2
import pytest

from esop.demo import Employee, Mailbox, bearer, check, generate_roster, login, register, roster_csv
from tests import pg
from tests.e2e.processes import Deployment
from tests.flows import eventually

ADMIN = ("root@esop.example.com", "Platform-Owner-Passw0rd!")
PASSWORD = "Employee-Passw0rd-42"
ID = "/api/v1/identity"


def rows(url: str, query: str) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query)
        return cur.fetchall()


@pytest.fixture
def deployment(pg_server: str, kafka_proxy, tmp_path):
    name = f"esop_outage_{uuid.uuid4().hex[:8]}"
    url = pg.create_database(pg_server, name)
    dep = Deployment(url, kafka_proxy.address, tmp_path)
    dep.database_url = url
    try:
        dep.start_all()
        created = dep.esop("admin", "create", "--email", ADMIN[0], "--name", "Root", "--password", ADMIN[1])
        assert created.returncode == 0, created.stderr
        yield dep
    finally:
        dep.stop_all()
        pg.drop_database(pg_server, name)


async def company_with_roster(client: httpx.AsyncClient, mailbox: Mailbox, people: list[Employee]) -> str:
    root = await login(client, *ADMIN)
    admin = generate_roster(1)[0]
    company = check(await client.post(f"{ID}/tenants", headers=bearer(root), json={
        "name": f"断网公司 {uuid.uuid4().hex[:6]}", "admin": {"name": admin.name, "email": admin.email,
                                                          "mobile": admin.mobile}}), 201)
    await register(client, mailbox, company["admin_user_id"], PASSWORD, "email")
    token = await login(client, admin.email, PASSWORD)

    async def can_invite() -> bool:
        resp = await client.post("/api/v1/authz/check", headers=bearer(token),
                                 json={"permission": "users:invite", "tenant_id": company["id"]})
        return resp.status_code == 200 and resp.json()["allowed"]

    await eventually(can_invite, timeout=60, what="company_admin role")
    imported = check(await client.post(f"{ID}/tenants/{company['id']}/roster", headers=bearer(token),
                                       files={"file": ("r.csv", roster_csv(people), "text/csv")}), 200)
    for person, user_id in zip(people, imported["invited_user_ids"], strict=True):
        person.user_id = user_id
    for person in people:  # invitations go out through identity's own consumer: before the cut
        await mailbox.wait(person.user_id, "invitation", timeout=60)
    return company["id"]


class TestBrokerOutage:
    async def test_no_event_lost_or_applied_twice(self, deployment: Deployment, kafka_proxy) -> None:
        people = generate_roster(6)
        mailbox = Mailbox(deployment.message_sink)
        async with httpx.AsyncClient(base_url=deployment.gateway, timeout=60) as client:
            tenant = await company_with_roster(client, mailbox, people)
            kafka_proxy.cut("refuse")
            for person in people:  # identity works without the broker: events wait in its outbox
                await register(client, mailbox, person.user_id, PASSWORD, "mobile")
                person.token = await login(client, person.mobile, PASSWORD)
            pending = rows(deployment.database_url, "select count(*) from identity.outbox where published_at is null")
            assert pending[0][0] >= 12, "registrations and logins must wait in the outbox while the broker is away"
            await asyncio.sleep(2)
            kafka_proxy.restore()

            async def all_active() -> bool:
                resp = await client.get(f"/api/v1/lifecycle/tenants/{tenant}/stages",
                                        headers=bearer(people[0].token))
                if resp.status_code == 403:  # an employee may not read it: use the database
                    stages = rows(deployment.database_url,
                                  f"select stage, count(*) from lifecycle.user_stages where tenant_id = '{tenant}' "
                                  "group by stage")
                    return dict(stages).get("active", 0) == len(people) + 1
                return resp.json()["counts"]["active"] == len(people) + 1

            await eventually(all_active, timeout=120, what="every employee active after the broker returns")
            for person in people:
                async def has_profile(token: str = person.token) -> bool:
                    return (await client.get("/api/v1/profile/me", headers=bearer(token))).status_code == 200

                await eventually(has_profile, timeout=60, what="the profile made from the registration")

        url = deployment.database_url
        assert rows(url, "select count(*) from identity.outbox where published_at is null")[0][0] == 0
        published = dict(rows(url, "select type, count(*) from identity.outbox group by type"))
        consumes = {
            "authz": ["tenant.created", "platform_admin.created", "user.registered"],
            "profile": ["user.registered"],
            "activity": ["user.logged_in"],
            "lifecycle": ["user.invited", "user.registered", "user.logged_in"],
        }

        def handled_by(schema: str) -> dict[str, tuple[int, int]]:
            return {t: (n, d) for t, n, d in rows(url, f"select type, count(*), count(distinct event_id) "
                                                       f"from {schema}.inbox group by type")}

        async def caught_up() -> bool:
            return all(handled_by(schema).get(f"esop.identity.{short}", (0, 0))[1] >= published[f"esop.identity.{short}"]
                       for schema, types in consumes.items() for short in types)

        await eventually(caught_up, timeout=90, what="every consumer to catch up")
        logins = rows(url, f"select count(*), count(distinct event_id) from activity.login_records "
                           f"where tenant_id = '{tenant}'")[0]
        assert logins[0] == logins[1] == len(people) + 1, "each login recorded exactly once"
        assert rows(url, "select count(*) from activity.login_records")[0][0] == published["esop.identity.user.logged_in"]
        for schema, types in consumes.items():
            handled = handled_by(schema)
            for short in types:
                full = f"esop.identity.{short}"
                assert handled[full] == (published[full], published[full]), f"{schema} handles each {short} once"
            assert rows(url, f"select count(*) from {schema}.dead_letters")[0][0] == 0
        stage_moves = rows(url, "select count(*), count(distinct (user_id, to_stage)) from lifecycle.stage_history")
        assert stage_moves[0][0] == stage_moves[0][1], "no stage change applied twice"
        profiles = rows(url, f"select count(*) from profile.profiles where tenant_id = '{tenant}'")[0][0]
        assert profiles == len(people) + 1
