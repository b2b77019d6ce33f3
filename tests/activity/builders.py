"""Identity's login events, built with identity's own event classes (so a change to them shows up here)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.identity.events import LoginFailed, UserLoggedIn, UserLoggedOut
from shared.events import CloudEvent

SOURCE = "/esop/identity"


def logged_in(user_id: uuid.UUID, tenant_id: uuid.UUID | None, *, at: datetime | None = None,
              session_id: uuid.UUID | None = None, ip: str | None = "203.0.113.7",
              user_agent: str | None = "Mozilla/5.0 (pytest)") -> CloudEvent:
    return UserLoggedIn(user_id=user_id, tenant_id=tenant_id, session_id=session_id or uuid.uuid4(), ip=ip,
                        user_agent=user_agent, at=at or datetime.now(UTC)
                        ).to_event(source=SOURCE, subject=user_id, tenant_id=tenant_id)


def login_failed(user_id: uuid.UUID | None, tenant_id: uuid.UUID | None, *, reason: str = "bad_credentials",
                 at: datetime | None = None) -> CloudEvent:
    return LoginFailed(user_id=user_id, tenant_id=tenant_id, reason=reason, ip="198.51.100.9", user_agent="curl/8",
                       at=at or datetime.now(UTC)).to_event(source=SOURCE, subject=user_id, tenant_id=tenant_id)


def logged_out(user_id: uuid.UUID, tenant_id: uuid.UUID | None, session_id: uuid.UUID,
               at: datetime | None = None) -> CloudEvent:
    return UserLoggedOut(user_id=user_id, tenant_id=tenant_id, session_id=session_id, at=at or datetime.now(UTC)
                         ).to_event(source=SOURCE, subject=user_id, tenant_id=tenant_id)
