from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from services.lifecycle.api.schemas import StageChangeRead, StageCountsRead, StageRead
from services.lifecycle.handlers import count_tenant_stages, get_readable_stage, get_stage
from services.lifecycle.persistence.repository import list_stage_history
from shared.auth import CurrentPrincipal, require_permission
from shared.db import DbSession
from shared.errors import NotFound, problem_responses
from shared.pagination import CursorParam, Limit, Page, decode_cursor, page_of

router = APIRouter(tags=["lifecycle"])


@router.get("/me/stage", response_model=StageRead, summary="Get my lifecycle stage",
            responses=problem_responses(401, 404))
async def my_stage(session: DbSession, principal: CurrentPrincipal) -> StageRead:
    return StageRead.model_validate(await get_stage(session, principal.user_id))


@router.get("/users/{user_id}/stage", response_model=StageRead, summary="Get a user's lifecycle stage",
            description="For the user themself, or a holder of `lifecycle:read` in the user's company.",
            responses=problem_responses(401, 403, 404, 422))
async def user_stage(user_id: uuid.UUID, request: Request, session: DbSession,
                     principal: CurrentPrincipal) -> StageRead:
    record = await get_readable_stage(session, request.app.state.permissions, principal, user_id)
    return StageRead.model_validate(record)


@router.get("/users/{user_id}/history", response_model=Page[StageChangeRead],
            summary="List a user's stage changes, oldest first",
            description="For the user themself, or a holder of `lifecycle:read` in the user's company.",
            responses=problem_responses(400, 401, 403, 404, 422))
async def user_history(user_id: uuid.UUID, request: Request, session: DbSession, principal: CurrentPrincipal,
                       limit: Limit = 50, cursor: CursorParam = None) -> Page[StageChangeRead]:
    await get_readable_stage(session, request.app.state.permissions, principal, user_id)
    rows = await list_stage_history(session, user_id, limit + 1, decode_cursor(cursor))
    return page_of(StageChangeRead, rows, limit, "at")


@router.get("/tenants/{tenant_id}/stages", response_model=StageCountsRead,
            summary="Count a company's users in each stage",
            description="Needs `lifecycle:read` in the company. A company is known here from its first invited "
                        "person (its administrator, invited when it is created); before that it is 404.",
            responses=problem_responses(401, 403, 404, 422), dependencies=[require_permission("lifecycle:read")])
async def tenant_stages(tenant_id: uuid.UUID, session: DbSession) -> StageCountsRead:
    counts = await count_tenant_stages(session, tenant_id)
    if not any(counts.values()):
        raise NotFound("No such company here (lifecycle knows a company once its first person is invited).")
    return StageCountsRead(tenant_id=tenant_id, total=sum(counts.values()), counts=counts)
