"""Routes for the other parts of the platform, not for clients (the gateway does not serve /internal/)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from services.identity.persistence.tables import Session
from shared.db import DbSession
from shared.errors import BadRequest

router = APIRouter(tags=["internal"], include_in_schema=False)
MAX_LOOKBACK = timedelta(days=1)


class RevokedSession(BaseModel):
    session_id: str
    revoked_at: datetime


class RevokedSessions(BaseModel):
    sessions: list[RevokedSession]


@router.get("/internal/revoked-sessions", response_model=RevokedSessions,
            summary="Sessions ended since a time (a starting gateway fills its revocation list from this)")
async def revoked_sessions(session: DbSession, since: Annotated[datetime, Query()]) -> RevokedSessions:
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    if datetime.now(UTC) - since > MAX_LOOKBACK:
        raise BadRequest("`since` may be at most one day ago.")
    rows = (await session.execute(select(Session.id, Session.revoked_at).where(Session.revoked_at >= since)
                                  .order_by(Session.revoked_at).limit(100_000))).all()
    return RevokedSessions(sessions=[RevokedSession(session_id=str(r.id), revoked_at=r.revoked_at) for r in rows])
