from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.authz.domain.roles import RoleName, Scope

NO_CONTROL_CHARS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
REASON = Field(default=None, max_length=500, pattern=NO_CONTROL_CHARS, description="Why, for the assignment history")


class CheckRequest(BaseModel):
    """The question shared.auth.RemotePermissionChecker asks: keep this shape."""

    model_config = ConfigDict(extra="forbid")

    permission: str = Field(min_length=1, max_length=100, examples=["users:invite"])
    tenant_id: uuid.UUID | None = Field(default=None, description="Where; null or absent: the caller's tenant")
    user_id: uuid.UUID | None = Field(default=None, description="Whom; null or absent: the caller. Asking about "
                                                                "someone else needs authz:read in that tenant")
    platform_wide: bool = Field(default=False, description="Only platform-wide assignments count (for things "
                                                           "that belong to no company); `tenant_id` is ignored")


class CheckResult(BaseModel):
    allowed: bool
    roles: list[str] = Field(description="The roles that count for the user in that tenant")


class RoleRead(BaseModel):
    name: RoleName
    description: str
    scope: Scope = Field(description="global: platform-wide only; tenant: within a company only; any: either")
    permissions: list[str]


class RoleAssignmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: RoleName
    tenant_id: uuid.UUID | None = Field(description="The company; null for a platform-wide assignment (required, "
                                                    "so that a forgotten tenant never grants a role everywhere)")
    reason: str | None = REASON


class RoleAssignmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    role: str
    granted_at: datetime
    granted_by: uuid.UUID | None
    revoked_at: datetime | None
    reason: str | None
