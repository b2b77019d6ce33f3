"""The role and permission rules, as plain Python (property-based where it pays)."""
from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from services.authz.domain.roles import (
    PERMISSIONS,
    ROLES,
    Grant,
    RoleName,
    Scope,
    counts_in,
    effective_roles,
    is_allowed,
    scope_error,
)

TENANTS = [uuid.UUID(int=i) for i in range(1, 4)]
tenants = st.sampled_from(TENANTS)
maybe_tenant = st.none() | tenants
role_names = st.sampled_from(sorted(ROLES)) | st.text(max_size=12)
grants = st.lists(st.builds(Grant, role=role_names, tenant_id=maybe_tenant), max_size=6)
permissions = st.sampled_from(sorted(PERMISSIONS)) | st.text(max_size=20)


class TestBuiltInRoles:
    def test_the_roles_grant_exactly_the_agreed_permissions(self) -> None:
        assert {name: set(role.permissions) for name, role in ROLES.items()} == {
            "platform_admin": {"tenants:create", "tenants:read", "users:invite", "users:read", "authz:read",
                               "authz:manage", "activity:read", "lifecycle:read", "feedback:read", "ops:read"},
            "company_admin": {"tenants:read", "users:invite", "users:read", "authz:read", "activity:read",
                              "lifecycle:read", "feedback:read"},
            "auditor": {"users:read", "authz:read", "activity:read", "lifecycle:read", "feedback:read"},
            "support_agent": {"users:read", "feedback:read", "feedback:handle"},
            "employee": {"profile:self", "feedback:submit"},
        }

    def test_only_the_platform_admin_manages_roles(self) -> None:
        assert [name for name, role in ROLES.items() if "authz:manage" in role.permissions] == ["platform_admin"]

    def test_role_names_match_the_enum(self) -> None:
        assert set(ROLES) == {r.value for r in RoleName}


class TestWhereAnAssignmentCounts:
    @given(grants, permissions, maybe_tenant)
    def test_allowed_iff_some_counting_known_role_has_the_permission(self, gs, permission, tenant) -> None:
        expected = any(g.role in ROLES and permission in ROLES[g.role].permissions
                       and (g.tenant_id is None or g.tenant_id == tenant) for g in gs)
        assert is_allowed(gs, permission, tenant) is expected

    @given(st.sampled_from(sorted(ROLES)), maybe_tenant)
    def test_a_global_assignment_counts_in_every_tenant(self, role, tenant) -> None:
        grant = Grant(role, None)
        assert counts_in(grant, tenant)
        assert all(is_allowed([grant], p, tenant) for p in ROLES[role].permissions)

    @given(st.sampled_from(sorted(ROLES)), tenants, maybe_tenant)
    def test_a_tenant_assignment_counts_only_in_its_tenant(self, role, home, elsewhere) -> None:
        grant = Grant(role, home)
        assert is_allowed([grant], next(iter(ROLES[role].permissions)), home)
        if elsewhere != home:
            assert effective_roles([grant], elsewhere) == []
            assert not any(is_allowed([grant], p, elsewhere) for p in PERMISSIONS)

    @given(grants, grants, permissions, maybe_tenant)
    def test_more_assignments_never_take_a_permission_away(self, some, more, permission, tenant) -> None:
        if is_allowed(some, permission, tenant):
            assert is_allowed(some + more, permission, tenant)

    @given(grants, maybe_tenant)
    def test_effective_roles_are_known_sorted_and_unique(self, gs, tenant) -> None:
        roles = effective_roles(gs, tenant)
        assert roles == sorted(set(roles))
        assert set(roles) <= set(ROLES)

    @given(st.text(max_size=20).filter(lambda r: r not in ROLES), maybe_tenant, permissions)
    def test_an_unknown_role_grants_nothing(self, role, tenant, permission) -> None:
        assert not is_allowed([Grant(role, tenant)], permission, tenant)

    def test_no_tenant_means_only_global_assignments_count(self) -> None:
        gs = [Grant("company_admin", TENANTS[0]), Grant("auditor", None)]
        assert effective_roles(gs, None) == ["auditor"]


class TestWhereARoleMayBeAssigned:
    @given(st.sampled_from(sorted(ROLES)), maybe_tenant)
    def test_scope_decides(self, role, tenant) -> None:
        scope = ROLES[role].scope
        ok = scope is Scope.ANY or (scope is Scope.GLOBAL) == (tenant is None)
        assert (scope_error(role, tenant) is None) is ok

    def test_platform_admin_is_only_global_and_employee_only_in_a_company(self) -> None:
        assert scope_error("platform_admin", None) is None
        assert "tenant_id null" in scope_error("platform_admin", TENANTS[0])
        assert "tenant_id is required" in scope_error("employee", None)
        assert scope_error("auditor", None) is None and scope_error("auditor", TENANTS[0]) is None

    @given(st.text(max_size=20).filter(lambda r: r not in ROLES), maybe_tenant)
    def test_an_unknown_role_may_not_be_assigned_anywhere(self, role, tenant) -> None:
        assert "is not a role" in scope_error(role, tenant)
