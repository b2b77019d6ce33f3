from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from services.profile.api.schemas import ProfileChangeRead, ProfileRead, ProfileUpdate
from services.profile.domain.etags import etag
from services.profile.handlers import get_my_profile, read_user_profile, update_my_profile
from services.profile.persistence.repository import list_changes
from shared.auth import CurrentPrincipal, require_permission
from shared.db import DbSession
from shared.errors import problem_responses
from shared.pagination import CursorParam, Limit, Page, decode_cursor, page_of

router = APIRouter(tags=["profile"])

ETAG_HEADER = {"ETag": {"description": "W/\"<version>\": send it as If-Match when you change the profile",
                        "schema": {"type": "string"}}}


@router.get("/me", response_model=ProfileRead, summary="My profile",
            description="404 until the registration has been processed (a moment after registering).",
            responses={**problem_responses(401, 404), 200: {"headers": ETAG_HEADER, "description": "Your profile"}})
async def get_me(response: Response, session: DbSession, principal: CurrentPrincipal) -> ProfileRead:
    profile = await get_my_profile(session, principal)
    response.headers["ETag"] = etag(profile.version)
    return ProfileRead.model_validate(profile)


@router.patch("/me", response_model=ProfileRead, summary="Change my preferences",
              description="A merge-patch of `preferred_name`, `locale`, `timezone` and `bio`. Other fields, including "
                          "the HR-owned ones (name, email, mobile, employee_no, department, hire_date), are refused "
                          "with 422. Send `If-Match` with the ETag you read to avoid overwriting a newer change "
                          "(412 if stale).",
              responses={**problem_responses(401, 404, 412, 422),
                         200: {"headers": ETAG_HEADER, "description": "The profile after the change"}})
async def patch_me(body: ProfileUpdate, request: Request, response: Response, session: DbSession,
                   principal: CurrentPrincipal,
                   if_match: Annotated[str | None, Header(max_length=200)] = None) -> ProfileRead:
    profile = await update_my_profile(session, request.app.state.publisher, principal, body.patch(),
                                      if_match=if_match)
    response.headers["ETag"] = etag(profile.version)
    return ProfileRead.model_validate(profile)


@router.get("/me/changes", response_model=Page[ProfileChangeRead], summary="History of changes to my profile",
            description="Newest first, including the data your profile was created with (source `event`).",
            responses=problem_responses(400, 401, 422))
async def my_changes(session: DbSession, principal: CurrentPrincipal, limit: Limit = 50,
                     cursor: CursorParam = None) -> Page[ProfileChangeRead]:
    rows = await list_changes(session, principal.user_id, limit + 1, decode_cursor(cursor))
    return page_of(ProfileChangeRead, rows, limit, "changed_at")


@router.get("/users/{user_id}", response_model=ProfileRead, summary="A user's profile",
            description="Needs `users:read` in the user's company (asked of authz: 503 if it cannot answer).",
            responses={**problem_responses(401, 403, 404, 422, 503),
                       200: {"headers": ETAG_HEADER, "description": "The user's profile"}},
            dependencies=[require_permission("users:read", tenant_param=None)])
async def get_user(user_id: uuid.UUID, request: Request, response: Response, session: DbSession,
                   principal: CurrentPrincipal) -> ProfileRead:
    profile = await read_user_profile(session, request.app.state.permissions, principal, user_id)
    response.headers["ETag"] = etag(profile.version)
    return ProfileRead.model_validate(profile)


