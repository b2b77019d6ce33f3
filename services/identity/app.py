"""Identity service: companies, users, invitations, registration, sessions and signing keys."""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.identity.api.routes_auth import router as auth_router
from services.identity.api.routes_internal import router as internal_router
from services.identity.api.routes_tenants import router as tenants_router
from services.identity.api.routes_wellknown import router as wellknown_router
from services.identity.consumers import build_consumers
from services.identity.deps import IdentityDeps
from services.identity.events import PUBLISHED
from services.identity.handlers.keys import ensure_signing_key, jwks
from services.identity.persistence.tables import Base, messaging
from services.identity.settings import IdentitySettings
from shared.notify import FileNotifier
from shared.service import Runtime, ServiceSpec, create_service_app
from shared.tokens import TokenVerifier


async def _startup(app: FastAPI) -> None:
    settings: IdentitySettings = app.state.settings
    deps = IdentityDeps(settings=settings, publish=app.state.publisher, notifier=FileNotifier(settings.message_sink))
    async with app.state.sessionmaker() as session, session.begin():
        deps.signing_key = await ensure_signing_key(session)
    app.state.identity = deps

    async def local_jwks() -> dict[str, Any]:
        async with app.state.sessionmaker() as session:
            return await jwks(session)

    app.state.verifier = TokenVerifier(local_jwks, issuer=settings.jwt_issuer, audience=settings.jwt_audience)


SPEC = ServiceSpec(
    name="identity",
    title="ESOP identity service",
    description="Companies (tenants), users, roster invitations, registration with one-time codes, password "
                "login, sessions with rotating refresh tokens, and the keys that sign access tokens (JWKS).",
    base=Base,
    messaging=messaging,
    routers=[tenants_router, auth_router, wellknown_router, internal_router],
    events=PUBLISHED,
    on_startup=_startup,
    consumer_factory=lambda app: build_consumers(app.state.identity),
)


def create_app(settings: IdentitySettings | None = None, runtime: Runtime | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or IdentitySettings(), runtime)
