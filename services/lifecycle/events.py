"""Events the lifecycle service publishes (topic esop.lifecycle, key = user id)."""
from __future__ import annotations

import uuid

from services.lifecycle.domain.stages import Stage
from shared.events import EventData


class StageChanged(EventData):
    """A user moved to a later stage: invited, registered, verified, active, dormant or exited.
    `from_stage` is null when the user was first seen at `to_stage`."""

    event_type = "esop.lifecycle.stage.changed"
    version = 1

    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    from_stage: Stage | None
    to_stage: Stage
    cause_event_id: str


PUBLISHED: list[type[EventData]] = [StageChanged]
