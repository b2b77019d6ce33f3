"""Transactional outbox: events are written with the state change and published by a relay.

The relay wakes on LISTEN/NOTIFY and also polls; it claims rows with FOR UPDATE SKIP LOCKED
(so several replicas can run), publishes in order, and retries with exponential backoff.
A broker that is down only makes events wait in the table.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.bus import EventBus
from shared.events import CloudEvent, EventData
from shared.tables import MessagingTables

log = logging.getLogger("esop.outbox")


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


async def add_event(session: AsyncSession, messaging: MessagingTables, event: CloudEvent) -> CloudEvent:
    """Write `event` to the outbox in the caller's transaction; the relay is woken at commit."""
    await session.execute(messaging.outbox.insert().values(
        event_id=event.id, topic=event.topic, type=event.type, subject=event.subject,
        envelope=event.envelope(), created_at=event.time,
    ))
    schema = messaging.outbox.schema
    await session.execute(text("select pg_notify(:ch, '')"), {"ch": notify_channel(schema)})
    return event


class Publisher:
    """What handlers use to publish: knows the service's source name and outbox."""

    def __init__(self, service: str, messaging: MessagingTables):
        self.source = f"/esop/{service}"
        self.messaging = messaging

    async def __call__(self, session: AsyncSession, data: EventData, *, subject: object, tenant_id: object) -> CloudEvent:
        event = data.to_event(source=self.source, subject=subject, tenant_id=tenant_id)  # type: ignore[arg-type]
        return await add_event(session, self.messaging, event)


class OutboxRelay:
    def __init__(self, engine: AsyncEngine, messaging: MessagingTables, bus: EventBus, *,
                 poll_seconds: float = 1.0, batch_size: int = 200, max_backoff: float = 30.0):
        self.engine = engine
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        self.outbox = messaging.outbox
        self.schema = messaging.outbox.schema or "public"
        self.bus = bus
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.max_backoff = max_backoff
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listen_conn = None
        self._stopping = False
        self.published = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.schema}")

    async def stop(self) -> None:
        """Let the relay finish its batch and leave (cancelling mid-query would leak the connection)."""
        self._stopping = True
        self._wake.set()
        if self._task:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
            except (TimeoutError, asyncio.CancelledError, Exception):  # noqa: BLE001
                self._task.cancel()
        await self._unlisten()

    def wake(self) -> None:
        self._wake.set()

    async def _listen(self) -> None:
        if self._listen_conn is not None:
            return
        conn = await self.engine.connect()
        raw = await conn.get_raw_connection()
        await raw.driver_connection.add_listener(notify_channel(self.schema), lambda *_: self._wake.set())
        self._listen_conn = conn

    async def _unlisten(self) -> None:
        if self._listen_conn is not None:
            try:
                await self._listen_conn.close()
            except Exception:  # noqa: BLE001 - shutting down
                pass
            self._listen_conn = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._listen()
                while not self._stopping and await self.relay_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the relay must survive DB outages
                log.warning("outbox relay error: %r", exc)
                await self._unlisten()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    async def relay_once(self) -> int:
        """Publish one batch of due events. Returns how many were published."""
        async with self.sessionmaker() as session, session.begin():
            # One publisher per outbox at a time. SKIP LOCKED alone would let a second replica claim
            # the next batch and publish it while the first is still publishing, so a user's later
            # event could overtake an earlier one. Replicas stand by; the lock ends with the transaction.
            if not (await session.execute(text("select pg_try_advisory_xact_lock(hashtext(:k))"),
                                          {"k": f"esop-outbox-relay-{self.schema}"})).scalar():
                return 0
            rows = (await session.execute(
                select(self.outbox.c.seq, self.outbox.c.envelope, self.outbox.c.attempts, self.outbox.c.next_attempt_at)
                .where(self.outbox.c.published_at.is_(None))
                .order_by(self.outbox.c.seq).limit(self.batch_size)
                .with_for_update(skip_locked=True)
            )).all()
            # Oldest first, and a batch waiting out its backoff holds back the newer ones: order is kept.
            if not rows or rows[0].next_attempt_at > datetime.now(UTC):
                return 0
            events = [CloudEvent.model_validate(r.envelope) for r in rows]
            try:
                await self.bus.publish(events)
            except Exception as exc:  # noqa: BLE001 - recorded on the rows, retried later
                attempts = rows[0].attempts + 1
                delay = min(self.max_backoff, 0.5 * 2 ** min(attempts, 10))
                await session.execute(update(self.outbox).where(self.outbox.c.seq.in_([r.seq for r in rows])).values(
                    attempts=self.outbox.c.attempts + 1, last_error=str(exc)[:2000],
                    next_attempt_at=datetime.now(UTC) + timedelta(seconds=delay)))
                log.warning("publish failed, %d events wait %.1fs: %r", len(rows), delay, exc)
                return 0
            await session.execute(update(self.outbox).where(self.outbox.c.seq.in_([r.seq for r in rows]))
                                  .values(published_at=datetime.now(UTC), last_error=None))
            self.published += len(rows)
            return len(rows)
