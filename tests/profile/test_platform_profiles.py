"""Profiles across the whole platform, through the gateway: created from the registration,
edited by their owner, read by the company's administrators (permission asked of authz)."""
from __future__ import annotations

import psycopg2

from tests.flows import auth, company_with_employees, create_company, eventually, login, make_platform_admin

PR = "/api/v1/profile"


async def my_profile(platform, token: str):
    resp = await platform.client.get(f"{PR}/me", headers=auth(token))
    return resp if resp.status_code == 200 else None


def outbox(database_url: str, type_: str, subject: str) -> list[dict]:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("select envelope from profile.outbox where type = %s and subject = %s order by seq",
                    (type_, subject))
        return [r[0] for r in cur.fetchall()]


class TestProfileAfterRegistration:
    async def test_the_profile_holds_the_invitation_data(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        resp = await eventually(lambda: my_profile(platform, person.token), what="profile created")
        body = resp.json()
        assert (body["user_id"], body["tenant_id"]) == (str(person.user_id), str(company.tenant_id))
        assert (body["name"], body["email"], body["employee_no"], body["department"], body["hire_date"]) == (
            person.name, person.email, person.employee_no, person.department, person.hire_date)
        assert body["mobile"].endswith(person.mobile)
        assert (body["locale"], body["timezone"]) == ("zh-CN", "Asia/Shanghai")
        assert resp.headers["etag"] == 'W/"1"'
        [created] = outbox(platform.database_url, "esop.profile.profile.created", str(person.user_id))
        assert created["data"] == {"user_id": str(person.user_id), "tenant_id": str(company.tenant_id)}


class TestEditMyProfile:
    async def test_validation_if_match_history_and_event(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        me = auth(person.token)
        await eventually(lambda: my_profile(platform, person.token), what="profile created")

        refused = await platform.client.patch(f"{PR}/me", headers=me, json={"department": "销售部", "bio": "x"})
        assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
        assert [e["loc"] for e in refused.json()["errors"]] == [["body", "department"]]
        bad_zone = await platform.client.patch(f"{PR}/me", headers=me, json={"timezone": "Asia/Beijing"})
        assert bad_zone.status_code == 422

        ok = await platform.client.patch(f"{PR}/me", headers={**me, "If-Match": 'W/"1"'},
                                         json={"preferred_name": "小王", "locale": "en-US"})
        assert ok.status_code == 200, ok.text
        assert ok.headers["etag"] == 'W/"2"' and ok.json()["preferred_name"] == "小王"
        stale = await platform.client.patch(f"{PR}/me", headers={**me, "If-Match": 'W/"1"'}, json={"bio": "late"})
        assert stale.status_code == 412 and stale.json()["status"] == 412

        history = (await platform.client.get(f"{PR}/me/changes", headers=me, params={"limit": 2})).json()
        assert {(c["field"], c["new_value"], c["source"]) for c in history["items"]} == {
            ("preferred_name", "小王", "self"), ("locale", "en-US", "self")}
        assert history["next_cursor"]
        [updated] = outbox(platform.database_url, "esop.profile.profile.updated", str(person.user_id))
        assert updated["data"]["fields"] == ["preferred_name", "locale"]
        assert "小王" not in str(updated)


class TestReadAUsersProfile:
    async def test_company_admins_read_their_own_employees_only(self, platform) -> None:
        root = await make_platform_admin(platform.database_url)
        company = await company_with_employees(platform, 1, root=root)
        other = await create_company(platform, root)
        person = company.employees[0]
        await eventually(lambda: my_profile(platform, person.token), what="profile created")

        resp = await platform.client.get(f"{PR}/users/{person.user_id}", headers=auth(company.admin.token))
        assert resp.status_code == 200, resp.text
        assert resp.json()["name"] == person.name
        resp = await platform.client.get(f"{PR}/users/{person.user_id}", headers=auth(other.admin.token))
        assert resp.status_code == 403 and resp.headers["content-type"] == "application/problem+json"
        resp = await platform.client.get(f"{PR}/users/{company.admin.user_id}", headers=auth(person.token))
        assert resp.status_code == 403
        await login(platform.client, root)
        resp = await platform.client.get(f"{PR}/users/{person.user_id}", headers=auth(root.token))
        assert resp.status_code == 200


class TestPlatformStaff:
    """Regression: a platform administrator was told to "retry shortly" for a profile that never comes."""

    async def test_a_platform_admin_is_told_staff_have_no_profile(self, platform) -> None:
        root = await make_platform_admin(platform.database_url)
        await login(platform.client, root)
        resp = await platform.client.get(f"{PR}/me", headers=auth(root.token))
        assert resp.status_code == 404 and "platform staff" in resp.json()["detail"]
        assert "retry" not in resp.json()["detail"]
