"""Authz service: built-in roles, role assignments per tenant, and access checks."""
from __future__ import annotations

from fastapi import FastAPI

from services.authz.api.routes import router
from services.authz.checker import LocalPermissionChecker
from services.authz.consumers import CONSUMERS
from services.authz.events import PUBLISHED
from services.authz.persistence.tables import Base, messaging
from services.authz.settings import AuthzSettings
from shared.service import Runtime, ServiceSpec, create_service_app


async def _check_permissions_locally(app: FastAPI) -> None:
    """Authz is the authority: its own routes check permissions in its database, not over HTTP."""
    app.state.permissions = LocalPermissionChecker(app.state.sessionmaker)


SPEC = ServiceSpec(
    name="authz",
    title="ESOP authz service",
    description="Roles, their permissions, role assignments per company, and access checks.",
    base=Base,
    messaging=messaging,
    routers=[router],
    events=PUBLISHED,
    consumers=CONSUMERS,
    on_startup=_check_permissions_locally,
    tags=[{"name": "authz", "description": "Roles, role assignments and access checks"}],
)


def create_app(settings: AuthzSettings | None = None, runtime: Runtime | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or AuthzSettings(), runtime)
