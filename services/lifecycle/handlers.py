"""Lifecycle use cases: one function per command or query."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.lifecycle.domain.stages import Stage, Transition, tally, transition
from services.lifecycle.events import StageChanged
from services.lifecycle.persistence.repository import count_stages, get_user_stage, insert_user_stage
from services.lifecycle.persistence.tables import StageChange, UserStage
from shared.auth import PermissionChecker, Principal
from shared.errors import Forbidden, NotFound
from shared.outbox import Publisher

READ_PERMISSION = "lifecycle:read"


async def advance_stage(session: AsyncSession, publish: Publisher, *, user_id: uuid.UUID,
                        tenant_id: uuid.UUID | None, target: Stage, at: datetime, cause_event_id: str,
                        cause_event_type: str) -> Transition | None:
    """Move the user to `target` if the state machine allows it (creating them if first seen),
    record the change and publish it. Returns the move made, or None if nothing changed."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    if transition(None, target) and await insert_user_stage(session, user_id=user_id, tenant_id=tenant_id,
                                                             stage=target.value, since=at):
        move = Transition(None, target)
    else:
        record = await get_user_stage(session, user_id, for_update=True)
        move = transition(Stage(record.stage), target) if record else None
        if record is None or move is None:
            return None
        record.stage, record.since = target.value, at
        record.tenant_id = record.tenant_id or tenant_id
        tenant_id = record.tenant_id
    session.add(StageChange(user_id=user_id, from_stage=move.from_stage, to_stage=move.to_stage, at=at,
                            cause_event_id=cause_event_id, cause_event_type=cause_event_type))
    await session.flush()
    await publish(session, StageChanged(user_id=user_id, tenant_id=tenant_id, from_stage=move.from_stage,
                                        to_stage=move.to_stage, cause_event_id=cause_event_id),
                  subject=user_id, tenant_id=tenant_id)
    return move


async def get_stage(session: AsyncSession, user_id: uuid.UUID) -> UserStage:
    record = await get_user_stage(session, user_id)
    if record is None:
        raise NotFound("No lifecycle stage is known for this user.")
    return record


async def get_readable_stage(session: AsyncSession, permissions: PermissionChecker, principal: Principal,
                             user_id: uuid.UUID) -> UserStage:
    """The user's stage record, if the caller is that user or holds lifecycle:read in the user's tenant."""
    record = await get_stage(session, user_id)
    if record.user_id != principal.user_id and not await permissions.check(principal, READ_PERMISSION,
                                                                           record.tenant_id):
        raise Forbidden(f"Permission '{READ_PERMISSION}' is required.", permission=READ_PERMISSION)
    return record


async def count_tenant_stages(session: AsyncSession, tenant_id: uuid.UUID) -> dict[Stage, int]:
    return tally(await count_stages(session, tenant_id))
