"""Profile service: each person's profile, their own preferences, and its change history."""
from __future__ import annotations

from fastapi import FastAPI

from services.profile.api.routes import router
from services.profile.consumers import CONSUMERS
from services.profile.events import PUBLISHED
from services.profile.persistence.tables import Base, messaging
from services.profile.settings import ProfileSettings
from shared.service import Runtime, ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="profile",
    title="ESOP profile service",
    description="Each person's profile: HR data from registration, their own preferences, and the change history.",
    base=Base,
    messaging=messaging,
    routers=[router],
    events=PUBLISHED,
    consumers=CONSUMERS,
    tags=[{"name": "profile", "description": "Profiles and their change history"}],
)


def create_app(settings: ProfileSettings | None = None, runtime: Runtime | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or ProfileSettings(), runtime)
