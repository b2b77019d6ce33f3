"""Events the identity service publishes (topic esop.identity, key = user id)."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from shared.events import EventData


class TenantCreated(EventData):
    """A company was put on the platform; `admin_user_id` is its first company administrator."""

    event_type = "esop.identity.tenant.created"
    tenant_id: uuid.UUID
    name: str
    admin_user_id: uuid.UUID


class PlatformAdminCreated(EventData):
    """A platform administrator account was created (`esop admin create`)."""

    event_type = "esop.identity.platform_admin.created"
    user_id: uuid.UUID
    email: str


class UserInvited(EventData):
    """A person was invited to register: a roster row, or a company's first administrator."""

    event_type = "esop.identity.user.invited"
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    employee_no: str | None
    department: str | None
    hire_date: date | None
    role: str


class UserRegistered(EventData):
    """An invited person proved their mobile or email and set a password."""

    event_type = "esop.identity.user.registered"
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    email: str | None
    mobile: str | None
    employee_no: str | None
    department: str | None
    hire_date: date | None
    verified_channel: str


class UserLoggedIn(EventData):
    event_type = "esop.identity.user.logged_in"
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    session_id: uuid.UUID
    ip: str | None
    user_agent: str | None
    at: datetime


class LoginFailed(EventData):
    """A login was refused. `user_id` is null when the login named no known account."""

    event_type = "esop.identity.user.login_failed"
    user_id: uuid.UUID | None
    tenant_id: uuid.UUID | None
    reason: str  # bad_credentials | locked | not_registered | ambiguous
    ip: str | None
    user_agent: str | None
    at: datetime


class UserLoggedOut(EventData):
    event_type = "esop.identity.user.logged_out"
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    session_id: uuid.UUID
    at: datetime


class SessionRevoked(EventData):
    """A session ended other than by logout (refresh-token reuse, ...): its tokens must stop working."""

    event_type = "esop.identity.session.revoked"
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    session_id: uuid.UUID
    reason: str


PUBLISHED: list[type[EventData]] = [TenantCreated, PlatformAdminCreated, UserInvited, UserRegistered, UserLoggedIn,
                                    LoginFailed, UserLoggedOut, SessionRevoked]
