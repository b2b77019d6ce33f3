"""The API gateway: one origin for clients.

/api/v1/<service>/... goes to each service: mounted in-process (embedded topology) or forwarded
over HTTP with aiohttp (distributed). Bearer tokens are verified before anything is forwarded.
Also serves the merged OpenAPI (/openapi.json, /docs) and /health for every service."""
from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.types import ASGIApp

from services.gateway.auth import VerifyTokenMiddleware
from services.gateway.openapi import merge_openapi
from services.gateway.proxy import Forwarder
from services.gateway.revocations import RevokedSessions
from services.gateway.settings import GatewaySettings
from shared.bus import EventBus
from shared.docs import install_docs
from shared.errors import install_error_handlers, problem_response
from shared.limits import BodyLimit
from shared.logs import configure_logging
from shared.observability import install_observability
from shared.openapi import finish_openapi
from shared.tokens import TokenVerifier

SERVICES = ["identity", "authz", "profile", "activity", "feedback", "lifecycle"]
DESCRIPTION = """User-management API of the ESOP platform (员工持股平台).

Every service is reached under `/api/v1/<service>`. Authenticate with `POST /api/v1/identity/token`
and send `Authorization: Bearer <access_token>`. Errors are RFC 9457 `application/problem+json`.
The events each service publishes are listed at `/api/v1/<service>/events`."""


def _own_bus(settings: GatewaySettings) -> EventBus | None:
    if not settings.kafka_bootstrap_servers:
        return None
    from shared.kafka_bus import KafkaBus

    return KafkaBus(settings.kafka_bootstrap_servers, client_id="esop-gateway",
                    max_poll_interval_ms=settings.kafka_max_poll_interval_ms, topics=["esop.identity"])


class ServiceHealth(BaseModel):
    status: str
    checks: dict[str, str] = {}


class PlatformHealth(BaseModel):
    status: str
    services: dict[str, ServiceHealth]


def create_app(settings: GatewaySettings | None = None, mounts: dict[str, ASGIApp] | None = None,
               bus: EventBus | None = None) -> FastAPI:
    """`mounts`: the service apps to serve in-process (and `bus`, their in-process bus); without
    them, requests are forwarded and events come from Kafka (if configured)."""
    settings = settings or GatewaySettings()
    configure_logging(settings.log_level)
    state: dict[str, Any] = {}
    revoked = RevokedSessions(keep_seconds=settings.revocation_keep_seconds)

    def transport(name: str) -> httpx.AsyncBaseTransport | None:
        return httpx.ASGITransport(app=mounts[name]) if mounts else None

    def base_url(name: str) -> str:
        return f"http://{name}" if mounts else settings.upstream(name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        clients = {n: httpx.AsyncClient(base_url=base_url(n), transport=transport(n), timeout=5.0) for n in SERVICES}
        state["clients"] = clients

        async def fetch_jwks() -> dict[str, Any]:
            resp = await clients["identity"].get("/.well-known/jwks.json")
            resp.raise_for_status()
            return resp.json()

        state["verifier"] = TokenVerifier(fetch_jwks, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
        async with contextlib.AsyncExitStack() as stack:
            events = bus or _own_bus(settings)
            if events is not None:
                # Every replica needs every revocation: a consumer group of its own.
                events.subscribe(f"esop-gateway-{uuid.uuid4().hex[:12]}", ["esop.identity"], revoked.on_event)
                if bus is None:
                    await events.start()
                    stack.push_async_callback(events.stop)
            if mounts:
                for sub in mounts.values():
                    await stack.enter_async_context(sub.router.lifespan_context(sub))
            else:
                connector = aiohttp.TCPConnector(limit=settings.max_connections, limit_per_host=settings.max_connections,
                                                 ttl_dns_cache=300)
                session = aiohttp.ClientSession(connector=connector, auto_decompress=False,
                                                timeout=aiohttp.ClientTimeout(total=settings.upstream_timeout_seconds))
                stack.push_async_callback(session.close)
                state["session"] = session
            for c in clients.values():
                stack.push_async_callback(c.aclose)
            loader = asyncio.create_task(revoked.load_from(clients["identity"]))
            stack.callback(loader.cancel)
            yield

    app = FastAPI(title="ESOP platform API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  openapi_url=None, docs_url=None, redoc_url=None, redirect_slashes=False)
    app.state.settings = settings
    install_error_handlers(app)
    install_docs(app, "ESOP platform API")

    for name in SERVICES:
        target = mounts[name] if mounts else Forwarder(settings.upstream(name), lambda: state["session"])
        app.mount(f"/api/v1/{name}", target)

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes)
    app.add_middleware(VerifyTokenMiddleware, verifier_provider=lambda: state["verifier"], revoked=revoked)
    install_observability(app, "gateway")

    async def service_docs() -> dict[str, dict[str, Any]]:
        if mounts:
            return {n: mounts[n].openapi() for n in SERVICES}  # type: ignore[attr-defined]
        responses = await asyncio.gather(*(state["clients"][n].get("/openapi.json") for n in SERVICES))
        return {n: r.raise_for_status().json() for n, r in zip(SERVICES, responses, strict=True)}

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        if "openapi" not in state:
            try:
                docs = await service_docs()
            except httpx.HTTPError:
                return problem_response(request, 503, detail="A service is not reachable; the API description "
                                                             "cannot be put together. Retry later.")
            merged = merge_openapi(docs, title=app.title, version=app.version, description=DESCRIPTION)
            own = app.openapi()  # the gateway's own documented paths (/health)
            merged["paths"].update(own["paths"])
            for name, schema in own.get("components", {}).get("schemas", {}).items():
                merged["components"]["schemas"].setdefault(name, schema)
            state["openapi"] = finish_openapi(merged)
        return JSONResponse(state["openapi"])

    @app.get("/health", response_model=PlatformHealth, summary="Readiness of every service", tags=["platform"],
             operation_id="platform_health",
             responses={503: {"model": PlatformHealth, "description": "A service is not ready (see which)"}})
    async def health(request: Request) -> JSONResponse:
        async def one(name: str) -> tuple[str, ServiceHealth]:
            try:
                resp = await state["clients"][name].get("/readyz")
                body = resp.json()
                return name, ServiceHealth(status=body.get("status", "unknown"), checks=body.get("checks", {}))
            except Exception as exc:  # noqa: BLE001
                return name, ServiceHealth(status="unreachable", checks={"http": type(exc).__name__})

        results = dict(await asyncio.gather(*(one(n) for n in SERVICES)))
        ok = all(h.status == "ok" for h in results.values())
        body = PlatformHealth(status="ok" if ok else "degraded", services=results)
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "gateway"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Ready when identity's keys can be fetched: without them no token can be verified."""
        try:
            (await state["clients"]["identity"].get("/.well-known/jwks.json")).raise_for_status()
        except httpx.HTTPError as exc:
            return JSONResponse({"status": "unavailable", "service": "gateway", "checks": {"identity": str(exc)}},
                                status_code=503)
        return JSONResponse({"status": "ok", "service": "gateway", "checks": {"identity": "ok"}})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(app.state.metrics), media_type=CONTENT_TYPE_LATEST)

    return app
