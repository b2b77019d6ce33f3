from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from services.feedback.api.schemas import FeedbackCreate, FeedbackRead
from services.feedback.handlers import submit_feedback
from services.feedback.persistence.repository import list_tickets_of_user
from shared.auth import CurrentPrincipal, require_permission
from shared.db import DbSession
from shared.errors import problem_responses
from shared.pagination import CursorParam, Limit, Page, decode_cursor, page_of

router = APIRouter(tags=["feedback"])


@router.post("/feedback", response_model=FeedbackRead, status_code=201, summary="Submit feedback",
             description="Submit a suggestion, complaint or question. Send an `Idempotency-Key` to make retries safe: "
                         "a retry returns the ticket created by the first call (200).",
             responses={200: {"model": FeedbackRead, "description": "A retry with the same Idempotency-Key: the "
                                                                     "ticket the first call created"},
                        **problem_responses(401, 403, 409, 422)},
             dependencies=[require_permission("feedback:submit", tenant_param=None)])
async def post_feedback(body: FeedbackCreate, request: Request, response: Response, session: DbSession,
                        principal: CurrentPrincipal,
                        idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None) -> FeedbackRead:
    ticket, created = await submit_feedback(session, request.app.state.publisher, principal, type=body.type,
                                            subject=body.subject, text=body.text, idempotency_key=idempotency_key)
    if not created:
        response.status_code = 200
    return FeedbackRead.model_validate(ticket)


@router.get("/feedback/mine", response_model=Page[FeedbackRead], summary="List my feedback, newest first",
            responses=problem_responses(400, 401, 422))
async def my_feedback(session: DbSession, principal: CurrentPrincipal, limit: Limit = 50,
                      cursor: CursorParam = None) -> Page[FeedbackRead]:
    rows = await list_tickets_of_user(session, principal.user_id, limit + 1, decode_cursor(cursor))
    return page_of(FeedbackRead, rows, limit, "created_at")
