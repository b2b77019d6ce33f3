"""Identity's events, built with identity's own event classes (so a change to them shows up here)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.identity.events import UserInvited, UserLoggedIn, UserRegistered
from shared.events import CloudEvent

SOURCE = "/esop/identity"


def invited(user_id: uuid.UUID, tenant_id: uuid.UUID) -> CloudEvent:
    return UserInvited(user_id=user_id, tenant_id=tenant_id, name="张三", employee_no="E0001", department="研发部",
                       hire_date=None, role="employee").to_event(source=SOURCE, subject=user_id, tenant_id=tenant_id)


def registered(user_id: uuid.UUID, tenant_id: uuid.UUID) -> CloudEvent:
    return UserRegistered(user_id=user_id, tenant_id=tenant_id, name="张三", email="zs@corp.example.com",
                          mobile="+8613800000000", employee_no="E0001", department="研发部", hire_date=None,
                          verified_channel="mobile").to_event(source=SOURCE, subject=user_id, tenant_id=tenant_id)


def logged_in(user_id: uuid.UUID, tenant_id: uuid.UUID | None, at: datetime | None = None) -> CloudEvent:
    return UserLoggedIn(user_id=user_id, tenant_id=tenant_id, session_id=uuid.uuid4(), ip="203.0.113.7",
                        user_agent="pytest", at=at or datetime.now(UTC)).to_event(source=SOURCE, subject=user_id,
                                                                                   tenant_id=tenant_id)
