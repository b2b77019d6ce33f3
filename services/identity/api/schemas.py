from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from shared.text import SafeText

class AdminContact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: SafeText = Field(min_length=1, max_length=100)
    email: EmailStr
    mobile: SafeText = Field(min_length=5, max_length=32, description="Mobile number; mainland numbers need no +86")


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: SafeText = Field(min_length=1, max_length=200, description="The company's name, unique on the platform")
    admin: AdminContact = Field(description="The company's first administrator; they are sent an invitation")


class TenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created_at: datetime


class TenantCreated(TenantRead):
    admin_user_id: uuid.UUID


class RosterImportResult(BaseModel):
    rows: int = Field(description="Employee rows in the file")
    invited: int = Field(description="New employees invited by this import")
    unchanged: int = Field(description="Rows already on the platform with the same details")
    invited_user_ids: list[uuid.UUID]


INVITATION_CODE = Field(min_length=4, max_length=32, pattern=r"^[A-Za-z0-9]+$",
                        description="The code from the invitation message")


class RegistrationStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invitation_code: str = INVITATION_CODE
    channel: Literal["mobile", "email"] = Field(description="Where to send the one-time code")


class RegistrationCodeSent(BaseModel):
    channel: str
    destination: str = Field(description="Masked mobile or email the code went to")
    expires_in: int = Field(description="Seconds the code stays valid")


class RegistrationComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invitation_code: str = INVITATION_CODE
    verification_code: str = Field(min_length=4, max_length=10, pattern=r"^[0-9]+$")
    password: str = Field(min_length=1, max_length=256)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    tenant_id: uuid.UUID | None
    name: str
    email: str | None
    mobile: str | None
    employee_no: str | None
    department: str | None
    hire_date: date | None
    status: str
    is_platform_admin: bool
    registered_at: datetime | None


class Me(UserRead):
    roles: list[str]
    session_id: str | None


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: SafeText = Field(min_length=3, max_length=254, description="Email or mobile number")
    password: str = Field(min_length=1, max_length=256)
    tenant_id: uuid.UUID | None = Field(default=None, description="Needed only if the login and password open "
                                                                  "accounts in several companies: the company to log in to")
    platform: bool = Field(default=False, description="Log in to the platform staff account (which belongs to no "
                                                      "company) when the same login and password also open a "
                                                      "company account")

    @model_validator(mode="after")
    def _one_account(self) -> "LoginRequest":
        if self.platform and self.tenant_id:
            raise ValueError("give tenant_id or platform, not both")
        return self


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=10, max_length=200)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
