from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.lifecycle.consumers import build_consumers
from services.lifecycle.persistence.tables import messaging
from shared.db import make_engine, make_sessionmaker
from shared.inbox import Consumer
from shared.outbox import Publisher


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh, migrated database, searching the lifecycle schema."""
    engine = make_engine(database_url, "lifecycle")
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def consume(sessions: async_sessionmaker[AsyncSession]) -> Consumer:
    """The lifecycle consumer as the bus calls it (inbox included), failing fast."""
    return Consumer("lifecycle", sessions, messaging, build_consumers(Publisher("lifecycle", messaging)),
                    max_attempts=1, base_delay=0)
