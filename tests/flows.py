"""The platform's main flows as a client performs them, for tests to build on.

Platform admin -> company (its admin invited) -> admin registers -> roster import ->
employees register with the code sent to them -> log in."""
from __future__ import annotations

import asyncio
import csv
import io
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from services.identity.app import SPEC
from services.identity.deps import IdentityDeps
from services.identity.handlers.tenants import create_platform_admin
from services.identity.settings import IdentitySettings
from shared.db import make_engine, make_sessionmaker
from shared.notify import FileNotifier, read_messages
from shared.outbox import Publisher

T = TypeVar("T")
ID = "/api/v1/identity"
PASSWORD = "Correct-Horse-Battery-9"


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 15.0, what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy (events are consumed asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def random_mobile() -> str:
    return f"13{random.randint(0, 9)}{random.randint(0, 99_999_999):08d}"


@dataclass
class Person:
    name: str
    mobile: str
    email: str
    employee_no: str = ""
    department: str = "研发部"
    hire_date: str = "2023-05-04"
    user_id: uuid.UUID | None = None
    password: str = PASSWORD
    token: str | None = None
    refresh_token: str | None = None
    verified: str = "email"  # the channel proven at registration: the one that works as a login name

    @property
    def login_name(self) -> str:
        return self.mobile if self.verified == "mobile" else self.email

    @classmethod
    def fake(cls, n: int = 0) -> "Person":
        tag = uuid.uuid4().hex[:8]
        return cls(name=f"员工{n}{tag[:3]}", mobile=random_mobile(), email=f"e{n}.{tag}@corp.example.com",
                   employee_no=f"E{n:04d}{tag[:4]}")


@dataclass
class Company:
    tenant_id: uuid.UUID
    name: str
    admin: Person
    employees: list[Person] = field(default_factory=list)


def roster_csv(people: list[Person]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "mobile", "email", "employee_no", "department", "hire_date"])
    for p in people:
        writer.writerow([p.name, p.mobile, p.email, p.employee_no, p.department, p.hire_date])
    return out.getvalue().encode()


async def make_platform_admin(database_url: str, email: str | None = None, password: str = PASSWORD) -> Person:
    email = email or f"root.{uuid.uuid4().hex[:8]}@esop.example.com"
    settings = IdentitySettings(database_url=database_url)
    engine = make_engine(database_url, "identity")
    deps = IdentityDeps(settings=settings, publish=Publisher("identity", SPEC.messaging),
                        notifier=FileNotifier(settings.message_sink))
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            user = await create_platform_admin(session, deps, email=email, name="Root Admin", password=password)
    finally:
        await engine.dispose()
    return Person(name="Root Admin", mobile="", email=email, user_id=user.id, password=password)


async def login(client: httpx.AsyncClient, person: Person, **extra: Any) -> dict[str, Any]:
    resp = await client.post(f"{ID}/token", json={"login": person.login_name, "password": person.password, **extra})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    person.token, person.refresh_token = body["access_token"], body["refresh_token"]
    return body


async def has_permission(client: httpx.AsyncClient, token: str, permission: str, tenant_id: uuid.UUID | None = None
                         ) -> bool:
    resp = await client.post("/api/v1/authz/check", headers=auth(token),
                             json={"permission": permission, "tenant_id": str(tenant_id) if tenant_id else None})
    return resp.status_code == 200 and resp.json()["allowed"]


def message_for(sink, user_id: uuid.UUID, purpose: str) -> dict[str, str] | None:
    found = [m for m in read_messages(sink) if m.get("user_id") == str(user_id) and m.get("purpose") == purpose]
    return found[-1] if found else None


async def invitation_code(sink, user_id: uuid.UUID) -> str:
    message = await eventually(lambda: _async(message_for(sink, user_id, "invitation")), what="invitation message")
    return message["invitation_code"]


async def _async(value: T) -> T:
    return value


async def register(client: httpx.AsyncClient, sink, person: Person, *, channel: str = "mobile") -> None:
    assert person.user_id
    code = await invitation_code(sink, person.user_id)
    resp = await client.post(f"{ID}/registrations/code", json={"invitation_code": code, "channel": channel})
    assert resp.status_code == 202, resp.text
    otp = message_for(sink, person.user_id, "registration")
    assert otp is not None
    resp = await client.post(f"{ID}/registrations", json={"invitation_code": code, "verification_code": otp["code"],
                                                           "password": person.password})
    assert resp.status_code == 201, resp.text
    person.verified = channel


async def create_company(platform, root: Person, name: str | None = None) -> Company:
    client = platform.client
    if root.token is None:
        await login(client, root)
    admin = Person.fake(0)
    name = name or f"公司-{uuid.uuid4().hex[:8]}"
    resp = await client.post(f"{ID}/tenants", headers=auth(root.token), json={
        "name": name, "admin": {"name": admin.name, "email": admin.email, "mobile": admin.mobile}})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    admin.user_id = uuid.UUID(body["admin_user_id"])
    company = Company(tenant_id=uuid.UUID(body["id"]), name=name, admin=admin)
    await register(client, platform.message_sink, admin, channel="email")
    await login(client, admin)
    await eventually(lambda: has_permission(client, admin.token, "users:invite", company.tenant_id),
                     what="company_admin role")
    return company


async def import_roster(platform, company: Company, people: list[Person]) -> dict[str, Any]:
    resp = await platform.client.post(f"{ID}/tenants/{company.tenant_id}/roster", headers=auth(company.admin.token),
                                      files={"file": ("roster.csv", roster_csv(people), "text/csv")})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    by_email = {p.email: p for p in people}
    # The response lists new user ids in roster order.
    for person, user_id in zip([p for p in people if p.user_id is None], body["invited_user_ids"], strict=False):
        by_email[person.email].user_id = uuid.UUID(user_id)
    company.employees.extend(p for p in people if p not in company.employees)
    return body


async def company_with_employees(platform, count: int, root: Person | None = None) -> Company:
    """A company whose admin and `count` employees are registered and logged in."""
    root = root or await make_platform_admin(platform.database_url)
    company = await create_company(platform, root)
    people = [Person.fake(i + 1) for i in range(count)]
    await import_roster(platform, company, people)
    for person in people:
        await register(platform.client, platform.message_sink, person)
        await login(platform.client, person)
    return company
