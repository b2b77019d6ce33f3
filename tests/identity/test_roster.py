"""Roster import by a company administrator."""
from __future__ import annotations

import asyncio

import psycopg2

from tests.flows import (ID, Person, auth, create_company, eventually, import_roster, login, make_platform_admin,
                         roster_csv)
from shared.notify import read_messages


def count(database_url: str, query: str, *args) -> int:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchone()[0]


async def new_tenant(platform, root, name: str):
    return await platform.client.post(f"{ID}/tenants", headers=auth(root.token), json={
        "name": name, "admin": {"name": "x", "email": "x@example.com", "mobile": "13800138000"}})


async def upload(platform, company, data: bytes, token: str | None = None):
    return await platform.client.post(f"{ID}/tenants/{company.tenant_id}/roster",
                                      headers=auth(token or company.admin.token),
                                      files={"file": ("roster.csv", data, "text/csv")})


class TestImportRoster:
    async def test_import_invites_everyone_once_and_sends_codes(self, platform) -> None:
        company = await create_company(platform, await make_platform_admin(platform.database_url))
        people = [Person.fake(i) for i in range(5)]
        body = await import_roster(platform, company, people)
        assert body == {**body, "rows": 5, "invited": 5, "unchanged": 0}
        again = await upload(platform, company, roster_csv(people))
        assert again.status_code == 200
        assert again.json()["invited"] == 0 and again.json()["unchanged"] == 5
        users = count(platform.database_url, "select count(*) from identity.users where tenant_id = %s",
                      str(company.tenant_id))
        assert users == 6  # five employees and the company admin

        async def invitations() -> list:
            found = [m for m in read_messages(platform.message_sink) if m.get("purpose") == "invitation"
                     and m["user_id"] in {str(p.user_id) for p in people}]
            return found if len(found) >= 10 else []

        await eventually(invitations, what="invitation messages")  # an email and an SMS each
        assert len(await invitations()) == 10
        assert count(platform.database_url, "select count(*) from identity.outbox where type = %s",
                     "esop.identity.user.invited") == 6

    async def test_one_bad_row_rejects_the_whole_file(self, platform) -> None:
        company = await create_company(platform, await make_platform_admin(platform.database_url))
        people = [Person.fake(i) for i in range(3)]
        people[1].mobile = "12345"
        people[2].email = "not-an-email"
        resp = await upload(platform, company, roster_csv(people))
        assert resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json"
        assert {(e["loc"][1], e["loc"][2]) for e in resp.json()["errors"]} == {(3, "mobile"), (4, "email")}
        assert count(platform.database_url, "select count(*) from identity.users where employee_no is not null") == 0

    async def test_a_file_with_many_errors_lists_the_first_ones_and_counts_them_all(self, platform) -> None:
        """Regression: 20,000 bad rows gave 80,000 listed errors, a 6.6 MB answer."""
        company = await create_company(platform, await make_platform_admin(platform.database_url))
        bad = "".join(f"张{i},12345,not-an-email,E{i},研发部,2024-13-01\n" for i in range(300))
        resp = await upload(platform, company, ("name,mobile,email,employee_no,department,hire_date\n" + bad).encode())
        assert resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json"
        body = resp.json()
        assert body["error_count"] == 900 and len(body["errors"]) == 200
        assert "900 error(s)" in body["detail"] and "first 200" in body["detail"]
        assert body["errors"][0]["loc"] == ["row", 2, "mobile"] and body["errors"][-1]["loc"][:2] == ["row", 68]

    async def test_a_few_errors_are_all_listed(self, platform) -> None:
        company = await create_company(platform, await make_platform_admin(platform.database_url))
        resp = await upload(platform, company, b"name,name,mobile,email,employee_no,hire_date\n"
                                               b"a,b,13800138000,a@example.com,E1,2024-01-01\n")
        body = resp.json()
        assert resp.status_code == 422 and body["error_count"] == 1
        assert [e["loc"] for e in body["errors"]] == [["row", 1, "header"]] and "name" in body["errors"][0]["msg"]

    async def test_changed_details_for_a_known_employee_are_refused(self, platform) -> None:
        company = await create_company(platform, await make_platform_admin(platform.database_url))
        people = [Person.fake(i) for i in range(2)]
        await import_roster(platform, company, people)
        people[0].department = "新部门"
        newcomer = Person.fake(9)
        resp = await upload(platform, company, roster_csv([*people, newcomer]))
        assert resp.status_code == 422
        assert resp.json()["errors"][0]["loc"] == ["row", 2, "employee_no"]
        assert count(platform.database_url, "select count(*) from identity.users where email = %s", newcomer.email) == 0

    async def test_concurrent_uploads_of_one_file_create_no_duplicates(self, platform) -> None:
        company = await create_company(platform, await make_platform_admin(platform.database_url))
        data = roster_csv([Person.fake(i) for i in range(10)])
        results = await asyncio.gather(*(upload(platform, company, data) for _ in range(3)))
        assert [r.status_code for r in results] == [200, 200, 200]
        assert sum(r.json()["invited"] for r in results) == 10
        assert count(platform.database_url, "select count(*) from identity.users where tenant_id = %s",
                     str(company.tenant_id)) == 11


class TestRosterPermissions:
    async def test_employee_cannot_import(self, platform) -> None:
        from tests.flows import login, register

        company = await create_company(platform, await make_platform_admin(platform.database_url))
        person = Person.fake(1)
        await import_roster(platform, company, [person])
        await register(platform.client, platform.message_sink, person)
        await login(platform.client, person)
        resp = await upload(platform, company, roster_csv([Person.fake(2)]), token=person.token)
        assert resp.status_code == 403 and resp.headers["content-type"] == "application/problem+json"

    async def test_admin_cannot_import_into_another_company(self, platform) -> None:
        root = await make_platform_admin(platform.database_url)
        first = await create_company(platform, root)
        second = await create_company(platform, root)
        resp = await upload(platform, second, roster_csv([Person.fake(1)]), token=first.admin.token)
        assert resp.status_code == 403

    async def test_only_platform_admins_create_companies(self, platform) -> None:
        company = await create_company(platform, await make_platform_admin(platform.database_url))
        resp = await platform.client.post(f"{ID}/tenants", headers=auth(company.admin.token), json={
            "name": "另一家公司", "admin": {"name": "x", "email": "x@example.com", "mobile": "13800138000"}})
        assert resp.status_code == 403

    async def test_duplicate_company_name_is_409(self, platform) -> None:
        root = await make_platform_admin(platform.database_url)
        company = await create_company(platform, root)
        resp = await platform.client.post(f"{ID}/tenants", headers=auth(root.token), json={
            "name": company.name, "admin": {"name": "x", "email": "x@example.com", "mobile": "13800138000"}})
        assert resp.status_code == 409

    async def test_company_names_are_unique_ignoring_case_and_repeated_spaces(self, platform) -> None:
        """Regression: "Dup c1fcb", "DUP C1FCB" and "Dup  c1fcb" were created as three companies."""
        root = await make_platform_admin(platform.database_url)
        await login(platform.client, root)
        created = await new_tenant(platform, root, "  Dup \u3000 c1fcb ")
        assert created.status_code == 201 and created.json()["name"] == "Dup c1fcb"
        for name in ("Dup c1fcb", "DUP C1FCB", "Dup  c1fcb", "dup\u3000c1fcb"):
            resp = await new_tenant(platform, root, name)
            assert resp.status_code == 409 and resp.headers["content-type"] == "application/problem+json", resp.text
            assert resp.json()["tenant_id"] == created.json()["id"]
        assert count(platform.database_url, "select count(*) from identity.tenants where lower(name) = 'dup c1fcb'") == 1

    async def test_concurrent_creates_differing_only_in_case_make_one_company(self, platform) -> None:
        """Regression: the name check and the insert raced; case variants were all created."""
        root = await make_platform_admin(platform.database_url)
        await login(platform.client, root)
        names = ["Race Co", "RACE CO", "race co", "Race  Co", "rACE cO", "Race Co"]
        responses = await asyncio.gather(*(new_tenant(platform, root, n) for n in names))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * (len(names) - 1), [r.text for r in responses]
        for resp in responses:
            assert resp.headers["content-type"] == "application/problem+json" or resp.status_code == 201
        assert count(platform.database_url, "select count(*) from identity.tenants where lower(name) = 'race co'") == 1
        assert count(platform.database_url, "select count(*) from identity.outbox where type = %s "
                                            "and envelope->'data'->>'name' ilike 'race co'", "esop.identity.tenant.created") == 1

    async def test_upload_that_is_not_a_file(self, platform) -> None:
        company = await create_company(platform, await make_platform_admin(platform.database_url))
        resp = await platform.client.post(f"{ID}/tenants/{company.tenant_id}/roster",
                                          headers=auth(company.admin.token), data={"file": "text"})
        assert resp.status_code == 422
