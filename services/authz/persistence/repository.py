from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.authz.domain.roles import Grant
from services.authz.persistence.tables import AssignmentHistory, KnownTenant, Member, RoleAssignment


async def insert_assignment_if_absent(session: AsyncSession, *, user_id: uuid.UUID, tenant_id: uuid.UUID | None,
                                      role: str, granted_at: datetime, granted_by: uuid.UUID | None,
                                      reason: str | None) -> RoleAssignment | None:
    """Insert an active assignment; None if an active one for (user, tenant, role) already exists.

    ON CONFLICT DO NOTHING makes this safe against a concurrent insert of the same assignment."""
    stmt = (insert(RoleAssignment)
            .values(id=uuid.uuid4(), user_id=user_id, tenant_id=tenant_id, role=role, granted_at=granted_at,
                    granted_by=granted_by, reason=reason)
            .on_conflict_do_nothing()
            .returning(RoleAssignment))
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_active_assignment(session: AsyncSession, *, user_id: uuid.UUID, tenant_id: uuid.UUID | None,
                                role: str) -> RoleAssignment | None:
    tenant_match = RoleAssignment.tenant_id.is_(None) if tenant_id is None else RoleAssignment.tenant_id == tenant_id
    return (await session.execute(select(RoleAssignment).where(
        RoleAssignment.user_id == user_id, tenant_match, RoleAssignment.role == role,
        RoleAssignment.revoked_at.is_(None)))).scalar_one_or_none()


async def get_assignment(session: AsyncSession, assignment_id: uuid.UUID, *,
                         for_update: bool = False) -> RoleAssignment | None:
    query = select(RoleAssignment).where(RoleAssignment.id == assignment_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_active_assignments(session: AsyncSession, user_id: uuid.UUID) -> list[RoleAssignment]:
    return list((await session.execute(select(RoleAssignment).where(
        RoleAssignment.user_id == user_id, RoleAssignment.revoked_at.is_(None))
        .order_by(RoleAssignment.granted_at, RoleAssignment.id))).scalars())


async def list_grants(session: AsyncSession, user_id: uuid.UUID) -> list[Grant]:
    rows = await session.execute(select(RoleAssignment.role, RoleAssignment.tenant_id).where(
        RoleAssignment.user_id == user_id, RoleAssignment.revoked_at.is_(None)))
    return [Grant(role=r.role, tenant_id=r.tenant_id) for r in rows]


async def add_history(session: AsyncSession, *, assignment_id: uuid.UUID, action: str, at: datetime,
                      by: uuid.UUID | None, reason: str | None, event_id: str) -> None:
    session.add(AssignmentHistory(assignment_id=assignment_id, action=action, at=at, by=by, reason=reason,
                                  event_id=event_id))
    await session.flush()


async def list_history(session: AsyncSession, assignment_id: uuid.UUID) -> list[AssignmentHistory]:
    return list((await session.execute(select(AssignmentHistory).where(
        AssignmentHistory.assignment_id == assignment_id).order_by(AssignmentHistory.id))).scalars())


async def remember_member(session: AsyncSession, user_id: uuid.UUID, tenant_id: uuid.UUID | None) -> None:
    """Note that a user exists and where they belong (first word wins: a user never changes company)."""
    await session.execute(insert(Member).values(user_id=user_id, tenant_id=tenant_id).on_conflict_do_nothing())


async def remember_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await session.execute(insert(KnownTenant).values(tenant_id=tenant_id).on_conflict_do_nothing())


async def get_member(session: AsyncSession, user_id: uuid.UUID) -> Member | None:
    return await session.get(Member, user_id)


async def tenant_exists(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    return await session.get(KnownTenant, tenant_id) is not None
