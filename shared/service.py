"""The one app factory shape every service uses: routers, errors, health, messaging, lifespan."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from sqlalchemy.orm import DeclarativeBase

from shared.auth import PermissionChecker, RemotePermissionChecker
from shared.bus import EventBus, InProcessBus
from shared.db import make_engine, make_sessionmaker
from shared.docs import install_docs
from shared.errors import install_error_handlers
from shared.events import EventData
from shared.http import ServiceClient
from shared.inbox import Consumer, EventHandler
from shared.limits import BodyLimit
from shared.logs import configure_logging
from shared.observability import health_router, install_observability
from shared.openapi import install_openapi_finish
from shared.ops import ops_router
from shared.outbox import OutboxRelay, Publisher
from shared.settings import BaseServiceSettings
from shared.tables import MessagingTables
from shared.tokens import TokenVerifier

Hook = Callable[[FastAPI], Awaitable[None]]


@dataclass
class ServiceSpec:
    name: str
    title: str
    description: str
    base: type[DeclarativeBase]
    messaging: MessagingTables
    routers: list[APIRouter]
    events: list[type[EventData]] = field(default_factory=list)
    consumers: dict[str, EventHandler] = field(default_factory=dict)
    # For handlers that need what on_startup built (app.state): called once the app has started.
    consumer_factory: Callable[[FastAPI], dict[str, EventHandler]] | None = None
    on_startup: Hook | None = None
    tags: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Runtime:
    """What the hosting process provides. Defaults suit one service in its own process."""

    bus: EventBus | None = None
    peer_transport: Callable[[str], httpx.AsyncBaseTransport | None] = lambda _name: None
    run_relay: bool = True


def _make_bus(settings: BaseServiceSettings, name: str) -> EventBus:
    if settings.kafka_bootstrap_servers:
        from shared.kafka_bus import KafkaBus

        return KafkaBus(settings.kafka_bootstrap_servers, client_id=f"esop-{name}",
                        max_poll_interval_ms=settings.kafka_max_poll_interval_ms, topics=[f"esop.{name}"])
    return InProcessBus()


def create_service_app(spec: ServiceSpec, settings: BaseServiceSettings, runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or Runtime()
    configure_logging(settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, spec.name, settings.db_pool_size)
        owns_bus = runtime.bus is None
        bus = runtime.bus or _make_bus(settings, spec.name)
        identity = ServiceClient(settings.identity_url, transport=runtime.peer_transport("identity"))
        authz = ServiceClient(settings.authz_url, transport=runtime.peer_transport("authz"))

        async def fetch_jwks() -> dict[str, Any]:
            resp = await identity.get("/.well-known/jwks.json")
            resp.raise_for_status()
            return resp.json()

        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.bus = bus
        app.state.publisher = Publisher(spec.name, spec.messaging)
        app.state.verifier = TokenVerifier(fetch_jwks, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
        app.state.permissions: PermissionChecker = RemotePermissionChecker(authz)
        app.state.peers = {"identity": identity, "authz": authz}
        if spec.on_startup:
            await spec.on_startup(app)
        handlers = spec.consumer_factory(app) if spec.consumer_factory else spec.consumers
        app.state.consumer_handlers = handlers
        if handlers:
            consumer = Consumer(spec.name, app.state.sessionmaker, spec.messaging, handlers,
                                max_attempts=settings.consumer_max_attempts)
            bus.subscribe(f"esop-{spec.name}", consumer.topics, consumer)
        relay = OutboxRelay(engine, spec.messaging, bus, poll_seconds=settings.outbox_poll_seconds)
        app.state.relay = relay
        if owns_bus:
            await bus.start()
        if runtime.run_relay:
            await relay.start()
        try:
            yield
        finally:
            await relay.stop()
            if owns_bus:
                await bus.stop()
            await identity.aclose()
            await authz.aclose()
            await engine.dispose()

    app = FastAPI(title=spec.title, description=spec.description, version="1.0.0", lifespan=lifespan,
                  openapi_tags=spec.tags or None, docs_url=None, redoc_url=None, redirect_slashes=False,
                  generate_unique_id_function=lambda route: route.name)  # operationIds: the route functions' names
    install_docs(app, spec.title)
    app.state.spec = spec
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes)
    install_observability(app, spec.name)
    for router in spec.routers:
        app.include_router(router)
    app.include_router(health_router(spec.name))
    app.include_router(ops_router(spec.name))
    install_openapi_finish(app)
    return app
