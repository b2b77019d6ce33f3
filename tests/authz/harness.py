"""Run authz and profile beside the real identity service: tokens are minted by the test with
identity's own signing key (so any user, tenant and roles can be set up directly), verified through
identity's real JWKS; identity's events are delivered straight to a shared in-process bus.

Used by tests/authz and tests/profile; platform-wide flows use the `platform` fixture instead."""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg2
import pytest
from fastapi import FastAPI

from shared.bus import InProcessBus
from shared.events import CloudEvent
from shared.service import Runtime
from shared.settings import BaseServiceSettings
from shared.tokens import SigningKey, issue_token

DEFAULTS = BaseServiceSettings()


class Tokens:
    """Signs access tokens with the identity service's current signing key."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key

    def mint(self, user_id: uuid.UUID, tenant_id: uuid.UUID | None = None, *, roles: Iterable[str] = (),
             ttl_seconds: int = 300, audience: str | None = None) -> str:
        claims: dict[str, Any] = {"sid": uuid.uuid4().hex, "roles": list(roles), "scope": ""}
        if tenant_id is not None:
            claims["tid"] = str(tenant_id)
        return issue_token(self.key, issuer=DEFAULTS.jwt_issuer, audience=audience or DEFAULTS.jwt_audience,
                           subject=str(user_id), ttl_seconds=ttl_seconds, **claims)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def identity_event(type_: str, data: dict[str, Any], *, subject: Any = None, tenant_id: Any = None) -> CloudEvent:
    return CloudEvent(source="/esop/identity", type=type_, subject=str(subject) if subject else None,
                      tenantid=str(tenant_id) if tenant_id else None,
                      data={k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in data.items()})


def registered(user_id: uuid.UUID, tenant_id: uuid.UUID, **extra: Any) -> CloudEvent:
    data = {"user_id": user_id, "tenant_id": tenant_id, "name": "张三", "email": "zhangsan@corp.example.com",
            "mobile": "+8613800138000", "employee_no": "E0001", "department": "研发部", "hire_date": "2023-05-04",
            "verified_channel": "mobile", **extra}
    return identity_event("esop.identity.user.registered", data, subject=user_id, tenant_id=tenant_id)


def invited(user_id: uuid.UUID, tenant_id: uuid.UUID, role: str = "employee") -> CloudEvent:
    data = {"user_id": user_id, "tenant_id": tenant_id, "name": "李四", "employee_no": "E0002",
            "department": "财务部", "hire_date": "2024-01-02", "role": role}
    return identity_event("esop.identity.user.invited", data, subject=user_id, tenant_id=tenant_id)


def tenant_created(tenant_id: uuid.UUID, admin_user_id: uuid.UUID, name: str = "示例公司") -> CloudEvent:
    return identity_event("esop.identity.tenant.created",
                          {"tenant_id": tenant_id, "name": name, "admin_user_id": admin_user_id}, tenant_id=tenant_id)


def query(database_url: str, statement: str, *args: Any) -> list[tuple]:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(statement, args)
        return cur.fetchall() if cur.description else []


@dataclass
class Services:
    """authz and profile running in-process on one database and one bus."""

    database_url: str
    tokens: Tokens
    bus: InProcessBus
    apps: dict[str, FastAPI]
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    @property
    def authz(self) -> httpx.AsyncClient:
        return self.clients["authz"]

    @property
    def profile(self) -> httpx.AsyncClient:
        return self.clients["profile"]

    async def deliver(self, *events: CloudEvent) -> None:
        """Deliver identity's events to the consumers, as the relay would (returns once handled)."""
        await self.bus.publish(list(events))

    def outbox(self, schema: str, type_: str | None = None) -> list[dict[str, Any]]:
        rows = query(self.database_url, f"select envelope from {schema}.outbox order by seq")
        return [r[0] for r in rows if type_ is None or r[0]["type"] == type_]


@contextlib.asynccontextmanager
async def running_services(database_url: str) -> AsyncIterator[Services]:
    from services.authz.app import create_app as create_authz
    from services.authz.settings import AuthzSettings
    from services.profile.app import create_app as create_profile
    from services.profile.settings import ProfileSettings

    from services.identity.app import create_app as create_identity
    from services.identity.settings import IdentitySettings

    bus = InProcessBus()
    apps: dict[str, FastAPI] = {}

    def peer_transport(name: str) -> httpx.AsyncBaseTransport | None:
        return httpx.ASGITransport(app=apps[name]) if name in apps else None

    runtime = Runtime(bus=bus, peer_transport=peer_transport)
    common = {"database_url": database_url, "outbox_poll_seconds": 0.2, "consumer_max_attempts": 2}
    apps["identity"] = create_identity(IdentitySettings(**common), runtime)
    apps["authz"] = create_authz(AuthzSettings(**common), runtime)
    apps["profile"] = create_profile(ProfileSettings(**common), runtime)
    async with contextlib.AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        services = Services(database_url, Tokens(apps["identity"].state.identity.signing_key), bus, apps)
        for name in ("authz", "profile"):
            services.clients[name] = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=apps[name]), base_url=f"http://{name}", timeout=30))
        yield services


# -- fixtures (imported by tests/authz/conftest.py and tests/profile/conftest.py) -----------------------

@pytest.fixture
async def services(database_url: str) -> AsyncIterator[Services]:
    """identity, authz and profile on a fresh migrated database (tests/conftest.py's `database_url`)."""
    async with running_services(database_url) as running:
        yield running
