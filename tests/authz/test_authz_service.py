"""The authz service on its own: tokens minted by the test, identity's events delivered to its bus."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from tests.authz.harness import Services, auth, identity_event, invited, query, registered, tenant_created

CHECK = "/check"


@dataclass
class World:
    """A platform admin, and company A with its admin and an employee; company B with its admin."""

    root: uuid.UUID
    tenant_a: uuid.UUID
    admin_a: uuid.UUID
    employee_a: uuid.UUID
    tenant_b: uuid.UUID
    admin_b: uuid.UUID


@pytest.fixture
async def world(services: Services) -> World:
    w = World(*(uuid.uuid4() for _ in range(6)))
    await services.deliver(
        identity_event("esop.identity.platform_admin.created", {"user_id": w.root, "email": "root@x.example"}),
        tenant_created(w.tenant_a, w.admin_a),
        tenant_created(w.tenant_b, w.admin_b),
        registered(w.employee_a, w.tenant_a),
    )
    return w


async def invitee(services: Services, tenant: uuid.UUID) -> uuid.UUID:
    """A user identity has invited into `tenant` (authz knows them from the event)."""
    user = uuid.uuid4()
    await services.deliver(invited(user, tenant))
    return user


def token(services: Services, user: uuid.UUID, tenant: uuid.UUID | None = None) -> dict[str, str]:
    return auth(services.tokens.mint(user, tenant))


async def check(services: Services, headers: dict[str, str], permission: str, **body) -> dict:
    resp = await services.authz.post(CHECK, headers=headers, json={"permission": permission, **{
        k: str(v) if v else None for k, v in body.items()}})
    assert resp.status_code == 200, resp.text
    return resp.json()


def assert_problem(resp, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == status and body["title"]
    return body


class TestCheckPermission:
    async def test_an_employee_may_use_their_profile_but_not_invite(self, services, world) -> None:
        me = token(services, world.employee_a, world.tenant_a)
        assert await check(services, me, "profile:self") == {"allowed": True, "roles": ["employee"]}
        assert (await check(services, me, "users:invite"))["allowed"] is False

    async def test_a_company_admin_invites_in_their_company_only(self, services, world) -> None:
        admin = token(services, world.admin_a, world.tenant_a)
        assert (await check(services, admin, "users:invite"))["allowed"] is True
        assert (await check(services, admin, "users:invite", tenant_id=world.tenant_a))["allowed"] is True
        elsewhere = await check(services, admin, "users:invite", tenant_id=world.tenant_b)
        assert elsewhere == {"allowed": False, "roles": []}
        assert (await check(services, admin, "authz:manage"))["allowed"] is False

    async def test_the_platform_admin_counts_in_every_tenant_and_without_one(self, services, world) -> None:
        root = token(services, world.root)
        for tenant in (None, world.tenant_a, world.tenant_b, uuid.uuid4()):
            result = await check(services, root, "authz:manage", tenant_id=tenant)
            assert result == {"allowed": True, "roles": ["platform_admin"]}

    async def test_unknown_permissions_are_simply_not_granted(self, services, world) -> None:
        assert (await check(services, token(services, world.root), "no:such"))["allowed"] is False

    async def test_asking_about_someone_else_needs_authz_read_there(self, services, world) -> None:
        admin_a = token(services, world.admin_a, world.tenant_a)
        result = await check(services, admin_a, "profile:self", user_id=world.employee_a)
        assert result == {"allowed": True, "roles": ["employee"]}
        resp = await services.authz.post(CHECK, headers=admin_a, json={
            "permission": "profile:self", "user_id": str(world.employee_a), "tenant_id": str(world.tenant_b)})
        assert assert_problem(resp, 403)["permission"] == "authz:read"
        employee = token(services, world.employee_a, world.tenant_a)
        resp = await services.authz.post(CHECK, headers=employee, json={"permission": "users:read",
                                                                         "user_id": str(world.admin_a)})
        assert_problem(resp, 403)
        # Asking about yourself by id is just a check of yourself.
        assert (await check(services, employee, "profile:self", user_id=world.employee_a))["allowed"] is True

    async def test_without_a_valid_token_it_is_401(self, services, world) -> None:
        assert_problem(await services.authz.post(CHECK, json={"permission": "x:y"}), 401)
        bad = {"Authorization": "Bearer not-a-jwt"}
        assert_problem(await services.authz.post(CHECK, headers=bad, json={"permission": "x:y"}), 401)
        wrong_audience = auth(services.tokens.mint(world.root, audience="someone-else"))
        assert_problem(await services.authz.post(CHECK, headers=wrong_audience, json={"permission": "x:y"}), 401)

    @pytest.mark.parametrize("body", [{}, {"permission": ""}, {"permission": "a", "tenant_id": "nope"},
                                      {"permission": "a", "extra": 1}, {"permission": 5}, [1, 2]])
    async def test_bad_bodies_are_422_problems(self, services, world, body) -> None:
        resp = await services.authz.post(CHECK, headers=token(services, world.root), json=body)
        assert assert_problem(resp, 422)["errors"]

    async def test_a_malformed_json_body_is_a_400_problem(self, services, world) -> None:
        resp = await services.authz.post(CHECK, headers={**token(services, world.root),
                                                         "Content-Type": "application/json"}, content=b"{nope")
        assert_problem(resp, 400)


class TestListRoles:
    async def test_any_authenticated_user_sees_the_built_in_roles(self, services, world) -> None:
        resp = await services.authz.get("/roles", headers=token(services, world.employee_a, world.tenant_a))
        assert resp.status_code == 200
        roles = {r["name"]: r for r in resp.json()}
        assert set(roles) == {"platform_admin", "company_admin", "auditor", "support_agent", "employee"}
        assert roles["employee"]["permissions"] == ["feedback:submit", "profile:self"]
        assert roles["platform_admin"]["scope"] == "global"
        assert_problem(await services.authz.get("/roles"), 401)


class TestAssignRole:
    async def test_the_platform_admin_assigns_and_the_event_and_history_are_written(self, services, world) -> None:
        user = await invitee(services, world.tenant_a)
        resp = await services.authz.post(f"/users/{user}/roles", headers=token(services, world.root), json={
            "role": "auditor", "tenant_id": str(world.tenant_a), "reason": "annual audit"})
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert (body["role"], body["tenant_id"], body["granted_by"], body["revoked_at"]) == (
            "auditor", str(world.tenant_a), str(world.root), None)
        events = [e for e in services.outbox("authz", "esop.authz.role.assigned") if e["subject"] == str(user)]
        assert len(events) == 1
        assert events[0]["data"] == {"assignment_id": body["id"], "user_id": str(user),
                                     "tenant_id": str(world.tenant_a), "role": "auditor", "reason": "annual audit"}
        assert events[0]["tenantid"] == str(world.tenant_a)
        history = query(services.database_url, "select action, by, reason, event_id from authz.assignment_history "
                                               "where assignment_id = %s", body["id"])
        assert history == [("assigned", str(world.root), "annual audit", events[0]["id"])]
        auditor = token(services, user, world.tenant_a)
        assert (await check(services, auditor, "activity:read"))["allowed"] is True

    async def test_assigning_again_returns_the_existing_assignment(self, services, world) -> None:
        user, root = await invitee(services, world.tenant_a), token(services, world.root)
        body = {"role": "support_agent", "tenant_id": str(world.tenant_a)}
        first = await services.authz.post(f"/users/{user}/roles", headers=root, json=body)
        again = await services.authz.post(f"/users/{user}/roles", headers=root, json=body)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"]
        assert len([e for e in services.outbox("authz", "esop.authz.role.assigned")
                    if e["subject"] == str(user)]) == 1

    async def test_a_global_and_a_tenant_assignment_of_one_role_are_distinct(self, services, world) -> None:
        user, root = world.root, token(services, world.root)  # platform staff may hold roles in any company
        ids = set()
        for tenant in (None, str(world.tenant_a), str(world.tenant_b), None):
            resp = await services.authz.post(f"/users/{user}/roles", headers=root,
                                             json={"role": "auditor", "tenant_id": tenant})
            ids.add(resp.json()["id"])
        assert len(ids) == 3

    async def test_an_unknown_user_or_company_is_404_and_nothing_is_written(self, services, world) -> None:
        """Regression: roles were granted to user ids and company ids nobody had ever created."""
        root = token(services, world.root)
        for user, tenant in ((uuid.uuid4(), world.tenant_a), (world.root, uuid.uuid4())):
            resp = await services.authz.post(f"/users/{user}/roles", headers=root,
                                             json={"role": "auditor", "tenant_id": str(tenant)})
            assert_problem(resp, 404)
        assert query(services.database_url, "select count(*) from authz.role_assignments where role = 'auditor'") \
            == [(0,)]
        assert [e for e in services.outbox("authz", "esop.authz.role.assigned") if e["data"]["role"] == "auditor"] == []

    @pytest.mark.parametrize(("role", "where"), [("company_admin", "b"), ("auditor", "b"), ("auditor", "global")])
    async def test_a_company_user_holds_roles_in_their_own_company_only(self, services, world, role, where) -> None:
        """Regression: an employee of A was made company_admin of B and could read B's records."""
        tenant = str(world.tenant_b) if where == "b" else None
        resp = await services.authz.post(f"/users/{world.employee_a}/roles", headers=token(services, world.root),
                                         json={"role": role, "tenant_id": tenant})
        if role == "auditor" and where == "global":
            assert assert_problem(resp, 422)["errors"][0]["loc"] == ["body", "tenant_id"]
        else:
            assert "another company" in assert_problem(resp, 422)["detail"]
        employee_b = token(services, world.employee_a, world.tenant_a)
        assert (await check(services, employee_b, "lifecycle:read", tenant_id=world.tenant_b))["allowed"] is False

    async def test_company_roles_are_not_for_platform_staff(self, services, world) -> None:
        resp = await services.authz.post(f"/users/{world.root}/roles", headers=token(services, world.root),
                                         json={"role": "employee", "tenant_id": str(world.tenant_a)})
        assert "platform staff" in assert_problem(resp, 422)["detail"]

    async def test_an_unknown_role_is_a_422_problem(self, services, world) -> None:
        resp = await services.authz.post(f"/users/{uuid.uuid4()}/roles", headers=token(services, world.root),
                                         json={"role": "superuser", "tenant_id": None})
        assert assert_problem(resp, 422)["errors"][0]["loc"] == ["body", "role"]

    @pytest.mark.parametrize(("role", "global_"), [("platform_admin", False), ("employee", True),
                                                   ("company_admin", True)])
    async def test_a_role_outside_its_scope_is_a_422_problem(self, services, world, role, global_) -> None:
        tenant = None if global_ else str(world.tenant_a)
        resp = await services.authz.post(f"/users/{uuid.uuid4()}/roles", headers=token(services, world.root),
                                         json={"role": role, "tenant_id": tenant})
        assert assert_problem(resp, 422)["errors"][0]["loc"] == ["body", "tenant_id"]

    async def test_tenant_id_must_be_given_even_if_null(self, services, world) -> None:
        resp = await services.authz.post(f"/users/{uuid.uuid4()}/roles", headers=token(services, world.root),
                                         json={"role": "auditor"})
        assert assert_problem(resp, 422)["errors"][0]["loc"] == ["body", "tenant_id"]

    async def test_company_admins_may_not_assign_for_now(self, services, world) -> None:
        resp = await services.authz.post(f"/users/{world.employee_a}/roles",
                                         headers=token(services, world.admin_a, world.tenant_a),
                                         json={"role": "auditor", "tenant_id": str(world.tenant_a)})
        assert assert_problem(resp, 403)["permission"] == "authz:manage"
        assert query(services.database_url, "select count(*) from authz.role_assignments where role = 'auditor'") \
            == [(0,)]

    async def test_a_reason_with_control_characters_is_a_422_problem_not_a_database_error(self, services,
                                                                                           world) -> None:
        resp = await services.authz.post(f"/users/{uuid.uuid4()}/roles", headers=token(services, world.root),
                                         json={"role": "auditor", "tenant_id": None, "reason": "a\u0000b"})
        assert assert_problem(resp, 422)["errors"][0]["loc"] == ["body", "reason"]
        resp = await services.authz.delete(f"/users/{uuid.uuid4()}/roles/{uuid.uuid4()}",
                                           headers=token(services, world.root), params={"reason": "a\x00b"})
        assert assert_problem(resp, 422)["errors"][0]["loc"] == ["query", "reason"]

    async def test_a_malformed_user_id_is_a_422_problem(self, services, world) -> None:
        resp = await services.authz.post("/users/not-a-uuid/roles", headers=token(services, world.root),
                                         json={"role": "auditor", "tenant_id": None})
        assert_problem(resp, 422)


class TestRevokeRole:
    async def _assign(self, services, world, user, role="auditor") -> str:
        resp = await services.authz.post(f"/users/{user}/roles", headers=token(services, world.root),
                                         json={"role": role, "tenant_id": str(world.tenant_a)})
        assert resp.status_code == 201
        return resp.json()["id"]

    async def test_revoking_ends_the_permission_and_is_recorded(self, services, world) -> None:
        user = await invitee(services, world.tenant_a)
        assignment = await self._assign(services, world, user)
        resp = await services.authz.delete(f"/users/{user}/roles/{assignment}", headers=token(services, world.root),
                                           params={"reason": "audit finished"})
        assert resp.status_code == 200, resp.text
        assert resp.json()["revoked_at"] is not None
        revoked = services.outbox("authz", "esop.authz.role.revoked")
        assert [e["data"] for e in revoked] == [{"assignment_id": assignment, "user_id": str(user),
                                                 "tenant_id": str(world.tenant_a), "role": "auditor",
                                                 "reason": "audit finished"}]
        history = query(services.database_url, "select action, reason from authz.assignment_history "
                                               "where assignment_id = %s order by id", assignment)
        assert history == [("assigned", None), ("revoked", "audit finished")]
        assert (await check(services, token(services, user, world.tenant_a), "activity:read"))["allowed"] is False

    async def test_revoking_twice_returns_the_revoked_assignment_and_publishes_once(self, services, world) -> None:
        user = await invitee(services, world.tenant_a)
        assignment = await self._assign(services, world, user)
        first = await services.authz.delete(f"/users/{user}/roles/{assignment}", headers=token(services, world.root))
        again = await services.authz.delete(f"/users/{user}/roles/{assignment}", headers=token(services, world.root))
        assert (first.status_code, again.status_code) == (200, 200)
        assert again.json()["revoked_at"] == first.json()["revoked_at"]
        assert len(services.outbox("authz", "esop.authz.role.revoked")) == 1

    async def test_after_revoking_the_role_can_be_assigned_anew(self, services, world) -> None:
        user = await invitee(services, world.tenant_a)
        first = await self._assign(services, world, user)
        await services.authz.delete(f"/users/{user}/roles/{first}", headers=token(services, world.root))
        assert await self._assign(services, world, user) != first

    async def test_unknown_or_someone_elses_assignment_is_404(self, services, world) -> None:
        user = await invitee(services, world.tenant_a)
        assignment = await self._assign(services, world, user)
        root = token(services, world.root)
        assert_problem(await services.authz.delete(f"/users/{user}/roles/{uuid.uuid4()}", headers=root), 404)
        assert_problem(await services.authz.delete(f"/users/{uuid.uuid4()}/roles/{assignment}", headers=root), 404)

    async def test_a_company_admin_may_not_revoke(self, services, world) -> None:
        rows = query(services.database_url, "select id from authz.role_assignments where user_id = %s",
                     str(world.employee_a))
        resp = await services.authz.delete(f"/users/{world.employee_a}/roles/{rows[0][0]}",
                                           headers=token(services, world.admin_a, world.tenant_a))
        assert_problem(resp, 403)

    async def test_the_history_is_append_only(self, services, world) -> None:
        import psycopg2

        with pytest.raises(psycopg2.Error, match="append-only"):
            query(services.database_url, "update authz.assignment_history set reason = 'rewritten'")
        with pytest.raises(psycopg2.Error, match="append-only"):
            query(services.database_url, "delete from authz.assignment_history")


class TestUserRoles:
    async def test_you_see_your_own_roles(self, services, world) -> None:
        resp = await services.authz.get(f"/users/{world.admin_a}/roles",
                                        headers=token(services, world.admin_a, world.tenant_a))
        assert [(a["role"], a["tenant_id"]) for a in resp.json()] == [("company_admin", str(world.tenant_a))]

    async def test_a_company_admin_sees_roles_in_their_company_only(self, services, world) -> None:
        resp = await services.authz.post(f"/users/{world.root}/roles", headers=token(services, world.root),
                                         json={"role": "auditor", "tenant_id": str(world.tenant_b)})
        assert resp.status_code == 201, resp.text
        resp = await services.authz.get(f"/users/{world.root}/roles",
                                        headers=token(services, world.admin_a, world.tenant_a))
        assert resp.status_code == 200 and resp.json() == []
        resp = await services.authz.get(f"/users/{world.root}/roles",
                                        headers=token(services, world.admin_b, world.tenant_b))
        assert [(a["role"], a["tenant_id"]) for a in resp.json()] == [("auditor", str(world.tenant_b))]

    async def test_the_platform_admin_sees_everything(self, services, world) -> None:
        resp = await services.authz.get(f"/users/{world.root}/roles", headers=token(services, world.root))
        assert [a["role"] for a in resp.json()] == ["platform_admin"]
        resp = await services.authz.get(f"/users/{world.employee_a}/roles", headers=token(services, world.root))
        assert [a["role"] for a in resp.json()] == ["employee"]

    async def test_an_employee_may_not_look_at_others(self, services, world) -> None:
        resp = await services.authz.get(f"/users/{world.admin_a}/roles",
                                        headers=token(services, world.employee_a, world.tenant_a))
        assert_problem(resp, 403)

    async def test_revoked_assignments_are_not_listed(self, services, world) -> None:
        rows = query(services.database_url, "select id from authz.role_assignments where user_id = %s",
                     str(world.employee_a))
        await services.authz.delete(f"/users/{world.employee_a}/roles/{rows[0][0]}",
                                    headers=token(services, world.root))
        resp = await services.authz.get(f"/users/{world.employee_a}/roles",
                                        headers=token(services, world.employee_a, world.tenant_a))
        assert resp.json() == []


class TestLocalPermissionChecks:
    """Authz's own permission-guarded routes (/ops/*) read its tables: no HTTP call to authz."""

    async def test_ops_stats_for_the_platform_admin_only(self, services, world) -> None:
        resp = await services.authz.get("/ops/stats", headers=token(services, world.root))
        assert resp.status_code == 200, resp.text
        assert resp.json()["service"] == "authz"
        resp = await services.authz.get("/ops/stats", headers=token(services, world.admin_a, world.tenant_a))
        assert_problem(resp, 403)

    async def test_the_checker_is_the_local_one(self, services) -> None:
        from services.authz.checker import LocalPermissionChecker

        assert isinstance(services.apps["authz"].state.permissions, LocalPermissionChecker)
