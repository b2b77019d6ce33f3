from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.persistence.tables import Ticket


async def get_ticket_by_key(session: AsyncSession, user_id: uuid.UUID, key: str) -> Ticket | None:
    return (await session.execute(select(Ticket).where(Ticket.user_id == user_id, Ticket.idempotency_key == key)
                                  )).scalar_one_or_none()


async def list_tickets_of_user(session: AsyncSession, user_id: uuid.UUID, limit: int,
                               after: tuple[datetime, uuid.UUID] | None) -> list[Ticket]:
    query = select(Ticket).where(Ticket.user_id == user_id)
    if after:
        query = query.where(tuple_(Ticket.created_at, Ticket.id) < tuple_(after[0], after[1]))
    query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())
