"""Events the profile service consumes: a registration creates the person's profile.

Runs in the inbox's transaction (redelivery is harmless), and is a no-op if the profile exists."""
from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.handlers import create_profile
from services.profile.persistence.tables import messaging
from shared.events import CloudEvent
from shared.inbox import EventHandler
from shared.outbox import Publisher

publish = Publisher("profile", messaging)


class _UserRegistered(BaseModel):
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    email: str | None = None
    mobile: str | None = None
    employee_no: str | None = None
    department: str | None = None
    hire_date: date | None = None


async def on_user_registered(session: AsyncSession, event: CloudEvent) -> None:
    data = _UserRegistered.model_validate(event.data)
    await create_profile(session, publish, **data.model_dump())


CONSUMERS: dict[str, EventHandler] = {
    "esop.identity.user.registered": on_user_registered,
}
