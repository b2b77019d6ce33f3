"""Identity's login events -> login records. Event in, command out, nothing more.

Services never import each other, so the part of each consumed event's data that this
service reads is declared here (a tolerant reader: unknown fields are ignored)."""
from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from services.activity.domain.logins import LoginKind
from services.activity.handlers import record_login
from services.activity.persistence.repository import remember_tenant
from shared.events import CloudEvent
from shared.inbox import EventHandler

TENANT_CREATED = "esop.identity.tenant.created"
LOGGED_IN = "esop.identity.user.logged_in"
LOGIN_FAILED = "esop.identity.user.login_failed"
LOGGED_OUT = "esop.identity.user.logged_out"


class _Consumed(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tenant_id: uuid.UUID | None = None
    at: datetime | None = None


class TenantCreated(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tenant_id: uuid.UUID


class LoggedIn(_Consumed):
    user_id: uuid.UUID
    session_id: uuid.UUID | None = None
    ip: str | None = None
    user_agent: str | None = None


class LoginFailed(_Consumed):
    user_id: uuid.UUID | None = None
    reason: str
    ip: str | None = None
    user_agent: str | None = None


class LoggedOut(_Consumed):
    user_id: uuid.UUID
    session_id: uuid.UUID | None = None


async def on_tenant_created(session: AsyncSession, event: CloudEvent) -> None:
    await remember_tenant(session, TenantCreated.model_validate(event.data).tenant_id)


async def on_logged_in(session: AsyncSession, event: CloudEvent) -> None:
    data = LoggedIn.model_validate(event.data)
    await record_login(session, event_id=event.id, kind=LoginKind.LOGIN, success=True, at=data.at or event.time,
                       user_id=data.user_id, tenant_id=data.tenant_id, session_id=data.session_id, ip=data.ip,
                       user_agent=data.user_agent)


async def on_login_failed(session: AsyncSession, event: CloudEvent) -> None:
    data = LoginFailed.model_validate(event.data)
    await record_login(session, event_id=event.id, kind=LoginKind.LOGIN, success=False, at=data.at or event.time,
                       user_id=data.user_id, tenant_id=data.tenant_id, ip=data.ip, user_agent=data.user_agent,
                       reason=data.reason)


async def on_logged_out(session: AsyncSession, event: CloudEvent) -> None:
    data = LoggedOut.model_validate(event.data)
    await record_login(session, event_id=event.id, kind=LoginKind.LOGOUT, success=True, at=data.at or event.time,
                       user_id=data.user_id, tenant_id=data.tenant_id, session_id=data.session_id)


CONSUMERS: dict[str, EventHandler] = {
    TENANT_CREATED: on_tenant_created,
    LOGGED_IN: on_logged_in,
    LOGIN_FAILED: on_login_failed,
    LOGGED_OUT: on_logged_out,
}
