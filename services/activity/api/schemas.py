from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.activity.domain.logins import LoginKind


class LoginRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID | None = Field(description="Null for a failed login that named no known account")
    tenant_id: uuid.UUID | None
    at: datetime
    ip: str | None
    user_agent: str | None
    success: bool
    reason: str | None = Field(description="Why a login failed, as identity said: bad_credentials, locked, "
                                           "ambiguous, or a reason added later")
    session_id: uuid.UUID | None
    kind: LoginKind


class LoginDayRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date = Field(description="A UTC calendar day")
    successes: int
    failures: int
    distinct_users: int = Field(description="Users with at least one successful login that day")


class LoginSummaryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tenant_id: uuid.UUID
    days: int
    since: datetime = Field(description="Start (UTC midnight) of the first day counted")
    successes: int
    failures: int
    distinct_users: int = Field(description="Users with at least one successful login in the period")
    per_day: list[LoginDayRead] = Field(description="Every day of the period, oldest first")
