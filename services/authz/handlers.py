"""Authz use cases: one function per command or question.

`actor` is the principal acting through the API; None means the platform itself (a consumed
event), which needs no permission."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.authz.domain.roles import effective_roles, is_allowed, membership_error, scope_error
from services.authz.events import RoleAssigned, RoleRevoked
from services.authz.persistence.repository import (
    add_history,
    get_active_assignment,
    get_assignment,
    get_member,
    insert_assignment_if_absent,
    list_active_assignments,
    list_grants,
    tenant_exists,
)
from services.authz.persistence.tables import RoleAssignment
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from shared.outbox import Publisher


async def holds_permission(session: AsyncSession, user_id: uuid.UUID, permission: str,
                           tenant_id: uuid.UUID | None) -> bool:
    return is_allowed(await list_grants(session, user_id), permission, tenant_id)


async def ensure_permission(session: AsyncSession, actor: Principal, permission: str,
                            tenant_id: uuid.UUID | None) -> None:
    if not await holds_permission(session, actor.user_id, permission, tenant_id):
        where = f"in tenant {tenant_id}" if tenant_id else "platform-wide"
        raise Forbidden(f"Permission '{permission}' {where} is required.", permission=permission)


async def check_access(session: AsyncSession, actor: Principal, *, permission: str, tenant_id: uuid.UUID | None,
                       user_id: uuid.UUID | None, platform_wide: bool = False) -> tuple[bool, list[str]]:
    """May `user_id` (default: the actor) use `permission` in `tenant_id` (default: the actor's tenant;
    `platform_wide`: only platform-wide grants count)? Returns the answer and the roles that count
    there. Asking about someone else needs authz:read there."""
    tenant = None if platform_wide else (tenant_id if tenant_id is not None else actor.tenant_id)
    subject = user_id or actor.user_id
    if subject != actor.user_id:
        await ensure_permission(session, actor, "authz:read", tenant)
    grants = await list_grants(session, subject)
    return is_allowed(grants, permission, tenant), effective_roles(grants, tenant)


async def assign_role(session: AsyncSession, publish: Publisher, actor: Principal | None, *, user_id: uuid.UUID,
                      tenant_id: uuid.UUID | None, role: str, reason: str | None) -> tuple[RoleAssignment, bool]:
    """Returns the active assignment and whether it was created now (False: it already existed)."""
    if problem := scope_error(role, tenant_id):
        raise Unprocessable(problem, errors=[{"loc": ["body", "tenant_id"], "msg": problem, "type": "value_error"}])
    if actor is not None:
        await ensure_permission(session, actor, "authz:manage", tenant_id)
        await _ensure_member_may_hold(session, user_id, role, tenant_id)
    granted_by = actor.user_id if actor else None
    now = datetime.now(UTC)
    created = await insert_assignment_if_absent(session, user_id=user_id, tenant_id=tenant_id, role=role,
                                                granted_at=now, granted_by=granted_by, reason=reason)
    if created is None:
        existing = await get_active_assignment(session, user_id=user_id, tenant_id=tenant_id, role=role)
        if existing is None:  # revoked between our insert and this read
            raise Conflict("The assignment changed concurrently; retry.")
        return existing, False
    event = await publish(session, RoleAssigned(assignment_id=created.id, user_id=user_id, tenant_id=tenant_id,
                                                role=role, reason=reason), subject=user_id, tenant_id=tenant_id)
    await add_history(session, assignment_id=created.id, action="assigned", at=now, by=granted_by, reason=reason,
                      event_id=event.id)
    return created, True


async def _ensure_member_may_hold(session: AsyncSession, user_id: uuid.UUID, role: str,
                                  tenant_id: uuid.UUID | None) -> None:
    """An administrator's grant goes to a user identity has told us of, in a company that exists and
    that the user may hold roles in. (Grants from consumed events come from identity itself.)"""
    member = await get_member(session, user_id)
    if member is None:
        raise NotFound("No such user (someone invited a moment ago is known within a second or so).")
    if tenant_id is not None and not await tenant_exists(session, tenant_id):
        raise NotFound("No such company.")
    if problem := membership_error(role, tenant_id, member.tenant_id):
        raise Unprocessable(problem, errors=[{"loc": ["body", "tenant_id"], "msg": problem, "type": "value_error"}])


async def revoke_role(session: AsyncSession, publish: Publisher, actor: Principal | None, *, user_id: uuid.UUID,
                      assignment_id: uuid.UUID, reason: str | None) -> tuple[RoleAssignment, bool]:
    """Returns the assignment and whether it was revoked now (False: it already was; nothing happens)."""
    assignment = await get_assignment(session, assignment_id, for_update=True)
    if assignment is None or assignment.user_id != user_id:
        raise NotFound("This user has no such role assignment.")
    if actor is not None:
        await ensure_permission(session, actor, "authz:manage", assignment.tenant_id)
    if assignment.revoked_at is not None:
        return assignment, False
    now = datetime.now(UTC)
    assignment.revoked_at = now
    await session.flush()
    event = await publish(session, RoleRevoked(assignment_id=assignment.id, user_id=user_id,
                                               tenant_id=assignment.tenant_id, role=assignment.role, reason=reason),
                          subject=user_id, tenant_id=assignment.tenant_id)
    await add_history(session, assignment_id=assignment.id, action="revoked", at=now,
                      by=actor.user_id if actor else None, reason=reason, event_id=event.id)
    return assignment, True


async def list_user_assignments(session: AsyncSession, actor: Principal, user_id: uuid.UUID) -> list[RoleAssignment]:
    """A user's active assignments: all of them for the user themselves; for anyone else, those in
    the tenants where the actor holds authz:read (a global one only with authz:read platform-wide)."""
    assignments = await list_active_assignments(session, user_id)
    if user_id == actor.user_id:
        return assignments
    grants = await list_grants(session, actor.user_id)
    visible = [a for a in assignments if is_allowed(grants, "authz:read", a.tenant_id)]
    if not visible and not is_allowed(grants, "authz:read", actor.tenant_id):
        raise Forbidden("Permission 'authz:read' is required to see another user's roles.", permission="authz:read")
    return visible

