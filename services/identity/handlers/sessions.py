"""Login, refresh-token rotation with reuse detection, logout."""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.deps import IdentityDeps
from services.identity.domain.contact import InvalidContact, looks_like_email, normalize_email, normalize_mobile
from services.identity.domain.credentials import digest, new_opaque_token, verify_password
from services.identity.events import LoginFailed, SessionRevoked, UserLoggedIn, UserLoggedOut
from services.identity.persistence.repository import (
    find_users_by_login,
    get_login_throttle,
    get_refresh_token,
    get_user,
    revoke_session,
    roles_of,
)
from services.identity.persistence.tables import LoginThrottle, RefreshToken, Session, User
from shared.errors import BadRequest, TooManyRequests, Unauthorized
from shared.tokens import issue_token


@dataclass
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: uuid.UUID


@dataclass
class ClientInfo:
    ip: str | None
    user_agent: str | None


async def _issue(session: AsyncSession, deps: IdentityDeps, user: User, sess: Session) -> TokenPair:
    s = deps.settings
    assert deps.signing_key is not None
    roles = await roles_of(session, user.id, user.tenant_id)
    access = issue_token(deps.signing_key, issuer=s.jwt_issuer, audience=s.jwt_audience, subject=str(user.id),
                         ttl_seconds=s.access_token_ttl_seconds,
                         tid=str(user.tenant_id) if user.tenant_id else None, sid=str(sess.id), roles=roles,
                         scope="openid profile")
    refresh = new_opaque_token()
    session.add(RefreshToken(session_id=sess.id, token_hash=digest(refresh),
                             expires_at=deps.clock() + timedelta(seconds=s.refresh_token_ttl_seconds)))
    await session.flush()
    return TokenPair(access, s.access_token_ttl_seconds, refresh, s.refresh_token_ttl_seconds, sess.id)


def _parse_login(login: str, region: str) -> tuple[str | None, str | None]:
    try:
        if looks_like_email(login):
            return normalize_email(login), None
        return None, normalize_mobile(login, region)
    except InvalidContact:
        return None, None


async def _fail(session: AsyncSession, deps: IdentityDeps, user: User | None, reason: str, client: ClientInfo,
                now: datetime) -> None:
    await deps.publish(session, LoginFailed(user_id=user.id if user else None, tenant_id=user.tenant_id if user else None,
                                            reason=reason, ip=client.ip, user_agent=client.user_agent, at=now),
                       subject=user.id if user else None, tenant_id=user.tenant_id if user else None)


def _locked(user: User | LoginThrottle, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def _locked_out(locked_until: datetime, now: datetime) -> TooManyRequests:
    wait = math.ceil((locked_until - now).total_seconds())
    minutes = math.ceil(wait / 60)
    return TooManyRequests(f"Too many failed logins; try again in {minutes} minute{'s' if minutes > 1 else ''}.",
                           headers={"Retry-After": str(wait)}, keep_changes=True)


def _login_key(login: str, email: str | None, mobile: str | None) -> str:
    """The digest of a login name as the platform reads it (a mobile however written is one name)."""
    return digest(f"email:{email}" if email else f"mobile:{mobile}" if mobile else f"raw:{login.strip().casefold()}")


def _count_failure(deps: IdentityDeps, user: User | LoginThrottle, now: datetime) -> None:
    """Five failures in a row lock the account: 1 minute, then 2, 4, ... up to the configured maximum."""
    user.failed_logins += 1
    if user.failed_logins >= deps.settings.login_max_failures:
        user.lockouts += 1
        seconds = min(deps.settings.lockout_seconds, 60 * 2 ** (user.lockouts - 1))
        user.locked_until = now + timedelta(seconds=seconds)
        user.failed_logins = 0


async def login(session: AsyncSession, deps: IdentityDeps, *, login: str, password: str,
                tenant_id: uuid.UUID | None, client: ClientInfo, platform: bool = False) -> TokenPair:
    """One login name may belong to accounts in several companies (and the platform's): the password
    decides which, and where it opens several, `tenant_id` or `platform` does."""
    now = deps.clock()
    email, mobile = _parse_login(login, deps.settings.phone_region)
    # Failures count on the login name for every login, whether or not (and however scoped) it opens an
    # account, so the answers never tell who is on the platform; an account also locks on its own, for
    # its other names. Lock order: the name, then the accounts.
    throttle = await get_login_throttle(session, _login_key(login, email, mobile))
    candidates = list(await find_users_by_login(session, email=email, mobile=mobile, tenant_id=tenant_id,
                                                platform=platform))
    one = candidates[0] if len(candidates) == 1 else None
    open_ = [u for u in candidates if not _locked(u, now)]
    if _locked(throttle, now) or (candidates and not open_):
        await deps.hashing(verify_password, password, None)
        await _fail(session, deps, one, "locked", client, now)
        until = max(u.locked_until for u in (throttle, *candidates) if _locked(u, now))  # type: ignore[type-var]
        raise _locked_out(until, now)
    if not open_:
        await deps.hashing(verify_password, password, None)
    matches = [u for u in open_ if await deps.hashing(verify_password, password, u.password_hash)]
    if len(matches) > 1:
        await _fail(session, deps, None, "ambiguous", client, now)
        staff = " (or platform: true for the platform account)" if any(u.tenant_id is None for u in matches) else ""
        raise BadRequest(f"This login and password open accounts in several companies; give tenant_id{staff}.",
                         keep_changes=True)
    if not matches:
        for counted in (throttle, *open_):
            _count_failure(deps, counted, now)
        await _fail(session, deps, one, "bad_credentials", client, now)
        raise Unauthorized("The login or password is wrong.", keep_changes=True)
    user = matches[0]
    for cleared in (user, throttle):
        cleared.failed_logins, cleared.lockouts, cleared.locked_until = 0, 0, None
    sess = Session(id=uuid.uuid4(), user_id=user.id, tenant_id=user.tenant_id, ip=client.ip,
                   user_agent=(client.user_agent or "")[:400] or None)
    session.add(sess)
    await session.flush()
    await deps.publish(session, UserLoggedIn(user_id=user.id, tenant_id=user.tenant_id, session_id=sess.id,
                                             ip=client.ip, user_agent=sess.user_agent, at=now),
                       subject=user.id, tenant_id=user.tenant_id)
    return await _issue(session, deps, user, sess)


async def refresh(session: AsyncSession, deps: IdentityDeps, *, refresh_token: str) -> TokenPair:
    now = deps.clock()
    row = await get_refresh_token(session, digest(refresh_token))
    if row is None:
        raise Unauthorized("The refresh token is not valid.")
    sess = await session.get(Session, row.session_id, with_for_update=True)
    assert sess is not None
    if sess.revoked_at is not None:
        raise Unauthorized("The session has ended; log in again.")
    if row.used_at is not None:
        # A rotated token came back: it was stolen or replayed. End the whole session.
        await revoke_session(session, sess, "refresh_token_reuse", now)
        await deps.publish(session, SessionRevoked(user_id=sess.user_id, tenant_id=sess.tenant_id, session_id=sess.id,
                                                   reason="refresh_token_reuse"),
                           subject=sess.user_id, tenant_id=sess.tenant_id)
        raise Unauthorized("The refresh token was already used; the session has been ended. Log in again.",
                           keep_changes=True)
    if row.expires_at <= now:
        raise Unauthorized("The refresh token has expired; log in again.")
    user = await get_user(session, sess.user_id)
    if user is None or user.status != "active":
        raise Unauthorized("The account is not active.")
    row.used_at = now
    return await _issue(session, deps, user, sess)


async def logout(session: AsyncSession, deps: IdentityDeps, *, session_id: uuid.UUID, user_id: uuid.UUID) -> None:
    sess = await session.get(Session, session_id, with_for_update=True)
    if sess is None or sess.user_id != user_id or sess.revoked_at is not None:
        return  # already logged out: logout is idempotent
    now = deps.clock()
    await revoke_session(session, sess, "logout", now)
    await deps.publish(session, UserLoggedOut(user_id=user_id, tenant_id=sess.tenant_id, session_id=sess.id, at=now),
                       subject=user_id, tenant_id=sess.tenant_id)


async def session_is_active(session: AsyncSession, session_id: str | None) -> bool:
    if not session_id:
        return False
    try:
        sess = await session.get(Session, uuid.UUID(session_id))
    except ValueError:
        return False
    return sess is not None and sess.revoked_at is None
