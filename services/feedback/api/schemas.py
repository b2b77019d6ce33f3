from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.feedback.domain.tickets import MAX_TEXT, TicketStatus, TicketType
from shared.text import SafeMultilineText, SafeText


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: TicketType
    subject: SafeText | None = Field(default=None, max_length=200, description="Optional; an empty one is none")
    text: SafeMultilineText = Field(min_length=1, max_length=MAX_TEXT)

    @field_validator("subject")
    @classmethod
    def _empty_is_none(cls, v: str | None) -> str | None:
        return v or None


class FeedbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    type: TicketType
    subject: str | None
    text: str
    status: TicketStatus
    created_at: datetime
