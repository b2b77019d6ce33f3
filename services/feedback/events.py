"""Events the feedback service publishes (topic esop.feedback)."""
from __future__ import annotations

import uuid

from pydantic import Field

from shared.events import EventData


class FeedbackSubmitted(EventData):
    """A user submitted feedback: a suggestion, complaint or question."""

    event_type = "esop.feedback.ticket.submitted"
    version = 1

    ticket_id: uuid.UUID
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    type: str = Field(description="`suggestion`, `complaint` or `question`; more types will come (rights disputes, "
                                  "support questions): accept any.", examples=["complaint"])
    subject: str | None


PUBLISHED = [FeedbackSubmitted]
