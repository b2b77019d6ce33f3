"""Identity's user events -> stage moves. Event in, command out, nothing more.

Services never import each other, so the part of each consumed event's data that this
service reads is declared here (a tolerant reader: unknown fields are ignored)."""
from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from services.lifecycle.domain.stages import Stage
from services.lifecycle.handlers import advance_stage
from shared.events import CloudEvent
from shared.inbox import EventHandler
from shared.outbox import Publisher

USER_INVITED = "esop.identity.user.invited"
USER_REGISTERED = "esop.identity.user.registered"
USER_LOGGED_IN = "esop.identity.user.logged_in"

# Which stage each consumed event implies.
STAGE_OF: dict[str, Stage] = {
    USER_INVITED: Stage.INVITED,
    USER_REGISTERED: Stage.REGISTERED,
    USER_LOGGED_IN: Stage.ACTIVE,
}


class UserEvent(BaseModel):
    """What lifecycle reads of identity's user.invited, user.registered and user.logged_in (v1)."""

    model_config = ConfigDict(extra="ignore")

    user_id: uuid.UUID
    tenant_id: uuid.UUID | None = None
    at: datetime | None = None


def build_consumers(publish: Publisher) -> dict[str, EventHandler]:
    async def on_user_event(session: AsyncSession, event: CloudEvent) -> None:
        data = UserEvent.model_validate(event.data)
        await advance_stage(session, publish, user_id=data.user_id, tenant_id=data.tenant_id,
                            target=STAGE_OF[event.type], at=data.at or event.time, cause_event_id=event.id,
                            cause_event_type=event.type)

    return dict.fromkeys(STAGE_OF, on_user_event)
