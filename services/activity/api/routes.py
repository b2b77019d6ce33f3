from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from services.activity.api.schemas import LoginRecordRead, LoginSummaryRead
from services.activity.domain.logins import (DEFAULT_SUMMARY_DAYS, MAX_SUMMARY_DAYS, InvalidWindow, LoginKind, check_window)
from services.activity.handlers import summarize_logins
from services.activity.persistence.repository import list_login_records, tenant_is_known
from shared.auth import CurrentPrincipal, require_permission
from shared.db import DbSession
from shared.errors import BadRequest, NotFound, problem_responses
from shared.pagination import CursorParam, Limit, Page, decode_cursor, page_of

router = APIRouter(tags=["logins"])

SuccessFilter = Annotated[bool | None, Query(description="Only successful (true) or failed (false) records")]
KindFilter = Annotated[LoginKind | None, Query(description="Only logins or only logouts")]


@router.get("/me/logins", response_model=Page[LoginRecordRead], summary="List my login records, newest first",
            description="Logins, failed logins and logouts of the calling user.",
            responses=problem_responses(400, 401, 422))
async def my_logins(session: DbSession, principal: CurrentPrincipal, success: SuccessFilter = None,
                    kind: KindFilter = None, limit: Limit = 50, cursor: CursorParam = None) -> Page[LoginRecordRead]:
    rows = await list_login_records(session, user_id=principal.user_id, success=success, kind=kind,
                                    limit=limit + 1, after=decode_cursor(cursor))
    return page_of(LoginRecordRead, rows, limit, "at")


async def _known(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    if not await tenant_is_known(session, tenant_id):
        raise NotFound("No such company.")


@router.get("/tenants/{tenant_id}/logins", response_model=Page[LoginRecordRead],
            summary="List a company's login records, newest first",
            description="Needs `activity:read` in the company. `since` is inclusive, `until` exclusive; "
                        "datetimes without a time zone are taken as UTC.",
            responses=problem_responses(400, 401, 403, 404, 422), dependencies=[require_permission("activity:read")])
async def tenant_logins(tenant_id: uuid.UUID, session: DbSession,
                        user_id: Annotated[uuid.UUID | None, Query(description="Only this user's records")] = None,
                        success: SuccessFilter = None, kind: KindFilter = None,
                        since: Annotated[datetime | None, Query(description="Records at or after this time")] = None,
                        until: Annotated[datetime | None, Query(description="Records before this time")] = None,
                        limit: Limit = 50, cursor: CursorParam = None) -> Page[LoginRecordRead]:
    try:
        since, until = check_window(since, until)
    except InvalidWindow as exc:
        raise BadRequest(str(exc)) from exc
    await _known(session, tenant_id)
    rows = await list_login_records(session, tenant_id=tenant_id, user_id=user_id, success=success, kind=kind,
                                    since=since, until=until, limit=limit + 1, after=decode_cursor(cursor))
    return page_of(LoginRecordRead, rows, limit, "at")


@router.get("/tenants/{tenant_id}/logins/summary", response_model=LoginSummaryRead,
            summary="Count a company's logins per day",
            description="Successful and failed logins and distinct users, per UTC day for the last `days` days "
                        "(today included). Needs `activity:read` in the company.",
            responses=problem_responses(401, 403, 404, 422), dependencies=[require_permission("activity:read")])
async def tenant_login_summary(tenant_id: uuid.UUID, session: DbSession,
                               days: Annotated[int, Query(ge=1, le=MAX_SUMMARY_DAYS,
                                                          description="How many days back, today included")]
                               = DEFAULT_SUMMARY_DAYS) -> LoginSummaryRead:
    await _known(session, tenant_id)
    summary = await summarize_logins(session, tenant_id, days=days, now=datetime.now(UTC))
    return LoginSummaryRead.model_validate(summary)
