"""The activity API through the gateway, fed by identity's real login events."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from starlette.routing import Mount

from services.activity.persistence.tables import LoginRecord
from shared.events import CloudEvent
from tests.flows import (ID, Company, auth, company_with_employees, create_company, eventually, login,
                         make_platform_admin)

ACT = "/api/v1/activity"
PROBLEM = "application/problem+json"


async def my_logins(platform, token: str, **params: Any) -> list[dict[str, Any]]:
    resp = await platform.client.get(f"{ACT}/me/logins", headers=auth(token), params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


async def tenant_logins(platform, token: str, tenant_id: uuid.UUID, **params: Any) -> list[dict[str, Any]]:
    resp = await platform.client.get(f"{ACT}/tenants/{tenant_id}/logins", headers=auth(token), params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


async def new_company(platform) -> Company:
    """A company with only its (registered, logged-in) administrator."""
    return await create_company(platform, await make_platform_admin(platform.database_url))


def service_app(platform, name: str):
    return next(r.app for r in platform.app.routes if isinstance(r, Mount) and r.path == f"/api/v1/{name}")


class TestMyLogins:
    async def test_an_employees_login_appears_after_login(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        items = await eventually(lambda: my_logins(platform, person.token), what="login record")
        [record] = items
        assert record["user_id"] == str(person.user_id) and record["tenant_id"] == str(company.tenant_id)
        assert (record["kind"], record["success"], record["reason"]) == ("login", True, None)
        assert record["session_id"]

    async def test_a_failed_login_appears_as_a_failure(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        resp = await platform.client.post(f"{ID}/token", json={"login": person.login_name, "password": "wrong-password"})
        assert resp.status_code == 401
        [failure] = await eventually(lambda: my_logins(platform, person.token, success="false"), what="failure")
        assert (failure["success"], failure["reason"], failure["kind"]) == (False, "bad_credentials", "login")
        assert len(await my_logins(platform, person.token)) == 2

    async def test_a_logout_appears_as_a_logout(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        token = person.token
        await login(platform.client, person)  # a second session, to read with after the first one ends
        resp = await platform.client.post(f"{ID}/logout", headers=auth(token))
        assert resp.status_code == 204
        [logout] = await eventually(lambda: my_logins(platform, person.token, kind="logout"), what="logout")
        assert logout["success"] is True and logout["session_id"]

    async def test_pages_newest_first_without_overlap(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        for _ in range(2):
            await login(platform.client, person)
        await eventually(lambda: _has(my_logins(platform, person.token), 3), what="three logins")
        seen, cursor = [], None
        while True:
            params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            body = (await platform.client.get(f"{ACT}/me/logins", headers=auth(person.token), params=params)).json()
            seen.extend(body["items"])
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert len({r["id"] for r in seen}) == 3
        assert [r["at"] for r in seen] == sorted((r["at"] for r in seen), reverse=True)

    async def test_redelivered_login_event_is_recorded_once(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        [record] = await eventually(lambda: my_logins(platform, person.token), what="login record")
        app = service_app(platform, "activity")
        async with app.state.sessionmaker() as session:
            event_id = (await session.execute(select(LoginRecord.event_id).where(
                LoginRecord.id == uuid.UUID(record["id"])))).scalar_one()
        identity = service_app(platform, "identity")
        async with identity.state.sessionmaker() as session:
            outbox = identity.state.spec.messaging.outbox
            envelope = (await session.execute(select(outbox.c.envelope).where(outbox.c.event_id == event_id))
                        ).scalar_one()
        await app.state.bus.publish([CloudEvent.model_validate(envelope)])
        assert len(await my_logins(platform, person.token)) == 1


async def _has(items_coro, n: int) -> bool:
    return len(await items_coro) >= n


class TestMyLoginsBadInput:
    async def test_without_a_token_is_401_problem(self, platform) -> None:
        resp = await platform.client.get(f"{ACT}/me/logins")
        assert resp.status_code == 401 and resp.headers["content-type"] == PROBLEM

    async def test_bad_input_is_a_problem_not_a_crash(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        token = company.employees[0].token
        for params, status in [({"limit": 201}, 422), ({"limit": 0}, 422), ({"success": "maybe"}, 422),
                                ({"kind": "sneeze"}, 422), ({"cursor": "not-a-cursor"}, 400),
                                ({"cursor": "WyJ4IiwgInkiXQ=="}, 400)]:
            resp = await platform.client.get(f"{ACT}/me/logins", headers=auth(token), params=params)
            assert resp.status_code == status, (params, resp.text)
            assert resp.headers["content-type"] == PROBLEM


class TestTenantLogins:
    async def test_a_company_admin_sees_the_companys_logins(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        admin, person = company.admin, company.employees[0]
        items = await eventually(lambda: tenant_logins(platform, admin.token, company.tenant_id,
                                                       user_id=str(person.user_id)), what="employee login")
        assert {r["user_id"] for r in items} == {str(person.user_id)}
        everyone = await tenant_logins(platform, admin.token, company.tenant_id)
        assert {str(admin.user_id), str(person.user_id)} <= {r["user_id"] for r in everyone}
        assert {r["tenant_id"] for r in everyone} == {str(company.tenant_id)}

    async def test_another_companys_logins_are_403_problem(self, platform) -> None:
        root = await make_platform_admin(platform.database_url)
        mine = await create_company(platform, root)
        theirs = await create_company(platform, root)
        resp = await platform.client.get(f"{ACT}/tenants/{theirs.tenant_id}/logins", headers=auth(mine.admin.token))
        assert resp.status_code == 403 and resp.headers["content-type"] == PROBLEM
        summary = await platform.client.get(f"{ACT}/tenants/{theirs.tenant_id}/logins/summary",
                                            headers=auth(mine.admin.token))
        assert summary.status_code == 403

    async def test_an_employee_cannot_read_the_companys_logins(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        resp = await platform.client.get(f"{ACT}/tenants/{company.tenant_id}/logins",
                                         headers=auth(company.employees[0].token))
        assert resp.status_code == 403

    async def test_a_platform_admin_reads_any_company(self, platform) -> None:
        root = await make_platform_admin(platform.database_url)
        company = await create_company(platform, root)
        items = await eventually(lambda: tenant_logins(platform, root.token, company.tenant_id), what="logins")
        assert items

    async def test_time_window_filters(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        admin = company.admin
        await eventually(lambda: tenant_logins(platform, admin.token, company.tenant_id), what="logins")
        now = datetime.now(UTC)
        hour_later = (now + timedelta(hours=1)).isoformat()
        later = await tenant_logins(platform, admin.token, company.tenant_id, since=hour_later)
        earlier = await tenant_logins(platform, admin.token, company.tenant_id, until=hour_later)
        assert later == [] and earlier

    async def test_until_before_since_is_400_problem(self, platform) -> None:
        company = await new_company(platform)
        resp = await platform.client.get(f"{ACT}/tenants/{company.tenant_id}/logins",
                                         headers=auth(company.admin.token),
                                         params={"since": "2025-02-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"})
        assert resp.status_code == 400 and resp.headers["content-type"] == PROBLEM
        assert "until" in resp.json()["detail"]

    async def test_malformed_tenant_or_filters_are_422_problem(self, platform) -> None:
        company = await new_company(platform)
        token = company.admin.token
        for url in (f"{ACT}/tenants/{company.tenant_id}/logins?user_id=nope",
                    f"{ACT}/tenants/{company.tenant_id}/logins?since=yesterday"):
            resp = await platform.client.get(url, headers=auth(token))
            assert resp.status_code == 422 and resp.headers["content-type"] == PROBLEM, url
        resp = await platform.client.get(f"{ACT}/tenants/not-a-uuid/logins", headers=auth(token))
        assert resp.status_code in (403, 422) and resp.headers["content-type"] == PROBLEM


class TestLoginSummary:
    async def test_counts_today_successes_failures_and_users(self, platform) -> None:
        company = await company_with_employees(platform, 2)
        admin, person = company.admin, company.employees[0]
        await platform.client.post(f"{ID}/token", json={"login": person.login_name, "password": "wrong-password"})
        url = f"{ACT}/tenants/{company.tenant_id}/logins/summary"

        async def summary() -> dict[str, Any] | None:
            body = (await platform.client.get(url, headers=auth(admin.token), params={"days": 7})).json()
            return body if body["successes"] >= 3 and body["failures"] >= 1 else None

        body = await eventually(summary, what="summary")
        assert (body["successes"], body["failures"], body["distinct_users"]) == (3, 1, 3)
        assert body["days"] == 7 and len(body["per_day"]) == 7
        today = body["per_day"][-1]
        assert today["day"] == datetime.now(UTC).date().isoformat()
        assert (today["successes"], today["failures"], today["distinct_users"]) == (3, 1, 3)

    async def test_at_most_90_days(self, platform) -> None:
        company = await new_company(platform)
        url = f"{ACT}/tenants/{company.tenant_id}/logins/summary"
        ok = await platform.client.get(url, headers=auth(company.admin.token), params={"days": 90})
        assert ok.status_code == 200 and len(ok.json()["per_day"]) == 90
        for days in (0, 91):
            resp = await platform.client.get(url, headers=auth(company.admin.token), params={"days": days})
            assert resp.status_code == 422 and resp.headers["content-type"] == PROBLEM


class TestUnknownCompany:
    """Regression: a platform administrator asking for a company id that does not exist got an empty
    list (and a summary of zeros), where authz says 404."""

    async def test_an_unknown_company_is_404(self, platform) -> None:
        root = await make_platform_admin(platform.database_url)
        await login(platform.client, root)
        for path in ("logins", "logins/summary"):
            resp = await platform.client.get(f"{ACT}/tenants/{uuid.uuid4()}/{path}", headers=auth(root.token))
            assert resp.status_code == 404 and resp.headers["content-type"] == PROBLEM, path


class TestEventCatalogue:
    async def test_lists_the_consumed_login_events_and_publishes_none(self, platform) -> None:
        body = (await platform.client.get(f"{ACT}/events")).json()
        assert body["publishes"] == []
        assert body["consumes"] == ["esop.identity.tenant.created", "esop.identity.user.logged_in",
                                    "esop.identity.user.logged_out", "esop.identity.user.login_failed"]
