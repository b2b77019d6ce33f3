"""`esop demo`: the platform's main job, end to end over HTTP against a running gateway.

A new company's administrator imports a roster of employees (generated with Faker's zh_CN
locale, or read from a CSV); every employee registers with the code sent to them, logs in,
reads and updates their profile, and a share of them submit feedback. Ends with a summary."""
from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

ID = "/api/v1/identity"
DEPARTMENTS = ["研发部", "财务部", "人力资源部", "市场部", "销售部", "法务部", "运营部", "客服部"]
FEEDBACK = [("suggestion", "希望增加期权行权的模拟计算功能。"), ("question", "离职后已归属的股份如何处理？"),
            ("complaint", "收到验证码的短信有延迟。"), ("suggestion", "能否提供英文界面？")]


class DemoError(RuntimeError):
    pass


@dataclass
class Employee:
    name: str
    mobile: str
    email: str
    employee_no: str
    department: str
    hire_date: str
    id_number: str = ""
    user_id: str | None = None
    token: str | None = None


class Mailbox:
    """Reads the development message sink incrementally: who was sent which code."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.by_user: dict[tuple[str, str], dict[str, Any]] = {}
        self.lock = asyncio.Lock()

    def _read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read()
        end = chunk.rfind(b"\n") + 1
        for line in chunk[:end].splitlines():
            if line.strip():
                msg = json.loads(line)
                if "user_id" in msg:
                    self.by_user[(msg["user_id"], msg.get("purpose", ""))] = msg
        self.offset += end

    async def wait(self, user_id: str, purpose: str, *, newer_than: str = "", timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            async with self.lock:
                self._read()
            msg = self.by_user.get((user_id, purpose))
            if msg and msg["time"] > newer_than:
                return msg
            if time.monotonic() > deadline:
                raise DemoError(f"no {purpose} message for {user_id} in {self.path} after {timeout}s "
                                "(is --messages the sink the platform writes to?)")
            await asyncio.sleep(0.2)


def _valid_mobile(number: str) -> bool:
    import phonenumbers

    parsed = phonenumbers.parse(number, "CN")
    return phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE


def generate_roster(count: int, seed: int | None = None) -> list[Employee]:
    from faker import Faker

    fake = Faker("zh_CN")
    if seed is not None:
        Faker.seed(seed)
    run = uuid.uuid4().hex[:6]
    people: list[Employee] = []
    mobiles: set[str] = set()
    while len(people) < count:
        mobile = fake.phone_number()
        if mobile in mobiles or not _valid_mobile(mobile):
            continue  # Faker also makes numbers in ranges that are not allocated
        mobiles.add(mobile)
        n = len(people) + 1
        people.append(Employee(name=fake.name(), mobile=mobile, email=f"{fake.user_name()}.{run}{n}@{fake.free_email_domain()}",
                               employee_no=f"D{run.upper()}{n:05d}", department=random.choice(DEPARTMENTS),
                               hire_date=fake.date_between(start_date="-10y", end_date="today").isoformat(),
                               id_number=fake.ssn()))
    return people


ROSTER_COLUMNS = ("name", "mobile", "email", "employee_no", "hire_date")


def read_roster(raw: bytes) -> list[Employee]:
    """The people in a roster file (UTF-8 or GB18030, as the platform takes it). The platform itself
    validates every row when the file is uploaded; this only needs the columns to find the people."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    if missing := [c for c in ROSTER_COLUMNS if c not in (reader.fieldnames or [])]:
        raise DemoError(f"the roster has no column {', '.join(missing)} "
                        "(expected name,mobile,email,employee_no,department,hire_date)")
    return [Employee(name=r["name"], mobile=r["mobile"], email=r["email"], employee_no=r["employee_no"],
                     department=r.get("department") or "", hire_date=r["hire_date"]) for r in reader]


def roster_csv(people: list[Employee]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "mobile", "email", "employee_no", "department", "hire_date", "id_number"])
    for p in people:
        writer.writerow([p.name, p.mobile, p.email, p.employee_no, p.department, p.hire_date, p.id_number])
    return out.getvalue().encode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def check(resp: httpx.Response, *expected: int) -> dict[str, Any]:
    if resp.status_code not in expected:
        raise DemoError(f"{resp.request.method} {resp.request.url.path} answered {resp.status_code}: {resp.text[:500]}")
    return resp.json() if resp.content else {}


async def poll(fn, what: str, timeout: float = 60) -> Any:
    """Retry `fn` with backoff (0.05 s doubling to 1 s) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        result = await fn()
        if result:
            return result
        if time.monotonic() > deadline:
            raise DemoError(f"timed out waiting for {what}")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


async def login(client: httpx.AsyncClient, login_name: str, password: str, *, platform: bool = False) -> str:
    body = {"login": login_name, "password": password, **({"platform": True} if platform else {})}
    return check(await client.post(f"{ID}/token", json=body), 200)["access_token"]


async def register(client: httpx.AsyncClient, mailbox: Mailbox, user_id: str, password: str, channel: str) -> None:
    invitation = await mailbox.wait(user_id, "invitation")
    requested = datetime.now(UTC).isoformat()
    check(await client.post(f"{ID}/registrations/code",
                            json={"invitation_code": invitation["invitation_code"], "channel": channel}), 202)
    otp = await mailbox.wait(user_id, "registration", newer_than=requested[:19])
    check(await client.post(f"{ID}/registrations", json={"invitation_code": invitation["invitation_code"],
                                                         "verification_code": otp["code"], "password": password}), 201)


async def may(client: httpx.AsyncClient, token: str, permission: str, tenant_id: str | None = None) -> bool:
    """Whether authz grants `permission` yet: roles follow registration by event, a moment later."""
    resp = await client.post("/api/v1/authz/check", headers=bearer(token),
                             json={"permission": permission, "tenant_id": tenant_id})
    return resp.status_code == 200 and resp.json()["allowed"]


async def employee_journey(client: httpx.AsyncClient, mailbox: Mailbox, person: Employee, password: str,
                           give_feedback: bool) -> int:
    """Register, log in, update the profile, maybe give feedback. Returns how many feedback items the
    feedback service lists for this person afterwards."""
    assert person.user_id
    await register(client, mailbox, person.user_id, password, "mobile")
    person.token = await login(client, person.mobile, password)  # the mobile is what the code proved
    headers = bearer(person.token)

    async def profile() -> httpx.Response | None:
        resp = await client.get("/api/v1/profile/me", headers=headers)
        return resp if resp.status_code == 200 else None

    current = await poll(profile, f"profile of {person.name}")
    check(await client.patch("/api/v1/profile/me", headers={**headers, "If-Match": current.headers["ETag"]},
                             json={"preferred_name": person.name[-2:], "locale": "zh-CN"}), 200)
    if give_feedback:
        await poll(lambda: may(client, person.token, "feedback:submit"), f"the employee role of {person.name}")
        kind, text = random.choice(FEEDBACK)
        check(await client.post("/api/v1/feedback/feedback", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                                json={"type": kind, "text": text}), 201)
    return len(check(await client.get("/api/v1/feedback/feedback/mine", headers=headers), 200)["items"])


async def run_demo(gateway: str, *, employees: int, roster: Path | None, message_sink: Path, admin_email: str,
                   admin_password: str | None, feedback_share: float = 0.3, concurrency: int = 16) -> dict[str, Any]:
    if not admin_password:
        raise SystemExit("Give the platform administrator's password (--admin-password or ESOP_ADMIN_PASSWORD); "
                         "create one with `esop admin create`.")
    started = datetime.now(UTC)
    t0 = time.monotonic()
    mailbox = Mailbox(message_sink)
    password = "Demo-Passw0rd-" + uuid.uuid4().hex[:6]
    limits = httpx.Limits(max_connections=concurrency * 2)
    if roster:
        roster_file = roster.read_bytes()
        people = read_roster(roster_file)
    else:
        people = generate_roster(employees)
        roster_file = roster_csv(people)
    async with httpx.AsyncClient(base_url=gateway, timeout=60, limits=limits) as client:
        root = await login(client, admin_email, admin_password, platform=True)
        admin = generate_roster(1)[0]
        company = check(await client.post(f"{ID}/tenants", headers=bearer(root), json={
            "name": f"演示公司 {started:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}",
            "admin": {"name": admin.name, "email": admin.email, "mobile": admin.mobile}}), 201)
        tenant_id = company["id"]
        await register(client, mailbox, company["admin_user_id"], password, "email")
        admin_token = await login(client, admin.email, password)
        await poll(lambda: may(client, admin_token, "users:invite", tenant_id), "the company_admin role")
        imported = check(await client.post(f"{ID}/tenants/{tenant_id}/roster", headers=bearer(admin_token),
                                           files={"file": ("roster.csv", roster_file, "text/csv")}), 200)
        for person, user_id in zip(people, imported["invited_user_ids"], strict=False):
            person.user_id = user_id
        gate = asyncio.Semaphore(concurrency)
        bar = tqdm(total=len(people), desc="employees", unit="emp")

        async def one(person: Employee) -> int:
            async with gate:
                try:
                    return await employee_journey(client, mailbox, person, password, random.random() < feedback_share)
                finally:
                    bar.update(1)

        feedback_items = await asyncio.gather(*(one(p) for p in people if p.user_id))
        bar.close()
        elapsed = time.monotonic() - t0
        summary = await collect_summary(client, root, admin_token, tenant_id, started, len(people),
                                        sum(feedback_items), elapsed)
    print_summary(summary)
    return summary


async def collect_summary(client: httpx.AsyncClient, root: str, admin_token: str, tenant_id: str, started: datetime,
                          employees: int, feedback: int, elapsed: float) -> dict[str, Any]:
    async def settled() -> dict[str, Any] | None:
        stages = check(await client.get(f"/api/v1/lifecycle/tenants/{tenant_id}/stages",
                                        headers=bearer(admin_token)), 200)
        counts = stages.get("counts", stages)
        return stages if counts.get("active", 0) >= employees + 1 else None

    stages = await poll(settled, "every employee to be active in lifecycle", timeout=60)
    logins = check(await client.get(f"/api/v1/activity/tenants/{tenant_id}/logins/summary",
                                    headers=bearer(admin_token)), 200)
    lag: dict[str, Any] = {}
    for service in ("identity", "authz", "profile", "activity", "feedback", "lifecycle"):
        stats = check(await client.get(f"/api/v1/{service}/ops/stats", headers=bearer(root),
                                       params={"since": started.isoformat()}), 200)
        for consumer in stats["consumers"]:
            lag[consumer["consumer"]] = consumer
    return {"tenant_id": tenant_id, "employees": employees, "seconds": round(elapsed, 1),
            "stages": stages.get("counts", stages), "logins": logins, "feedback_items": feedback, "lag": lag}


def print_summary(s: dict[str, Any]) -> None:
    print(f"\ncompany {s['tenant_id']}: {s['employees']} employees in {s['seconds']} s "
          f"({s['employees'] / max(s['seconds'], 0.001):.1f} employees/s)")
    print("users per lifecycle stage:", ", ".join(f"{k} {v}" for k, v in s["stages"].items() if v))
    logins = s["logins"]
    print(f"login records (last {logins.get('days', 30)} days):",
          ", ".join(f"{k} {logins[k]}" for k in ("successes", "failures", "distinct_users") if k in logins))
    print("feedback items (as the feedback service lists them):", s["feedback_items"])
    print("event lag, outbox to consumer (ms):")
    for name, c in sorted(s["lag"].items()):
        p50, p95 = c.get("lag_p50_ms"), c.get("lag_p95_ms")
        if c.get("handled"):
            print(f"  {name:10s} events {c['handled']:5d}  p50 {p50:8.1f}  p95 {p95:8.1f}"
                  f"  dead letters {c.get('dead_letters', 0)}")
