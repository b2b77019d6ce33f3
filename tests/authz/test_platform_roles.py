"""Roles across the whole platform, through the gateway: registration gives roles, checks answer
by tenant, and assignments reach identity's `roles` claim."""
from __future__ import annotations

import uuid

import jwt

from tests.flows import auth, company_with_employees, create_company, eventually, has_permission, login

AZ = "/api/v1/authz"


async def check(platform, token: str, permission: str, tenant_id: uuid.UUID | None = None, **extra) -> dict:
    body = {"permission": permission, "tenant_id": str(tenant_id) if tenant_id else None,
            **{k: str(v) for k, v in extra.items()}}
    resp = await platform.client.post(f"{AZ}/check", headers=auth(token), json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


def roles_claim(token: str) -> list[str]:
    return jwt.decode(token, options={"verify_signature": False})["roles"]


class TestRolesFromRegistration:
    async def test_an_employee_may_use_their_profile_but_not_invite(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        await eventually(lambda: has_permission(platform.client, person.token, "profile:self"), what="employee role")
        result = await check(platform, person.token, "users:invite")
        assert result == {"allowed": False, "roles": ["employee"]}
        resp = await platform.client.get(f"{AZ}/users/{person.user_id}/roles", headers=auth(person.token))
        assert [(a["role"], a["tenant_id"]) for a in resp.json()] == [("employee", str(company.tenant_id))]

    async def test_a_company_admin_invites_in_their_company_but_not_in_another(self, platform) -> None:
        root = await _root(platform)
        company, other = await create_company(platform, root), await create_company(platform, root)
        admin = company.admin.token
        assert (await check(platform, admin, "users:invite"))["allowed"] is True
        assert (await check(platform, admin, "users:invite", company.tenant_id))["allowed"] is True
        assert await check(platform, admin, "users:invite", other.tenant_id) == {"allowed": False, "roles": []}
        assert "company_admin" in roles_claim(admin)

    async def test_the_platform_admin_holds_platform_permissions_everywhere(self, platform) -> None:
        root = await _root(platform)
        company = await create_company(platform, root)
        for tenant in (None, company.tenant_id):
            assert (await check(platform, root.token, "tenants:create", tenant)) == {
                "allowed": True, "roles": ["platform_admin"]}
        assert "platform_admin" in roles_claim(root.token)


class TestAssignmentReachesTheToken:
    async def test_assign_then_revoke_a_role_and_see_it_in_a_fresh_token(self, platform) -> None:
        root = await _root(platform)
        company = await company_with_employees(platform, 1, root=root)
        person = company.employees[0]
        resp = await platform.client.post(f"{AZ}/users/{person.user_id}/roles", headers=auth(root.token), json={
            "role": "support_agent", "tenant_id": str(company.tenant_id), "reason": "joins the help desk"})
        assert resp.status_code == 201, resp.text
        assignment = resp.json()["id"]
        assert (await check(platform, person.token, "feedback:handle"))["allowed"] is True

        async def claim_has(role: str, present: bool) -> bool:
            await login(platform.client, person)
            return (role in roles_claim(person.token)) is present

        await eventually(lambda: claim_has("support_agent", True), what="support_agent in the roles claim")
        resp = await platform.client.delete(f"{AZ}/users/{person.user_id}/roles/{assignment}",
                                            headers=auth(root.token))
        assert resp.status_code == 200 and resp.json()["revoked_at"]
        assert (await check(platform, person.token, "feedback:handle"))["allowed"] is False
        await eventually(lambda: claim_has("support_agent", False), what="support_agent gone from the claim")
        assert "employee" in roles_claim(person.token)

    async def test_a_role_granted_works_at_once_at_the_services(self, platform) -> None:
        """Regression: services cached a denial for 5 s, so a user who was refused a moment before their
        role arrived (a new employee, by event) stayed refused after it had."""
        root = await _root(platform)
        company = await company_with_employees(platform, 1, root=root)
        person = company.employees[0]
        roles = (await platform.client.get(f"{AZ}/users/{person.user_id}/roles", headers=auth(root.token))).json()
        [employee] = [a["id"] for a in roles if a["role"] == "employee"]
        assert (await platform.client.delete(f"{AZ}/users/{person.user_id}/roles/{employee}",
                                             headers=auth(root.token))).status_code == 200

        async def submit() -> int:
            resp = await platform.client.post("/api/v1/feedback/feedback", headers=auth(person.token),
                                              json={"type": "question", "text": "还能提交吗？"})
            return resp.status_code

        await eventually(lambda: _is(submit(), 403), what="the revoked role to stop working (grants cache 5 s)")
        resp = await platform.client.post(f"{AZ}/users/{person.user_id}/roles", headers=auth(root.token), json={
            "role": "employee", "tenant_id": str(company.tenant_id), "reason": "back"})
        assert resp.status_code == 201, resp.text
        assert await submit() == 201

    async def test_a_company_admin_may_not_assign_roles(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        resp = await platform.client.post(f"{AZ}/users/{company.employees[0].user_id}/roles",
                                          headers=auth(company.admin.token),
                                          json={"role": "auditor", "tenant_id": str(company.tenant_id)})
        assert resp.status_code == 403 and resp.headers["content-type"] == "application/problem+json"


async def _root(platform):
    from tests.flows import make_platform_admin

    root = await make_platform_admin(platform.database_url)
    await login(platform.client, root)
    await eventually(lambda: has_permission(platform.client, root.token, "tenants:create"), what="platform_admin")
    await login(platform.client, root)  # a token whose roles claim includes platform_admin
    return root


async def _is(status, expected: int) -> bool:
    return await status == expected
