"""Events the profile service publishes (topic esop.profile, key = user id).

They name what changed, never the values: personal data stays in this service."""
from __future__ import annotations

import uuid

from shared.events import EventData


class ProfileCreated(EventData):
    """A registered user's profile now exists (from identity's registration data)."""

    event_type = "esop.profile.profile.created"
    version = 1

    user_id: uuid.UUID
    tenant_id: uuid.UUID


class ProfileUpdated(EventData):
    """A user changed their own profile; `fields` names the changed fields (values are not published)."""

    event_type = "esop.profile.profile.updated"
    version = 1

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    fields: list[str]


PUBLISHED: list[type[EventData]] = [ProfileCreated, ProfileUpdated]
