"""Registration by invitation: prove the mobile or email with a one-time code, set a password."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.deps import IdentityDeps
from services.identity.domain.contact import mask
from services.identity.domain.credentials import (
    digest,
    hash_password,
    new_verification_code,
    password_problems,
    same_digest,
)
from services.identity.events import UserRegistered
from services.identity.persistence.repository import get_invitation_by_code, get_user
from services.identity.persistence.tables import Invitation, User, VerificationCode
from shared.errors import BadRequest, Conflict, Gone, NotFound, TooManyRequests, Unprocessable


@dataclass
class CodeSent:
    channel: str
    destination: str
    expires_in: int


async def _open_invitation(session: AsyncSession, deps: IdentityDeps, code: str) -> tuple[Invitation, User]:
    invitation = await get_invitation_by_code(session, code.strip().upper(), for_update=True)
    if invitation is None:
        raise NotFound("No invitation has this code.")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already used; log in instead.")
    if invitation.expires_at <= deps.clock():
        raise Gone("This invitation has expired; ask your company administrator for a new one.")
    user = await get_user(session, invitation.user_id)
    assert user is not None
    return invitation, user


async def start_registration(session: AsyncSession, deps: IdentityDeps, *, invitation_code: str,
                             channel: str) -> CodeSent:
    invitation, user = await _open_invitation(session, deps, invitation_code)
    destination = user.mobile if channel == "mobile" else user.email
    if not destination:
        raise BadRequest(f"The invitation has no {channel} to send a code to.")
    now = deps.clock()
    last = (await session.execute(
        select(VerificationCode).where(VerificationCode.invitation_id == invitation.id)
        .order_by(VerificationCode.created_at.desc()).limit(1))).scalar()
    if last is not None and (now - last.created_at).total_seconds() < deps.settings.verification_resend_seconds:
        wait = deps.settings.verification_resend_seconds - int((now - last.created_at).total_seconds())
        raise TooManyRequests(f"A code was sent moments ago; wait {wait}s before asking for another.",
                              headers={"Retry-After": str(max(wait, 1))})
    await session.execute(update(VerificationCode).where(VerificationCode.invitation_id == invitation.id,
                                                         VerificationCode.consumed_at.is_(None))
                          .values(superseded=True))
    code = new_verification_code()
    ttl = deps.settings.verification_code_ttl_seconds
    session.add(VerificationCode(invitation_id=invitation.id, channel=channel, destination=destination,
                                 code_hash=digest(code), expires_at=now + timedelta(seconds=ttl)))
    await session.flush()
    await deps.notifier.send(channel=channel, to=destination, subject="ESOP verification code",
                             body=f"Your ESOP verification code is {code}. It expires in {ttl // 60} minutes.",
                             meta={"purpose": "registration", "code": code, "user_id": str(user.id)})
    return CodeSent(channel=channel, destination=mask(destination), expires_in=ttl)


async def _check_code(session: AsyncSession, deps: IdentityDeps, invitation: Invitation, code: str) -> VerificationCode:
    """Accept the current code, or count a wrong try (kept even though the request fails)."""
    current = (await session.execute(
        select(VerificationCode).where(VerificationCode.invitation_id == invitation.id,
                                       VerificationCode.consumed_at.is_(None), VerificationCode.superseded.is_(False))
        .order_by(VerificationCode.created_at.desc()).limit(1).with_for_update())).scalar()
    limit = deps.settings.verification_code_max_attempts
    if current is None:
        raise BadRequest("No verification code is pending; ask for one first.")
    if current.expires_at <= deps.clock():
        raise Gone("The verification code has expired; ask for a new one.")
    if current.attempts >= limit:
        raise Gone("Too many wrong tries; this code no longer works. Ask for a new one.")
    if not same_digest(code.strip(), current.code_hash):
        current.attempts += 1
        left = limit - current.attempts
        raise BadRequest("The verification code is wrong." + (f" {left} tries left." if left else
                                                                 " The code no longer works; ask for a new one."),
                         keep_changes=True, tries_left=left)
    return current


async def complete_registration(session: AsyncSession, deps: IdentityDeps, *, invitation_code: str,
                                verification_code: str, password: str) -> User:
    invitation, user = await _open_invitation(session, deps, invitation_code)
    if problems := password_problems(password, name=user.name, email=user.email, mobile=user.mobile,
                                     employee_no=user.employee_no):
        raise Unprocessable("The password is too weak.", errors=[
            {"loc": ["body", "password"], "msg": p, "type": "password_policy"} for p in problems])
    code = await _check_code(session, deps, invitation, verification_code)
    now = deps.clock()
    code.consumed_at = now
    invitation.accepted_at = now
    user.password_hash = await deps.hashing(hash_password, password)
    if code.channel == "email":
        user.email_verified_at = now
    else:
        user.mobile_verified_at = now
    user.status = "active"
    user.registered_at = now
    await session.flush()
    await deps.publish(session, UserRegistered(
        user_id=user.id, tenant_id=user.tenant_id, name=user.name, email=user.email,  # type: ignore[arg-type]
        mobile=user.mobile, employee_no=user.employee_no, department=user.department, hire_date=user.hire_date,
        verified_channel=code.channel), subject=user.id, tenant_id=user.tenant_id)
    return user
