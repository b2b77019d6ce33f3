"""Request ids, JSON access logs, Prometheus metrics and health endpoints for every service."""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import ping
from shared.logs import request_id_var, service_var

access_log = logging.getLogger("esop.access")
READY_TIMEOUT = 2.0  # seconds a readiness check may take: a stalled dependency is "not ready", not a hang


class RequestContextMiddleware:
    """Pure ASGI middleware: sets the request id, times the request, logs and counts it."""

    def __init__(self, app: ASGIApp, service: str, registry: CollectorRegistry):
        self.app = app
        self.service = service
        self.requests = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=registry)
        self.latency = Histogram("http_request_duration_seconds", "HTTP request latency", ["method", "route"],
                                 registry=registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if 0 < len(incoming) <= 128 and incoming.isprintable() else uuid.uuid4().hex
        if rid != incoming:  # apps mounted behind this one (embedded topology) see the same id
            scope["headers"] = [(k, v) for k, v in scope.get("headers", []) if k != b"x-request-id"]
            scope["headers"].append((b"x-request-id", rid.encode()))
        token_r = request_id_var.set(rid)
        token_s = service_var.set(self.service)
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                existing = list(message.get("headers") or [])
                if not any(k.lower() == b"x-request-id" for k, _ in existing):
                    message["headers"] = [*existing, (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            path = _route_label(scope)
            self.requests.labels(scope["method"], path, str(status)).inc()
            self.latency.labels(scope["method"], path).observe(elapsed)
            access_log.info("%s %s %s", scope["method"], scope["path"], status, extra={"fields": {
                "method": scope["method"], "path": scope["path"], "status": status,
                "duration_ms": round(elapsed * 1000, 2)}})
            request_id_var.reset(token_r)
            service_var.reset(token_s)


def _route_label(scope: Scope) -> str:
    """The route template, with the prefix of the app it is mounted under (so that identity's /me and
    profile's /me are two series at the gateway); what only a mount matched (the forwarding gateway)
    is `prefix/*`."""
    root = scope.get("root_path", "")
    path = getattr(scope.get("route"), "path", None)
    if path is None:
        return f"{root}/*" if root else "unmatched"
    return root + path


class Health(BaseModel):
    status: str
    service: str
    checks: dict[str, str] = {}


def health_router(service: str) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=Health, summary="Liveness: the process is up")
    async def healthz() -> Health:
        return Health(status="ok", service=service)

    @router.get("/readyz", response_model=Health, summary="Readiness: database and event bus reachable",
                responses={503: {"model": Health, "description": "A dependency is not reachable"}})
    async def readyz(request: Request, response: Response) -> Any:
        async def database() -> str:
            try:
                await asyncio.wait_for(ping(request.app.state.engine), READY_TIMEOUT)
                return "ok"
            except Exception as exc:  # noqa: BLE001
                return f"error: {type(exc).__name__}"

        async def bus() -> str:
            return "ok" if await request.app.state.bus.ready() else "error: unreachable"

        db_check, bus_check = await asyncio.gather(database(), bus())
        checks = {"database": db_check, "bus": bus_check}
        ok = all(v == "ok" for v in checks.values())
        response.status_code = 200 if ok else 503
        return Health(status="ok" if ok else "unavailable", service=service, checks=checks)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response,
                responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}})
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)

    return router


def install_observability(app: FastAPI, service: str) -> CollectorRegistry:
    registry = CollectorRegistry()
    app.state.metrics = registry
    app.add_middleware(RequestContextMiddleware, service=service, registry=registry)
    return registry
