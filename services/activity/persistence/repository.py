from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, cast, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.activity.domain.logins import DayCounts, LoginKind
from services.activity.persistence.tables import KnownTenant, LoginRecord


async def insert_login_record(session: AsyncSession, **values: Any) -> bool:
    """Insert unless a record for the same event exists. Returns whether a row was written."""
    stmt = (insert(LoginRecord).values(id=uuid.uuid4(), **values)
            .on_conflict_do_nothing(index_elements=[LoginRecord.event_id]).returning(LoginRecord.id))
    return (await session.execute(stmt)).first() is not None


async def list_login_records(session: AsyncSession, *, limit: int, after: tuple[datetime, uuid.UUID] | None,
                             user_id: uuid.UUID | None = None, tenant_id: uuid.UUID | None = None,
                             success: bool | None = None, kind: str | None = None,
                             since: datetime | None = None, until: datetime | None = None) -> list[LoginRecord]:
    """Newest first, by (at, id). Filters that are None are not applied; `until` is exclusive."""
    query = select(LoginRecord)
    if user_id is not None:
        query = query.where(LoginRecord.user_id == user_id)
    if tenant_id is not None:
        query = query.where(LoginRecord.tenant_id == tenant_id)
    if success is not None:
        query = query.where(LoginRecord.success.is_(success))
    if kind is not None:
        query = query.where(LoginRecord.kind == kind)
    if since is not None:
        query = query.where(LoginRecord.at >= since)
    if until is not None:
        query = query.where(LoginRecord.at < until)
    if after:
        query = query.where(tuple_(LoginRecord.at, LoginRecord.id) < tuple_(after[0], after[1]))
    query = query.order_by(LoginRecord.at.desc(), LoginRecord.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


def _login_counts():  # noqa: ANN202 - a tuple of SQL expressions
    return (func.count().filter(LoginRecord.success.is_(True)),
            func.count().filter(LoginRecord.success.is_(False)),
            func.count(LoginRecord.user_id.distinct()).filter(LoginRecord.success.is_(True)))


async def count_logins_per_day(session: AsyncSession, tenant_id: uuid.UUID, since: datetime) -> dict[date, DayCounts]:
    """Logins (not logouts) of a tenant since `since`, by UTC day."""
    day = cast(func.timezone("UTC", LoginRecord.at), Date).label("day")
    query = (select(day, *_login_counts())
             .where(LoginRecord.tenant_id == tenant_id, LoginRecord.kind == LoginKind.LOGIN, LoginRecord.at >= since)
             .group_by(day))
    return {r[0]: DayCounts(r[0], r[1], r[2], r[3]) for r in (await session.execute(query)).all()}


async def count_logins(session: AsyncSession, tenant_id: uuid.UUID, since: datetime) -> tuple[int, int, int]:
    """(successes, failures, distinct users who logged in) of a tenant since `since`."""
    query = select(*_login_counts()).where(LoginRecord.tenant_id == tenant_id, LoginRecord.kind == LoginKind.LOGIN,
                                           LoginRecord.at >= since)
    row = (await session.execute(query)).one()
    return row[0], row[1], row[2]


async def remember_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await session.execute(insert(KnownTenant).values(id=tenant_id).on_conflict_do_nothing())


async def tenant_is_known(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    return await session.get(KnownTenant, tenant_id) is not None
