from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.persistence.tables import Profile, ProfileChange


async def get_profile(session: AsyncSession, user_id: uuid.UUID, *, for_update: bool = False) -> Profile | None:
    query = select(Profile).where(Profile.user_id == user_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def insert_profile_if_absent(session: AsyncSession, **values: Any) -> Profile | None:
    """Insert a profile; None if the user already has one (safe against a concurrent insert)."""
    stmt = insert(Profile).values(**values).on_conflict_do_nothing(index_elements=[Profile.user_id]).returning(Profile)
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_changes(session: AsyncSession, changes: list[ProfileChange]) -> None:
    session.add_all(changes)
    await session.flush()


async def list_changes(session: AsyncSession, user_id: uuid.UUID, limit: int,
                       after: tuple[datetime, str] | None) -> list[ProfileChange]:
    query = select(ProfileChange).where(ProfileChange.user_id == user_id)
    if after:
        query = query.where(tuple_(ProfileChange.changed_at, ProfileChange.id) < tuple_(after[0], after[1]))
    query = query.order_by(ProfileChange.changed_at.desc(), ProfileChange.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())
