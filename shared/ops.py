"""Operator endpoints every service has: event catalogue, consumer lag and dead letters."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from shared.auth import require_permission
from shared.db import DbSession
from shared.errors import problem_responses
from shared.events import catalogue


class ConsumerStats(BaseModel):
    consumer: str
    handled: int
    lag_p50_ms: float | None
    lag_p95_ms: float | None
    lag_max_ms: float | None
    dead_letters: int


class OutboxStats(BaseModel):
    pending: int
    published: int
    oldest_pending_at: datetime | None


class OpsStats(BaseModel):
    service: str
    outbox: OutboxStats
    consumers: list[ConsumerStats]


class DeadLetter(BaseModel):
    id: int
    consumer: str
    event_id: str
    type: str
    error: str
    attempts: int
    failed_at: datetime


def ops_router(service: str) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/events", summary="Catalogue of the event types this service publishes and consumes",
                response_model=dict[str, Any])
    async def events(request: Request) -> dict[str, Any]:
        spec = request.app.state.spec
        return catalogue(service, spec.events, sorted(request.app.state.consumer_handlers))

    @router.get("/ops/stats", response_model=OpsStats, summary="Outbox backlog and consumer lag (event time to handled)",
                responses=problem_responses(401, 403), dependencies=[require_permission("ops:read", tenant_param=None)])
    async def stats(request: Request, session: DbSession,
                    since: Annotated[datetime | None, Query(description="Only events from this time on")] = None
                    ) -> OpsStats:
        m = request.app.state.spec.messaging
        ob = (await session.execute(select(
            func.count().filter(m.outbox.c.published_at.is_(None)),
            func.count().filter(m.outbox.c.published_at.is_not(None)),
            func.min(m.outbox.c.created_at).filter(m.outbox.c.published_at.is_(None))))).one()
        lag_ms = func.extract("epoch", m.inbox.c.handled_at - m.inbox.c.event_time) * 1000
        query = select(m.inbox.c.consumer, func.count(), func.percentile_cont(0.5).within_group(lag_ms),
                       func.percentile_cont(0.95).within_group(lag_ms), func.max(lag_ms)).group_by(m.inbox.c.consumer)
        if since is not None:
            query = query.where(m.inbox.c.event_time >= since)
        rows = (await session.execute(query)).all()
        dead = dict((await session.execute(select(m.dead_letters.c.consumer, func.count())
                                           .group_by(m.dead_letters.c.consumer))).all())
        consumers = [ConsumerStats(consumer=r[0], handled=r[1], lag_p50_ms=r[2], lag_p95_ms=r[3], lag_max_ms=r[4],
                                   dead_letters=dead.get(r[0], 0)) for r in rows]
        return OpsStats(service=service, outbox=OutboxStats(pending=ob[0], published=ob[1], oldest_pending_at=ob[2]),
                        consumers=consumers)

    @router.get("/ops/dead-letters", response_model=list[DeadLetter], summary="Events a consumer gave up on",
                responses=problem_responses(401, 403), dependencies=[require_permission("ops:read", tenant_param=None)])
    async def dead_letters(request: Request, session: DbSession) -> list[DeadLetter]:
        dl = request.app.state.spec.messaging.dead_letters
        rows = (await session.execute(select(dl).order_by(dl.c.id.desc()).limit(200))).mappings().all()
        return [DeadLetter(**r) for r in rows]

    return router
