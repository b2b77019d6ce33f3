"""Events the identity service publishes (topic esop.identity, key = user id)."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import Field

from shared.events import EventData

ROLE = Field(description="The role granted, one of the built-in roles (platform_admin, company_admin, auditor, "
                         "support_agent, employee); accept roles you do not know.",
             examples=["employee", "company_admin"])


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
    role: str = ROLE


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
    verified_channel: str = Field(description="How the person proved who they are: `mobile` or `email`.",
                                  examples=["mobile", "email"])


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
    reason: str = Field(description="`bad_credentials` (wrong login or password), `locked` (too many failures; see Retry-After), `ambiguous` (the login and password open accounts in several companies and no tenant_id was given); accept reasons you do not know.", examples=["bad_credentials", "locked"])
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
    reason: str = Field(description="Why the session ended: `refresh_token_reuse` (a rotated refresh token came back); "
                                   "more reasons will come (password change, offboarding): accept any.",
                       examples=["refresh_token_reuse"])


PUBLISHED: list[type[EventData]] = [TenantCreated, PlatformAdminCreated, UserInvited, UserRegistered, UserLoggedIn,
                                    LoginFailed, UserLoggedOut, SessionRevoked]
