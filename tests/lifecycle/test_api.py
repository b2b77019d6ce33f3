"""The lifecycle API through the gateway, fed by identity's real events."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from starlette.routing import Mount

from shared.events import CloudEvent
from tests.flows import (Company, Person, auth, company_with_employees, create_company, eventually, import_roster,
                         login, make_platform_admin, register)

LC = "/api/v1/lifecycle"
PROBLEM = "application/problem+json"


async def new_company(platform, root: Person | None = None) -> Company:
    """A company with only its (registered, logged-in) administrator."""
    return await create_company(platform, root or await make_platform_admin(platform.database_url))


def service_app(platform, name: str):
    return next(r.app for r in platform.app.routes if isinstance(r, Mount) and r.path == f"/api/v1/{name}")


async def stage(platform, token: str, user_id: uuid.UUID) -> dict[str, Any] | None:
    resp = await platform.client.get(f"{LC}/users/{user_id}/stage", headers=auth(token))
    return resp.json() if resp.status_code == 200 else None


async def reaches(platform, token: str, user_id: uuid.UUID, expected: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        body = await stage(platform, token, user_id)
        return body if body and body["stage"] == expected else None

    return await eventually(probe, what=f"stage {expected}")


async def history(platform, token: str, user_id: uuid.UUID) -> list[dict[str, Any]]:
    resp = await platform.client.get(f"{LC}/users/{user_id}/history", headers=auth(token))
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


class TestStageFlow:
    async def test_invited_then_registered_then_active(self, platform) -> None:
        company = await new_company(platform)
        admin, person = company.admin, Person.fake(1)
        await import_roster(platform, company, [person])
        invited = await reaches(platform, admin.token, person.user_id, "invited")
        assert invited["tenant_id"] == str(company.tenant_id)
        await register(platform.client, platform.message_sink, person)
        await reaches(platform, admin.token, person.user_id, "registered")
        await login(platform.client, person)
        await reaches(platform, admin.token, person.user_id, "active")
        me = await platform.client.get(f"{LC}/me/stage", headers=auth(person.token))
        assert me.status_code == 200 and me.json()["stage"] == "active"
        moves = await history(platform, person.token, person.user_id)
        assert [(m["from_stage"], m["to_stage"]) for m in moves] == [
            (None, "invited"), ("invited", "registered"), ("registered", "active")]
        assert [m["cause_event_type"] for m in moves] == [
            "esop.identity.user.invited", "esop.identity.user.registered", "esop.identity.user.logged_in"]

    async def test_logging_in_again_changes_nothing(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        before = await reaches(platform, person.token, person.user_id, "active")
        await login(platform.client, person)
        assert await stage(platform, person.token, person.user_id) == before
        assert len(await history(platform, person.token, person.user_id)) == 3

    async def test_redelivered_identity_events_change_nothing(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        before = await reaches(platform, person.token, person.user_id, "active")
        identity = service_app(platform, "identity")
        outbox = identity.state.spec.messaging.outbox
        async with identity.state.sessionmaker() as session:
            envelopes = (await session.execute(select(outbox.c.envelope).where(
                outbox.c.subject == str(person.user_id)).order_by(outbox.c.seq))).scalars().all()
        events = [CloudEvent.model_validate(e) for e in envelopes]
        assert {"esop.identity.user.invited", "esop.identity.user.registered"} <= {e.type for e in events}
        await service_app(platform, "lifecycle").state.bus.publish(events)
        assert await stage(platform, person.token, person.user_id) == before
        assert len(await history(platform, person.token, person.user_id)) == 3

    async def test_a_platform_admin_is_active_without_a_company(self, platform) -> None:
        root = await make_platform_admin(platform.database_url)
        await login(platform.client, root)

        async def mine() -> dict[str, Any] | None:
            resp = await platform.client.get(f"{LC}/me/stage", headers=auth(root.token))
            return resp.json() if resp.status_code == 200 else None

        body = await eventually(mine, what="platform admin stage")
        assert (body["stage"], body["tenant_id"]) == ("active", None)


class TestStagePermissions:
    async def test_an_employee_cannot_read_a_colleagues_stage(self, platform) -> None:
        company = await company_with_employees(platform, 2)
        me, colleague = company.employees
        await reaches(platform, company.admin.token, colleague.user_id, "active")
        for path in ("stage", "history"):
            resp = await platform.client.get(f"{LC}/users/{colleague.user_id}/{path}", headers=auth(me.token))
            assert resp.status_code == 403 and resp.headers["content-type"] == PROBLEM

    async def test_another_companys_admin_gets_403(self, platform) -> None:
        root = await make_platform_admin(platform.database_url)
        company = await company_with_employees(platform, 1, root)
        other = await new_company(platform, root)
        person = company.employees[0]
        await reaches(platform, company.admin.token, person.user_id, "active")
        for path in ("stage", "history"):
            resp = await platform.client.get(f"{LC}/users/{person.user_id}/{path}", headers=auth(other.admin.token))
            assert resp.status_code == 403 and resp.headers["content-type"] == PROBLEM
        resp = await platform.client.get(f"{LC}/tenants/{company.tenant_id}/stages", headers=auth(other.admin.token))
        assert resp.status_code == 403 and resp.headers["content-type"] == PROBLEM

    async def test_a_platform_admin_reads_anyone(self, platform) -> None:
        root = await make_platform_admin(platform.database_url)
        company = await company_with_employees(platform, 1, root)
        await reaches(platform, root.token, company.employees[0].user_id, "active")

    async def test_unknown_user_is_404_problem(self, platform) -> None:
        company = await new_company(platform)
        for path in ("stage", "history"):
            resp = await platform.client.get(f"{LC}/users/{uuid.uuid4()}/{path}", headers=auth(company.admin.token))
            assert resp.status_code == 404 and resp.headers["content-type"] == PROBLEM

    async def test_without_a_token_is_401_problem(self, platform) -> None:
        resp = await platform.client.get(f"{LC}/me/stage")
        assert resp.status_code == 401 and resp.headers["content-type"] == PROBLEM

    async def test_bad_input_is_a_problem_not_a_crash(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        await reaches(platform, person.token, person.user_id, "active")
        base = f"{LC}/users/{person.user_id}/history"
        for url, status in [(f"{LC}/users/not-a-uuid/stage", 422), (f"{base}?limit=201", 422),
                            (f"{base}?cursor=garbage", 400), (f"{base}?cursor=WyJ4IiwgInkiXQ==", 400),
                            (f"{LC}/tenants/not-a-uuid/stages", 403)]:
            resp = await platform.client.get(url, headers=auth(person.token))
            assert resp.status_code == status, (url, resp.text)
            assert resp.headers["content-type"] == PROBLEM


class TestTenantStages:
    async def test_counts_per_stage_in_the_company(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        invitee = Person.fake(9)
        await import_roster(platform, company, [invitee])
        await reaches(platform, company.admin.token, invitee.user_id, "invited")
        await reaches(platform, company.admin.token, company.employees[0].user_id, "active")
        resp = await platform.client.get(f"{LC}/tenants/{company.tenant_id}/stages", headers=auth(company.admin.token))
        assert resp.status_code == 200
        body = resp.json()
        assert body["counts"] == {"invited": 1, "registered": 0, "verified": 0, "active": 2, "dormant": 0,
                                  "exited": 0}
        assert body["total"] == 3

    async def test_an_unknown_company_is_404_not_a_row_of_zeros(self, platform) -> None:
        """Regression: a platform administrator asking for a company id that does not exist got 200
        with every count 0, where authz says 404."""
        root = await make_platform_admin(platform.database_url)
        await login(platform.client, root)
        resp = await platform.client.get(f"{LC}/tenants/{uuid.uuid4()}/stages", headers=auth(root.token))
        assert resp.status_code == 404 and resp.headers["content-type"] == PROBLEM

    async def test_an_employee_cannot_count(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        resp = await platform.client.get(f"{LC}/tenants/{company.tenant_id}/stages",
                                         headers=auth(company.employees[0].token))
        assert resp.status_code == 403 and resp.headers["content-type"] == PROBLEM


class TestEventCatalogue:
    async def test_lists_stage_changed_and_the_consumed_user_events(self, platform) -> None:
        body = (await platform.client.get(f"{LC}/events")).json()
        [changed] = body["publishes"]
        assert changed["type"] == "esop.lifecycle.stage.changed" and changed["version"] == 1
        assert set(changed["schema"]["required"]) == {"user_id", "tenant_id", "from_stage", "to_stage",
                                                      "cause_event_id"}
        assert body["consumes"] == ["esop.identity.user.invited", "esop.identity.user.logged_in",
                                    "esop.identity.user.registered"]
