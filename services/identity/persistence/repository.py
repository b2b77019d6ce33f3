from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.persistence.tables import (
    Invitation,
    LoginThrottle,
    RefreshToken,
    Session,
    SigningKeyRow,
    Tenant,
    User,
    UserRole,
)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant | None:
    return await session.get(Tenant, tenant_id)


async def find_users_by_login(session: AsyncSession, *, email: str | None, mobile: str | None,
                              tenant_id: uuid.UUID | None, platform: bool = False) -> Sequence[User]:
    """Active users whose *verified* email or mobile is this login (a name someone merely typed
    into a roster never matches), locked until the transaction ends: concurrent logins of one
    account take turns, so that none of them miss another's failure count."""
    conditions = []
    if email:
        conditions.append((User.email == email) & User.email_verified_at.is_not(None))
    if mobile:
        conditions.append((User.mobile == mobile) & User.mobile_verified_at.is_not(None))
    if not conditions:
        return []
    query = select(User).where(or_(*conditions), User.status == "active")
    if tenant_id:
        query = query.where(User.tenant_id == tenant_id)
    elif platform:
        query = query.where(User.tenant_id.is_(None))
    return (await session.execute(query.order_by(User.id).limit(10).with_for_update())).scalars().all()


async def get_login_throttle(session: AsyncSession, key: str) -> LoginThrottle:
    """The failure count of a login name, made if new and locked until the transaction ends
    (concurrent guesses take turns)."""
    await session.execute(insert(LoginThrottle).values(key=key, failed_logins=0, lockouts=0)
                          .on_conflict_do_nothing())
    row = await session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


async def users_of_tenant_by_employee_no(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, User]:
    rows = (await session.execute(select(User).where(User.tenant_id == tenant_id))).scalars().all()
    return {u.employee_no: u for u in rows if u.employee_no}


async def get_invitation_by_code(session: AsyncSession, code: str, *, for_update: bool = False) -> Invitation | None:
    query = select(Invitation).where(Invitation.code == code)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_invitation_of_user(session: AsyncSession, user_id: uuid.UUID) -> Invitation | None:
    return (await session.execute(select(Invitation).where(Invitation.user_id == user_id))).scalar_one_or_none()


async def get_refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    query = select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def revoke_session(session: AsyncSession, session_row: Session, reason: str, at) -> None:  # noqa: ANN001
    session_row.revoked_at = at
    session_row.revoked_reason = reason
    await session.execute(update(RefreshToken).where(RefreshToken.session_id == session_row.id,
                                                     RefreshToken.used_at.is_(None)).values(used_at=at))


async def active_signing_keys(session: AsyncSession) -> Sequence[SigningKeyRow]:
    query = select(SigningKeyRow).where(SigningKeyRow.retired_at.is_(None)).order_by(SigningKeyRow.created_at.desc())
    return (await session.execute(query)).scalars().all()


async def roles_of(session: AsyncSession, user_id: uuid.UUID, tenant_id: uuid.UUID | None) -> list[str]:
    keys = ["*"] + ([str(tenant_id)] if tenant_id else [])
    query = select(UserRole.role).where(UserRole.user_id == user_id, UserRole.tenant_key.in_(keys))
    return sorted(set((await session.execute(query)).scalars().all()))


async def add_role(session: AsyncSession, user_id: uuid.UUID, tenant_key: str, role: str) -> None:
    await session.execute(insert(UserRole).values(user_id=user_id, tenant_key=tenant_key, role=role)
                          .on_conflict_do_nothing())


async def remove_role(session: AsyncSession, user_id: uuid.UUID, tenant_key: str, role: str) -> None:
    await session.execute(delete(UserRole).where(UserRole.user_id == user_id, UserRole.tenant_key == tenant_key,
                                                 UserRole.role == role))
