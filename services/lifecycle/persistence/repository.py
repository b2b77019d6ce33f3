from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.lifecycle.persistence.tables import StageChange, UserStage


async def insert_user_stage(session: AsyncSession, *, user_id: uuid.UUID, tenant_id: uuid.UUID | None, stage: str,
                            since: datetime) -> bool:
    """Create the user at `stage` unless they exist. Returns whether they were created."""
    stmt = (insert(UserStage).values(user_id=user_id, tenant_id=tenant_id, stage=stage, since=since)
            .on_conflict_do_nothing(index_elements=[UserStage.user_id]).returning(UserStage.user_id))
    return (await session.execute(stmt)).first() is not None


async def get_user_stage(session: AsyncSession, user_id: uuid.UUID, *, for_update: bool = False) -> UserStage | None:
    query = select(UserStage).where(UserStage.user_id == user_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_stage_history(session: AsyncSession, user_id: uuid.UUID, limit: int,
                             after: tuple[datetime, uuid.UUID] | None) -> list[StageChange]:
    """Oldest first, by (at, id)."""
    query = select(StageChange).where(StageChange.user_id == user_id)
    if after:
        query = query.where(tuple_(StageChange.at, StageChange.id) > tuple_(after[0], after[1]))
    query = query.order_by(StageChange.at, StageChange.id).limit(limit)
    return list((await session.execute(query)).scalars())


async def count_stages(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, int]:
    query = select(UserStage.stage, func.count()).where(UserStage.tenant_id == tenant_id).group_by(UserStage.stage)
    return {stage: n for stage, n in (await session.execute(query)).all()}
