from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests import pg


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    url, embedded = pg.server_url()
    yield url
    if embedded is not None:
        embedded.cleanup()


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> Iterator[str]:
    name = pg.migrated_template(pg_server)
    yield name
    pg.drop_database(pg_server, name)


@pytest.fixture
def database_url(pg_server: str, pg_template: str) -> Iterator[str]:
    """A fresh, fully migrated database for this test alone."""
    name = f"esop_t_{uuid.uuid4().hex[:12]}"
    url = pg.create_database(pg_server, name, template=pg_template)
    yield url
    pg.drop_database(pg_server, name)


class Platform:
    """The whole platform in-process behind the gateway, as a client sees it."""

    def __init__(self, client: httpx.AsyncClient, message_sink, database_url: str, app):
        self.client = client
        self.message_sink = message_sink
        self.database_url = database_url
        self.app = app


@pytest.fixture
async def platform(database_url: str, tmp_path) -> AsyncIterator[Platform]:
    from esop.embedded import build_platform

    sink = tmp_path / "messages.jsonl"
    app = build_platform(database_url, message_sink=sink, outbox_poll_seconds=0.2)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                     timeout=30) as client:
            yield Platform(client, sink, database_url, app)
