"""The built-in roles, the permissions they grant, and where an assignment counts.

An assignment is a role held in one tenant, or globally (tenant None). A global assignment
counts in every tenant; a tenant assignment only in its own tenant.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class RoleName(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    COMPANY_ADMIN = "company_admin"
    AUDITOR = "auditor"
    SUPPORT_AGENT = "support_agent"
    EMPLOYEE = "employee"


class Scope(StrEnum):
    """Where a role may be assigned."""

    GLOBAL = "global"  # platform-wide only (tenant None)
    TENANT = "tenant"  # within one tenant only
    ANY = "any"  # either


@dataclass(frozen=True)
class Role:
    name: RoleName
    description: str
    scope: Scope
    permissions: frozenset[str]


ROLES: dict[str, Role] = {r.name.value: r for r in (
    Role(RoleName.PLATFORM_ADMIN, "Runs the platform: creates companies, manages every role.", Scope.GLOBAL,
         frozenset({"tenants:create", "tenants:read", "users:invite", "users:read", "authz:read", "authz:manage",
                    "activity:read", "lifecycle:read", "feedback:read", "ops:read"})),
    Role(RoleName.COMPANY_ADMIN, "Administers one company: invites employees, reads its users and records.",
         Scope.TENANT,
         frozenset({"tenants:read", "users:invite", "users:read", "authz:read", "activity:read", "lifecycle:read",
                    "feedback:read"})),
    Role(RoleName.AUDITOR, "Reads users, roles and records for audits; changes nothing.", Scope.ANY,
         frozenset({"users:read", "authz:read", "activity:read", "lifecycle:read", "feedback:read"})),
    Role(RoleName.SUPPORT_AGENT, "Answers employees' feedback and questions.", Scope.ANY,
         frozenset({"users:read", "feedback:read", "feedback:handle"})),
    Role(RoleName.EMPLOYEE, "An employee of a company: their own profile and feedback.", Scope.TENANT,
         frozenset({"profile:self", "feedback:submit"})),
)}

PERMISSIONS: frozenset[str] = frozenset().union(*(r.permissions for r in ROLES.values()))


@dataclass(frozen=True)
class Grant:
    """One active role assignment, as far as permission checks care."""

    role: str
    tenant_id: uuid.UUID | None


def is_known_role(role: str) -> bool:
    return role in ROLES


def scope_error(role: str, tenant_id: uuid.UUID | None) -> str | None:
    """Why `role` may not be assigned in `tenant_id` (None: globally), or None if it may."""
    known = ROLES.get(role)
    if known is None:
        return f"'{role}' is not a role; the roles are: {', '.join(ROLES)}."
    if known.scope is Scope.GLOBAL and tenant_id is not None:
        return f"'{role}' is a platform-wide role: assign it with tenant_id null."
    if known.scope is Scope.TENANT and tenant_id is None:
        return f"'{role}' is held within a company: tenant_id is required."
    return None


def counts_in(grant: Grant, tenant_id: uuid.UUID | None) -> bool:
    """A global grant counts everywhere; a tenant grant only in its tenant."""
    return grant.tenant_id is None or grant.tenant_id == tenant_id


def effective_roles(grants: Iterable[Grant], tenant_id: uuid.UUID | None) -> list[str]:
    """The known roles that count in `tenant_id`, sorted, without duplicates."""
    return sorted({g.role for g in grants if g.role in ROLES and counts_in(g, tenant_id)})


def is_allowed(grants: Iterable[Grant], permission: str, tenant_id: uuid.UUID | None) -> bool:
    return any(permission in ROLES[role].permissions for role in effective_roles(grants, tenant_id))


def membership_error(role: str, tenant_id: uuid.UUID | None, home_tenant: uuid.UUID | None) -> str | None:
    """Why `role` may not be given in `tenant_id` to a user of `home_tenant` (None: platform staff),
    or None. A company's people hold roles in their own company only; platform staff may hold the
    roles that are not a company's own (company_admin, employee) in any company, or platform-wide."""
    if home_tenant is not None and tenant_id != home_tenant:
        return "This user belongs to another company: they can hold roles in their own company only."
    if home_tenant is None and tenant_id is not None and ROLES[role].scope is Scope.TENANT:
        return f"'{role}' is for a company's own people, not for platform staff."
    return None
