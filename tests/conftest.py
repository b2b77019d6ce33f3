from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests import pg
from tests.kafka_broker import TansuBroker, free_port
from tests.kafka_proxy import TcpProxy


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


# -- a real Kafka-protocol broker (Tansu, memory only) ------------------------------------------

@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[str]:
    """A Tansu broker for the whole session; yields its bootstrap address "127.0.0.1:PORT"."""
    broker = TansuBroker().start()
    try:
        broker.wait_ready()
        yield broker.address
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def _proxied_kafka() -> Iterator[TcpProxy]:
    """A second broker that advertises a TcpProxy's port, so every client connection goes through the proxy."""
    broker_port = free_port()
    proxy = TcpProxy(("127.0.0.1", broker_port)).start()
    broker = TansuBroker(port=broker_port, advertised_port=proxy.port).start()
    try:
        broker.wait_ready(proxy.address)
        yield proxy
    finally:
        proxy.close()
        broker.stop()


@pytest.fixture
def kafka_proxy(_proxied_kafka: TcpProxy) -> Iterator[TcpProxy]:
    """The proxy in front of the proxied broker: bootstrap at `kafka_proxy.address`. Restored after each test."""
    _proxied_kafka.restore()
    yield _proxied_kafka
    _proxied_kafka.restore()
