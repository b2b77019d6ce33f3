from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.lifecycle.domain.stages import Stage


class StageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    stage: Stage
    since: datetime = Field(description="When the user entered this stage")
    updated_at: datetime


class StageChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    from_stage: Stage | None = Field(description="Null when the user was first seen at `to_stage`")
    to_stage: Stage
    at: datetime
    cause_event_id: str
    cause_event_type: str


class StageCountsRead(BaseModel):
    tenant_id: uuid.UUID
    total: int
    counts: dict[Stage, int] = Field(description="Users of the company in each stage; every stage is listed")
