"""Feedback service: tickets (suggestions, complaints, questions)."""
from __future__ import annotations

from fastapi import FastAPI

from services.feedback.api.routes import router
from services.feedback.events import PUBLISHED
from services.feedback.persistence.tables import Base, messaging
from services.feedback.settings import FeedbackSettings
from shared.service import Runtime, ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="feedback",
    title="ESOP feedback service",
    description="Feedback, suggestions, complaints and questions from employees.",
    base=Base,
    messaging=messaging,
    routers=[router],
    events=PUBLISHED,
)


def create_app(settings: FeedbackSettings | None = None, runtime: Runtime | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or FeedbackSettings(), runtime)
