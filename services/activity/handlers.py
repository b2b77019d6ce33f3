"""Activity use cases: one function per command or query."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.activity.domain.logins import (MAX_IP, MAX_REASON, MAX_USER_AGENT, DayCounts, LoginKind, as_utc, clip,
                                             fill_days, start_of, summary_days)
from services.activity.persistence.repository import count_logins, count_logins_per_day, insert_login_record


async def record_login(session: AsyncSession, *, event_id: str, kind: LoginKind, success: bool, at: datetime,
                       user_id: uuid.UUID | None, tenant_id: uuid.UUID | None, session_id: uuid.UUID | None = None,
                       ip: str | None = None, user_agent: str | None = None, reason: str | None = None) -> bool:
    """Record a login, failed login or logout once per event. Returns False if it was already recorded."""
    return await insert_login_record(
        session, event_id=event_id, kind=kind.value, success=success, at=as_utc(at), user_id=user_id,
        tenant_id=tenant_id, session_id=session_id, ip=clip(ip, MAX_IP), user_agent=clip(user_agent, MAX_USER_AGENT),
        reason=clip(reason, MAX_REASON))


@dataclass(frozen=True)
class LoginSummary:
    tenant_id: uuid.UUID
    days: int
    since: datetime
    successes: int
    failures: int
    distinct_users: int
    per_day: list[DayCounts]


async def summarize_logins(session: AsyncSession, tenant_id: uuid.UUID, *, days: int, now: datetime) -> LoginSummary:
    """A tenant's logins over the last `days` UTC days (today included), with every day listed."""
    calendar = summary_days(days, now)
    since = start_of(calendar[0])
    per_day = await count_logins_per_day(session, tenant_id, since)
    successes, failures, distinct_users = await count_logins(session, tenant_id, since)
    return LoginSummary(tenant_id=tenant_id, days=days, since=since, successes=successes, failures=failures,
                        distinct_users=distinct_users, per_day=fill_days(calendar, per_day))
