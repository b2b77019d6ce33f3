"""Idempotent consumers: the inbox records each handled event in the effect's transaction.

A handler that keeps failing is retried with backoff, then its event goes to the dead-letter
table with the error, for operators to see; the stream moves on.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events import CloudEvent
from shared.tables import MessagingTables

log = logging.getLogger("esop.inbox")

EventHandler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]


class Consumer:
    def __init__(self, name: str, sessionmaker: async_sessionmaker[AsyncSession], messaging: MessagingTables,
                 handlers: dict[str, EventHandler], *, max_attempts: int = 5, base_delay: float = 0.2):
        self.name = name
        self.sessionmaker = sessionmaker
        self.messaging = messaging
        self.handlers = handlers
        self.max_attempts = max_attempts
        self.base_delay = base_delay

    @property
    def topics(self) -> list[str]:
        return sorted({".".join(t.split(".")[:2]) for t in self.handlers})

    async def __call__(self, event: CloudEvent) -> None:
        handler = self.handlers.get(event.type)
        if handler is None:
            return
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self._handle_once(handler, event)
                return
            except Exception as exc:  # noqa: BLE001
                if attempt == self.max_attempts:
                    if isinstance(exc, (OSError, OperationalError, InterfaceError)):
                        raise  # the database is unreachable, not the event at fault: redeliver later
                    await self._dead_letter(event, exc, attempt)
                    return
                log.warning("consumer %s failed on %s (attempt %d): %r", self.name, event.id, attempt, exc)
                await asyncio.sleep(self.base_delay * 2 ** (attempt - 1))

    async def handle_batch(self, events: list[CloudEvent]) -> None:
        """Handle a batch in one transaction (one commit instead of one per event). If anything in
        it fails, the batch is rolled back and each event is handled on its own, with retries and
        dead-lettering as usual."""
        mine = list({e.id: e for e in reversed(events) if e.type in self.handlers}.values())[::-1]
        if len(mine) <= 1:
            for event in mine:
                await self(event)
            return
        inbox = self.messaging.inbox
        try:
            async with self.sessionmaker() as session, session.begin():
                claimed = set((await session.execute(
                    insert(inbox).values([{"consumer": self.name, "event_id": e.id, "type": e.type,
                                           "event_time": e.time} for e in mine])
                    .on_conflict_do_nothing().returning(inbox.c.event_id))).scalars())
                for event in mine:
                    if event.id in claimed:
                        await self.handlers[event.type](session, event)
        except Exception as exc:  # noqa: BLE001 - isolate the failing event
            log.info("consumer %s: batch of %d failed (%r); handling one by one", self.name, len(mine), exc)
            for event in mine:
                await self(event)

    async def _handle_once(self, handler: EventHandler, event: CloudEvent) -> None:
        inbox = self.messaging.inbox
        async with self.sessionmaker() as session, session.begin():
            claimed = await session.execute(
                insert(inbox).values(consumer=self.name, event_id=event.id, type=event.type, event_time=event.time)
                .on_conflict_do_nothing().returning(inbox.c.event_id))
            if claimed.first() is None:
                return  # already handled: redelivery is harmless
            await handler(session, event)

    async def _dead_letter(self, event: CloudEvent, exc: Exception, attempts: int) -> None:
        log.error("consumer %s gives up on %s (%s): %s", self.name, event.id, event.type, exc)
        # Raises if the database itself is gone: the bus then redelivers later.
        async with self.sessionmaker() as session, session.begin():
            await session.execute(self.messaging.dead_letters.insert().values(
                consumer=self.name, event_id=event.id, type=event.type, envelope=event.envelope(),
                error=f"{type(exc).__name__}: {exc}"[:4000], attempts=attempts))
            # Mark handled so that a redelivery does not dead-letter it twice.
            await session.execute(insert(self.messaging.inbox).values(
                consumer=self.name, event_id=event.id, type=event.type, event_time=event.time)
                .on_conflict_do_nothing())
