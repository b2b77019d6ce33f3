"""Activity service: login records (and, later, the audit log, anomaly alerts and usage analytics)."""
from __future__ import annotations

from fastapi import FastAPI

from services.activity.api.routes import router
from services.activity.consumers import CONSUMERS
from services.activity.events import PUBLISHED
from services.activity.persistence.tables import Base, messaging
from services.activity.settings import ActivitySettings
from shared.service import Runtime, ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="activity",
    title="ESOP activity service",
    description="Login records of every user: when, from where, with what, and whether it worked.",
    base=Base,
    messaging=messaging,
    routers=[router],
    events=PUBLISHED,
    consumers=CONSUMERS,
    tags=[{"name": "logins", "description": "Logins, failed logins and logouts, from identity's events."}],
)


def create_app(settings: ActivitySettings | None = None, runtime: Runtime | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or ActivitySettings(), runtime)
