"""Identity's events give people their built-in roles, exactly once."""
from __future__ import annotations

import uuid

import pytest

from tests.authz.harness import Services, identity_event, invited, query, registered


def assignments(services: Services, user: uuid.UUID) -> list[tuple]:
    return query(services.database_url, "select role, tenant_id, granted_by, revoked_at is null "
                                        "from authz.role_assignments where user_id = %s", str(user))


def assigned_events(services: Services, user: uuid.UUID) -> list[dict]:
    return [e for e in services.outbox("authz", "esop.authz.role.assigned") if e["subject"] == str(user)]


class TestPlatformAdminCreated:
    async def test_assigns_platform_admin_globally(self, services) -> None:
        user = uuid.uuid4()
        await services.deliver(identity_event("esop.identity.platform_admin.created",
                                              {"user_id": user, "email": "root@x.example"}))
        assert assignments(services, user) == [("platform_admin", None, None, True)]
        [event] = assigned_events(services, user)
        assert event["data"]["tenant_id"] is None and event["data"]["role"] == "platform_admin"
        assert "tenantid" not in event  # platform-wide: the attribute is absent


class TestTenantCreated:
    async def test_assigns_company_admin_in_the_new_tenant(self, services) -> None:
        tenant, admin = uuid.uuid4(), uuid.uuid4()
        await services.deliver(identity_event("esop.identity.tenant.created",
                                              {"tenant_id": tenant, "name": "示例公司", "admin_user_id": admin}))
        assert assignments(services, admin) == [("company_admin", str(tenant), None, True)]
        [event] = assigned_events(services, admin)
        assert event["tenantid"] == str(tenant)
        assert event["source"] == "/esop/authz"


class TestUserRegistered:
    async def test_assigns_employee_in_the_tenant(self, services) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        await services.deliver(registered(user, tenant))
        assert assignments(services, user) == [("employee", str(tenant), None, True)]
        history = query(services.database_url, "select action, by from authz.assignment_history h "
                                               "join authz.role_assignments a on a.id = h.assignment_id "
                                               "where a.user_id = %s", str(user))
        assert history == [("assigned", None)]


class TestIdempotence:
    async def test_a_redelivered_event_is_handled_once(self, services) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        event = registered(user, tenant)
        await services.deliver(event, event)
        await services.deliver(event)
        assert len(assignments(services, user)) == 1
        assert len(assigned_events(services, user)) == 1

    async def test_a_second_event_for_an_existing_assignment_changes_nothing(self, services) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        await services.deliver(registered(user, tenant), registered(user, tenant))
        assert len(assignments(services, user)) == 1
        assert len(assigned_events(services, user)) == 1
        handled = query(services.database_url, "select count(*) from authz.inbox where consumer = 'authz'")
        assert handled == [(2,)]

    @pytest.mark.parametrize("data", [{"user_id": "nope"}, {}])
    async def test_a_malformed_event_goes_to_the_dead_letters(self, services, data) -> None:
        await services.deliver(identity_event("esop.identity.platform_admin.created", data))
        rows = query(services.database_url, "select type, attempts from authz.dead_letters")
        assert rows == [("esop.identity.platform_admin.created", 2)]
        assert query(services.database_url, "select count(*) from authz.role_assignments") == [(0,)]

    async def test_events_it_does_not_consume_are_ignored(self, services) -> None:
        await services.deliver(identity_event("esop.identity.user.logged_in", {"user_id": str(uuid.uuid4())}))
        assert query(services.database_url, "select count(*) from authz.inbox") == [(0,)]


class TestMembers:
    """authz learns who exists, and where they belong, from identity's events."""

    async def test_an_invited_user_is_known_in_their_company_and_redelivery_changes_nothing(self, services) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        event = invited(user, tenant)
        await services.deliver(event, event)
        assert query(services.database_url, "select user_id, tenant_id from authz.members") == [(str(user), str(tenant))]
        assert services.outbox("authz") == [], "an invitation grants no role"


class TestMembersMigration:
    """Users known before the members table existed are found in their built-in assignments."""

    def test_upgrading_backfills_members_and_tenants(self, pg_server) -> None:
        from shared.migrations import upgrade
        from tests import pg

        name = f"esop_m_{uuid.uuid4().hex[:12]}"
        url = pg.create_database(pg_server, name)
        try:
            upgrade("authz", url, "516fa0d8a192")
            root, admin, employee, tenant = (str(uuid.uuid4()) for _ in range(4))
            for user, role, where in ((root, "platform_admin", None), (admin, "company_admin", tenant),
                                      (employee, "employee", tenant), (employee, "auditor", tenant)):
                query(url, "insert into authz.role_assignments (id, user_id, tenant_id, role) values (%s, %s, %s, %s)",
                      str(uuid.uuid4()), user, where, role)
            upgrade("authz", url)
            assert sorted(query(url, "select user_id, tenant_id from authz.members")) == sorted(
                [(root, None), (admin, tenant), (employee, tenant)])
            assert query(url, "select tenant_id from authz.tenants") == [(tenant,)]
        finally:
            pg.drop_database(pg_server, name)
