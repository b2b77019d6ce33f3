from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.authz.api.schemas import (
    NO_CONTROL_CHARS,
    CheckRequest,
    CheckResult,
    RoleAssignmentCreate,
    RoleAssignmentRead,
    RoleRead,
)
from services.authz.domain.roles import ROLES
from services.authz.handlers import assign_role, check_access, list_user_assignments, revoke_role
from shared.auth import CurrentPrincipal
from shared.db import DbSession
from shared.errors import problem_responses

router = APIRouter(tags=["authz"])

ReasonParam = Annotated[str | None, Query(max_length=500, pattern=NO_CONTROL_CHARS, description="Why, for the history")]


@router.post("/check", response_model=CheckResult, summary="May a user use a permission in a tenant?",
             description="Checks the caller, or `user_id` (which needs `authz:read` in that tenant), in `tenant_id` "
                         "(default: the caller's tenant). A platform-wide assignment counts in every tenant, a "
                         "company assignment only in its company. Services call this through "
                         "`shared.auth.RemotePermissionChecker`.",
             responses=problem_responses(401, 403, 422))
async def check(body: CheckRequest, session: DbSession, principal: CurrentPrincipal) -> CheckResult:
    allowed, roles = await check_access(session, principal, permission=body.permission, tenant_id=body.tenant_id,
                                        user_id=body.user_id, platform_wide=body.platform_wide)
    return CheckResult(allowed=allowed, roles=roles)


@router.get("/roles", response_model=list[RoleRead], summary="The built-in roles and their permissions",
            responses=problem_responses(401))
async def roles(principal: CurrentPrincipal) -> list[RoleRead]:
    return [RoleRead(name=r.name, description=r.description, scope=r.scope, permissions=sorted(r.permissions))
            for r in ROLES.values()]


@router.get("/users/{user_id}/roles", response_model=list[RoleAssignmentRead], summary="A user's active roles",
            description="Your own roles, or another user's in the tenants where you hold `authz:read`.",
            responses=problem_responses(401, 403, 422))
async def user_roles(user_id: uuid.UUID, session: DbSession, principal: CurrentPrincipal) -> list[RoleAssignmentRead]:
    return [RoleAssignmentRead.model_validate(a) for a in await list_user_assignments(session, principal, user_id)]


@router.post("/users/{user_id}/roles", response_model=RoleAssignmentRead, status_code=201,
             summary="Assign a role to a user",
             description="Needs `authz:manage` in that tenant (platform-wide for `tenant_id` null). Idempotent: if the "
                         "user already holds the role there, the existing assignment is returned with 200. "
                         "A company's user holds roles in their own company only (else 422); platform staff may "
                         "hold `auditor` and `support_agent` in any company. An unknown user or company is 404.",
             responses={**problem_responses(401, 403, 404, 409, 422), 200: {"model": RoleAssignmentRead,
                                                                      "description": "Already assigned"}})
async def post_user_role(user_id: uuid.UUID, body: RoleAssignmentCreate, request: Request, response: Response,
                         session: DbSession, principal: CurrentPrincipal) -> RoleAssignmentRead:
    assignment, created = await assign_role(session, request.app.state.publisher, principal, user_id=user_id,
                                            tenant_id=body.tenant_id, role=body.role.value, reason=body.reason)
    if not created:
        response.status_code = 200
    return RoleAssignmentRead.model_validate(assignment)


@router.delete("/users/{user_id}/roles/{assignment_id}", response_model=RoleAssignmentRead,
               summary="Revoke a role assignment",
               description="Needs `authz:manage` in the assignment's tenant. Idempotent: revoking an assignment "
                           "that is already revoked returns it unchanged (200) and publishes nothing.",
               responses=problem_responses(401, 403, 404, 422))
async def delete_user_role(user_id: uuid.UUID, assignment_id: uuid.UUID, request: Request, session: DbSession,
                           principal: CurrentPrincipal,
                           reason: ReasonParam = None) -> RoleAssignmentRead:
    assignment, _ = await revoke_role(session, request.app.state.publisher, principal, user_id=user_id,
                                      assignment_id=assignment_id, reason=reason)
    return RoleAssignmentRead.model_validate(assignment)
