"""Lifecycle service: each user's stage (invited → registered → verified → active → dormant → exited)."""
from __future__ import annotations

from fastapi import FastAPI

from services.lifecycle.api.routes import router
from services.lifecycle.consumers import build_consumers
from services.lifecycle.events import PUBLISHED
from services.lifecycle.persistence.tables import Base, messaging
from services.lifecycle.settings import LifecycleSettings
from shared.service import Runtime, ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="lifecycle",
    title="ESOP lifecycle service",
    description="Where each user is in their life on the platform, from invitation to exit, and how they got there.",
    base=Base,
    messaging=messaging,
    routers=[router],
    events=PUBLISHED,
    consumer_factory=lambda app: build_consumers(app.state.publisher),
    tags=[{"name": "lifecycle", "description": "Users' stages and their history, from identity's events."}],
)


def create_app(settings: LifecycleSettings | None = None, runtime: Runtime | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or LifecycleSettings(), runtime)
