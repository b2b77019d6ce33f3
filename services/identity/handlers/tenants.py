"""Companies and platform administrators."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.deps import IdentityDeps
from services.identity.domain.companies import company_name
from services.identity.domain.contact import InvalidContact, normalize_email, normalize_mobile
from services.identity.domain.credentials import hash_password, new_invitation_code, password_problems
from services.identity.events import PlatformAdminCreated, TenantCreated, UserInvited
from services.identity.persistence.tables import Invitation, Tenant, User
from shared.errors import Conflict, Unprocessable


async def create_platform_admin(session: AsyncSession, deps: IdentityDeps, *, email: str, name: str,
                                password: str) -> User:
    email = normalize_email(email)
    if problems := password_problems(password, name=name, email=email):
        raise Unprocessable("The password is too weak.", errors=[
            {"loc": ["body", "password"], "msg": p, "type": "password_policy"} for p in problems])
    existing = (await session.execute(select(User).where(User.tenant_id.is_(None), User.email == email))).scalar()
    if existing:
        raise Conflict(f"A platform administrator with email {email} already exists.")
    user = User(tenant_id=None, name=name, email=email, status="active", is_platform_admin=True,
                password_hash=await deps.hashing(hash_password, password), registered_at=deps.clock(),
                email_verified_at=deps.clock())
    session.add(user)
    await session.flush()
    await deps.publish(session, PlatformAdminCreated(user_id=user.id, email=email), subject=user.id, tenant_id=None)
    return user


async def invite_user(session: AsyncSession, deps: IdentityDeps, user: User, role: str) -> Invitation:
    """Add an invitation for a new `user` (already flushed) and publish that they were invited."""
    invitation = Invitation(tenant_id=user.tenant_id, user_id=user.id, code=new_invitation_code(), role=role,
                            expires_at=deps.clock() + timedelta(days=deps.settings.invitation_ttl_days))
    session.add(invitation)
    await session.flush()
    await deps.publish(session, UserInvited(user_id=user.id, tenant_id=user.tenant_id, name=user.name,  # type: ignore[arg-type]
                                            employee_no=user.employee_no, department=user.department,
                                            hire_date=user.hire_date, role=role),
                       subject=user.id, tenant_id=user.tenant_id)
    return invitation


def _admin_contact(email: str, mobile: str, region: str) -> tuple[str, str]:
    """The company administrator's email and mobile, normalised, or 422 naming the field at fault."""
    errors, values = [], {}
    for field, value, normalize in (("email", email, normalize_email),
                                    ("mobile", mobile, lambda v: normalize_mobile(v, region))):
        try:
            values[field] = normalize(value)
        except InvalidContact as exc:
            errors.append({"loc": ["body", "admin", field], "msg": str(exc), "type": "value_error"})
    if errors:
        raise Unprocessable("The company administrator's contact details are not valid.", errors=errors)
    return values["email"], values["mobile"]


async def _tenant_named(session: AsyncSession, name: str) -> Tenant | None:
    return (await session.execute(select(Tenant).where(func.lower(Tenant.name) == func.lower(name)))).scalar()


def _name_taken(existing: Tenant) -> Conflict:
    return Conflict(f"A company named '{existing.name}' already exists (names are compared ignoring case "
                    "and repeated spaces).", tenant_id=str(existing.id))


async def create_tenant(session: AsyncSession, deps: IdentityDeps, *, name: str, admin_name: str, admin_email: str,
                        admin_mobile: str) -> tuple[Tenant, User]:
    email, mobile = _admin_contact(admin_email, admin_mobile, deps.settings.phone_region)
    name = company_name(name)
    if existing := await _tenant_named(session, name):
        raise _name_taken(existing)
    tenant = Tenant(id=uuid.uuid4(), name=name)
    try:
        async with session.begin_nested():
            session.add(tenant)
            await session.flush()
    except IntegrityError:
        # A concurrent request took the name (its transaction has committed by now): the unique
        # index on lower(name) decides, not the check above.
        if existing := await _tenant_named(session, name):
            raise _name_taken(existing) from None
        raise
    admin = User(tenant_id=tenant.id, name=admin_name, email=email, mobile=mobile, status="invited")
    session.add(admin)
    await session.flush()
    await deps.publish(session, TenantCreated(tenant_id=tenant.id, name=name, admin_user_id=admin.id),
                       subject=admin.id, tenant_id=tenant.id)
    await invite_user(session, deps, admin, "company_admin")
    return tenant, admin
