from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.json_schema import SkipJsonSchema

from services.profile.domain.profiles import (
    LOCALES,
    MAX_BIO,
    MAX_PREFERRED_NAME,
    clean_bio,
    clean_preferred_name,
    clean_timezone,
)


class ProfileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    preferred_name: str | None
    email: str | None
    mobile: str | None
    employee_no: str | None
    department: str | None
    hire_date: date | None
    locale: str
    timezone: str
    bio: str | None
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Also sent as the weak ETag W/\"<version>\"; send it back in If-Match")


def _hr_field() -> Any:
    return Field(default=None, exclude=True)


class ProfileUpdate(BaseModel):
    """A merge-patch of the fields you may change yourself: only the fields present change, and null
    clears a field (locale and timezone go back to zh-CN and Asia/Shanghai); text is trimmed, and
    text that shows nothing (only spaces or zero-width characters) is refused. Name, contact and
    employment data are kept by your company's HR records and cannot be sent here."""

    model_config = ConfigDict(extra="forbid")

    # Text is trimmed before its length is checked (by the domain rule): the limits are published here.
    preferred_name: str | None = Field(default=None, json_schema_extra={"maxLength": MAX_PREFERRED_NAME},
                                       examples=["小王"],
                                       description="Null clears it; text that shows nothing is refused")
    locale: Literal[LOCALES] | None = None  # type: ignore[valid-type]
    timezone: str | None = Field(default=None, max_length=64, description="An IANA time zone",
                                 examples=["Asia/Shanghai"])
    bio: str | None = Field(default=None, json_schema_extra={"maxLength": MAX_BIO},
                            description="Line breaks and tabs allowed; null clears it")

    # HR-owned fields: accepted by the parser only to be refused with a clear, per-field error.
    name: SkipJsonSchema[Any] = _hr_field()
    email: SkipJsonSchema[Any] = _hr_field()
    mobile: SkipJsonSchema[Any] = _hr_field()
    employee_no: SkipJsonSchema[Any] = _hr_field()
    department: SkipJsonSchema[Any] = _hr_field()
    hire_date: SkipJsonSchema[Any] = _hr_field()

    @field_validator("name", "email", "mobile", "employee_no", "department", "hire_date", mode="before")
    @classmethod
    def _hr_owned(cls, value: Any, info: ValidationInfo) -> Any:
        raise ValueError(f"{info.field_name} is kept by your company's HR records and cannot be changed here")

    @field_validator("preferred_name")
    @classmethod
    def _preferred_name(cls, value: str | None) -> str | None:
        return clean_preferred_name(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else clean_timezone(value)

    @field_validator("bio")
    @classmethod
    def _bio(cls, value: str | None) -> str | None:
        return clean_bio(value)

    def patch(self) -> dict[str, Any]:
        """The fields the client sent, with their (cleaned) values."""
        return {field: getattr(self, field) for field in self.model_fields_set}


class ProfileChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    field: str
    old_value: str | None
    new_value: str | None
    changed_at: datetime
    changed_by: uuid.UUID | None = Field(description="Who changed it; null when it came from an event")
    source: Literal["self", "event"]
