"""Roster import: a company administrator invites its employees from a CSV file.

All or nothing: any invalid row rejects the file; the answer lists the first errors
(MAX_LISTED_ERRORS) and counts them all. Re-importing the
same rows changes nothing; imports of one company are serialised with an advisory lock."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.deps import IdentityDeps
from services.identity.domain.roster import RosterRejected, RosterRow, RowError, parse_roster
from services.identity.handlers.tenants import invite_user
from services.identity.persistence.repository import get_tenant
from services.identity.persistence.tables import User
from shared.errors import NotFound, Unprocessable


@dataclass
class RosterResult:
    rows: int = 0
    invited: list[uuid.UUID] = field(default_factory=list)
    unchanged: int = 0


MAX_LISTED_ERRORS = 200


def _rejected(errors: list[RowError]) -> Unprocessable:
    listed = errors[:MAX_LISTED_ERRORS]
    shown = "" if len(listed) == len(errors) else f"; the first {len(listed)} are listed"
    return Unprocessable(
        f"The roster was not imported: {len(errors)} error(s){shown}. Fix them and upload the whole file again.",
        errors=[{"loc": ["row", e.line, e.field], "msg": e.message, "type": "roster"} for e in listed],
        error_count=len(errors))


def _same_person(user: User, row: RosterRow) -> bool:
    return (user.name, user.mobile, user.email, user.department, user.hire_date) == (
        row.name, row.mobile, row.email, row.department, row.hire_date)


async def import_roster(session: AsyncSession, deps: IdentityDeps, tenant_id: uuid.UUID, data: bytes) -> RosterResult:
    if await get_tenant(session, tenant_id) is None:
        raise NotFound("No such company.")
    try:
        rows = parse_roster(data, region=deps.settings.phone_region, max_rows=deps.settings.roster_max_rows)
    except RosterRejected as exc:
        raise _rejected(exc.errors) from exc
    await session.execute(text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": f"roster-{tenant_id}"})
    existing = (await session.execute(select(User).where(User.tenant_id == tenant_id))).scalars().all()
    by_no = {u.employee_no: u for u in existing if u.employee_no}
    by_mobile = {u.mobile: u for u in existing if u.mobile}
    by_email = {u.email: u for u in existing if u.email}
    errors: list[RowError] = []
    new_rows: list[RosterRow] = []
    result = RosterResult(rows=len(rows))
    for row in rows:
        current = by_no.get(row.employee_no)
        if current is not None:
            if _same_person(current, row):
                result.unchanged += 1
            else:
                errors.append(RowError(row.line, "employee_no",
                                       "already on the platform with other details; changes are not imported"))
            continue
        for field_name, index in (("mobile", by_mobile), ("email", by_email)):
            other = index.get(getattr(row, field_name))
            if other is not None:
                errors.append(RowError(row.line, field_name,
                                       f"already used by employee {other.employee_no or other.name}"))
        new_rows.append(row)
    if errors:
        raise _rejected(errors)
    for row in new_rows:
        user = User(tenant_id=tenant_id, name=row.name, email=row.email, mobile=row.mobile,
                    employee_no=row.employee_no, department=row.department, hire_date=row.hire_date, status="invited")
        session.add(user)
        await session.flush()
        await invite_user(session, deps, user, "employee")
        result.invited.append(user.id)
    return result
