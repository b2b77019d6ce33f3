"""Events authz consumes: identity's account events give people their built-in roles.

Each handler runs in the inbox's transaction (redelivery is harmless) and is also a no-op when
the assignment is already active."""
from __future__ import annotations

import uuid

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.authz.domain.roles import RoleName
from services.authz.handlers import assign_role
from services.authz.persistence.repository import remember_member, remember_tenant
from services.authz.persistence.tables import messaging
from shared.events import CloudEvent
from shared.inbox import EventHandler
from shared.outbox import Publisher

publish = Publisher("authz", messaging)


class _PlatformAdminCreated(BaseModel):
    user_id: uuid.UUID


class _TenantCreated(BaseModel):
    tenant_id: uuid.UUID
    admin_user_id: uuid.UUID


class _UserOfTenant(BaseModel):
    user_id: uuid.UUID
    tenant_id: uuid.UUID


async def on_platform_admin_created(session: AsyncSession, event: CloudEvent) -> None:
    data = _PlatformAdminCreated.model_validate(event.data)
    await remember_member(session, data.user_id, None)
    await assign_role(session, publish, None, user_id=data.user_id, tenant_id=None, role=RoleName.PLATFORM_ADMIN,
                      reason=f"platform administrator created (event {event.id})")


async def on_tenant_created(session: AsyncSession, event: CloudEvent) -> None:
    data = _TenantCreated.model_validate(event.data)
    await remember_tenant(session, data.tenant_id)
    await remember_member(session, data.admin_user_id, data.tenant_id)
    await assign_role(session, publish, None, user_id=data.admin_user_id, tenant_id=data.tenant_id,
                      role=RoleName.COMPANY_ADMIN, reason=f"first administrator of the company (event {event.id})")


async def on_user_invited(session: AsyncSession, event: CloudEvent) -> None:
    data = _UserOfTenant.model_validate(event.data)
    await remember_member(session, data.user_id, data.tenant_id)


async def on_user_registered(session: AsyncSession, event: CloudEvent) -> None:
    data = _UserOfTenant.model_validate(event.data)
    await remember_member(session, data.user_id, data.tenant_id)
    await assign_role(session, publish, None, user_id=data.user_id, tenant_id=data.tenant_id,
                      role=RoleName.EMPLOYEE, reason=f"registered (event {event.id})")


CONSUMERS: dict[str, EventHandler] = {
    "esop.identity.platform_admin.created": on_platform_admin_created,
    "esop.identity.tenant.created": on_tenant_created,
    "esop.identity.user.invited": on_user_invited,
    "esop.identity.user.registered": on_user_registered,
}
