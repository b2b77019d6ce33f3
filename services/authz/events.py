"""Events the authz service publishes (topic esop.authz, key = user id).

Identity consumes both to keep the `roles` claim of its tokens current: keep the field names."""
from __future__ import annotations

import uuid

from pydantic import Field

from shared.events import EventData

ROLE = Field(description="A built-in role (platform_admin, company_admin, auditor, support_agent, employee); "
                         "accept roles you do not know.", examples=["employee"])
REASON = Field(description="Why, for people to read (free text; it may name the event that caused it).",
               examples=["registered (event 0c64a1f0-…)"])


class RoleAssigned(EventData):
    """A user was given a role in a tenant (`tenant_id` null: platform-wide)."""

    event_type = "esop.authz.role.assigned"
    version = 1

    assignment_id: uuid.UUID
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    role: str = ROLE
    reason: str | None = REASON


class RoleRevoked(EventData):
    """A user's role assignment was revoked; the role no longer counts for them in that tenant."""

    event_type = "esop.authz.role.revoked"
    version = 1

    assignment_id: uuid.UUID
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    role: str = ROLE
    reason: str | None = REASON


PUBLISHED: list[type[EventData]] = [RoleAssigned, RoleRevoked]
