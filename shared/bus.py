"""The event bus: an interface with an in-process and a Kafka implementation."""
from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Awaitable, Callable

from shared.events import CloudEvent

log = logging.getLogger("esop.bus")

Handler = Callable[[CloudEvent], Awaitable[None]]


async def deliver_batch(handler: Handler, events: list[CloudEvent]) -> None:
    """Hand `events` (in order) to a handler, as one batch if it can take one (see Consumer)."""
    batch = getattr(handler, "handle_batch", None)
    if batch is not None:
        await batch(events)
        return
    for event in events:
        await handler(event)


class EventBus(abc.ABC):
    @abc.abstractmethod
    async def publish(self, events: list[CloudEvent]) -> None:
        """Deliver `events` durably (or raise): on return the bus owns them."""

    @abc.abstractmethod
    def subscribe(self, group: str, topics: list[str], handler: Handler) -> None:
        """Call `handler` for every event on `topics`, once per consumer group (at least once)."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        pass

    async def stop(self) -> None:  # noqa: B027 - optional hook
        pass

    async def ready(self) -> bool:
        return True


class InProcessBus(EventBus):
    """For the embedded topology: publish returns once every subscriber has handled the event.

    Subscribers record events in their inbox in their own transaction, so a crash between
    delivery and the relay marking the row published only causes a harmless redelivery.
    """

    def __init__(self) -> None:
        self._subs: list[tuple[str, set[str], Handler]] = []

    def subscribe(self, group: str, topics: list[str], handler: Handler) -> None:
        self._subs.append((group, set(topics), handler))

    async def publish(self, events: list[CloudEvent]) -> None:
        """Each subscriber gets the batch in order; subscribers run side by side."""

        async def deliver(topics: set[str], handler: Handler) -> None:
            batch = [e for e in events if e.topic in topics]
            await deliver_batch(handler, batch)

        await asyncio.gather(*(deliver(topics, handler) for _group, topics, handler in self._subs))
