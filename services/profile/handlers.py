"""Profile use cases: one function per command."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.domain.etags import etag, if_match_allows
from services.profile.domain.profiles import HR_OWNED, SELF_EDITABLE, ProfileRuleError, as_text, plan_changes
from services.profile.events import ProfileCreated, ProfileUpdated
from services.profile.persistence.repository import add_changes, get_profile, insert_profile_if_absent
from services.profile.persistence.tables import Profile, ProfileChange
from shared.auth import PermissionChecker, Principal
from shared.errors import Forbidden, NotFound, PreconditionFailed, Unprocessable
from shared.outbox import Publisher

NO_PROFILE_YET = ("There is no profile for this account yet. A profile is created once registration has been "
                  "processed, which can take a moment after registering: retry shortly.")
NO_PROFILE_FOR_STAFF = "Profiles are a company's employees' personal data; platform staff accounts have none."


def _no_profile(principal: Principal) -> NotFound:
    return NotFound(NO_PROFILE_YET if principal.tenant_id else NO_PROFILE_FOR_STAFF)


async def create_profile(session: AsyncSession, publish: Publisher, *, user_id: uuid.UUID, tenant_id: uuid.UUID,
                         name: str, email: str | None, mobile: str | None, employee_no: str | None,
                         department: str | None, hire_date: date | None) -> Profile | None:
    """Create a registered user's profile from identity's data. None if it already exists."""
    now = datetime.now(UTC)
    hr_data: dict[str, Any] = {"name": name, "email": email, "mobile": mobile, "employee_no": employee_no,
                               "department": department, "hire_date": hire_date}
    profile = await insert_profile_if_absent(session, user_id=user_id, tenant_id=tenant_id, created_at=now,
                                             updated_at=now, version=1, **hr_data)
    if profile is None:
        return None
    await add_changes(session, [
        ProfileChange(user_id=user_id, field=field, old_value=None, new_value=as_text(value), changed_at=now,
                      changed_by=None, source="event")
        for field, value in hr_data.items() if value is not None])
    await publish(session, ProfileCreated(user_id=user_id, tenant_id=tenant_id), subject=user_id, tenant_id=tenant_id)
    return profile


async def get_my_profile(session: AsyncSession, principal: Principal) -> Profile:
    profile = await get_profile(session, principal.user_id)
    if profile is None:
        raise _no_profile(principal)
    return profile


async def update_my_profile(session: AsyncSession, publish: Publisher, principal: Principal, patch: dict[str, Any],
                            *, if_match: str | None) -> Profile:
    """Apply a merge-patch of self-editable fields. Stale If-Match: 412. No actual change: nothing happens."""
    profile = await get_profile(session, principal.user_id, for_update=True)
    if profile is None:
        raise _no_profile(principal)
    if not if_match_allows(if_match, profile.version):
        raise PreconditionFailed(f"The profile has changed since you read it (now {etag(profile.version)}); "
                                 "reload it and apply your change again.", headers={"ETag": etag(profile.version)})
    current = {field: getattr(profile, field) for field in (*SELF_EDITABLE, *HR_OWNED)}
    try:
        changes = plan_changes(current, patch)
    except ProfileRuleError as exc:
        raise Unprocessable("The request is not valid.",
                            errors=[{"loc": ["body", exc.field], "msg": str(exc), "type": "value_error"}]) from exc
    if not changes:
        return profile
    now = datetime.now(UTC)
    for change in changes:
        setattr(profile, change.field, change.new)
    profile.version += 1
    profile.updated_at = now
    await add_changes(session, [
        ProfileChange(user_id=profile.user_id, field=c.field, old_value=as_text(c.old), new_value=as_text(c.new),
                      changed_at=now, changed_by=principal.user_id, source="self") for c in changes])
    await publish(session, ProfileUpdated(user_id=profile.user_id, tenant_id=profile.tenant_id,
                                          fields=[c.field for c in changes]),
                  subject=profile.user_id, tenant_id=profile.tenant_id)
    return profile


async def read_user_profile(session: AsyncSession, permissions: PermissionChecker, principal: Principal,
                            user_id: uuid.UUID) -> Profile:
    """Another user's profile, for holders of users:read in that user's tenant."""
    profile = await get_profile(session, user_id)
    if profile is None:
        raise NotFound("There is no profile for this user.")
    if not await permissions.check(principal, "users:read", profile.tenant_id):
        raise Forbidden("Permission 'users:read' in this user's company is required.", permission="users:read")
    return profile
