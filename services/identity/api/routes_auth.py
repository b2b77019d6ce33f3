from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from services.identity.api.deps import Client, Deps
from services.identity.api.schemas import (
    LoginRequest,
    Me,
    RefreshRequest,
    RegistrationCodeSent,
    RegistrationComplete,
    RegistrationStart,
    TokenResponse,
    UserRead,
)
from services.identity.handlers import registration, sessions
from services.identity.persistence.repository import get_user, roles_of
from shared.auth import CurrentPrincipal
from shared.db import DbSession
from shared.errors import Unauthorized, problem_responses

router = APIRouter(tags=["registration and login"])


def _tokens(pair: sessions.TokenPair) -> TokenResponse:
    return TokenResponse(access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token,
                         refresh_expires_in=pair.refresh_expires_in)


@router.post("/registrations/code", response_model=RegistrationCodeSent, status_code=202,
             summary="Send a one-time verification code for an invitation",
             description="Sends a 6-digit code to the invitation's mobile or email. It expires after 5 minutes and "
                         "stops working after 5 wrong tries. Asking again replaces the previous code.",
             responses=problem_responses(400, 404, 409, 410, 422, 429))
async def send_code(body: RegistrationStart, session: DbSession, deps: Deps) -> RegistrationCodeSent:
    sent = await registration.start_registration(session, deps, invitation_code=body.invitation_code,
                                                 channel=body.channel)
    return RegistrationCodeSent(channel=sent.channel, destination=sent.destination, expires_in=sent.expires_in)


@router.post("/registrations", response_model=UserRead, status_code=201, summary="Register with an invitation",
             description="Completes registration with the invitation code, the verification code and a new "
                         "password (10 to 128 characters, not containing your name, mobile, email or employee "
                         "number). Then log in with `POST /token`.",
             responses=problem_responses(400, 404, 409, 410, 422))
async def register(body: RegistrationComplete, session: DbSession, deps: Deps) -> UserRead:
    user = await registration.complete_registration(session, deps, invitation_code=body.invitation_code,
                                                    verification_code=body.verification_code, password=body.password)
    return UserRead.model_validate(user)


@router.post("/token", response_model=TokenResponse, summary="Log in with a password",
             description="Returns a 15-minute access token (ES256 JWT; verify with `/.well-known/jwks.json`) and a "
                         "refresh token. Five wrong passwords in a row lock the account for 1 minute, then 2, 4, … up to "
                         "15 (429 with `Retry-After`). Where the login and password open several accounts, choose "
                         "with `tenant_id` (a company's) or `platform: true` (the platform staff account).",
             responses=problem_responses(400, 401, 422, 429))
async def token(body: LoginRequest, session: DbSession, deps: Deps, client: Client) -> TokenResponse:
    return _tokens(await sessions.login(session, deps, login=body.login, password=body.password,
                                        tenant_id=body.tenant_id, platform=body.platform, client=client))


@router.post("/token/refresh", response_model=TokenResponse, summary="Swap a refresh token for new tokens",
             description="Refresh tokens rotate: each works once. Presenting one that was already used ends the "
                         "session (it was replayed or stolen), and the caller must log in again.",
             responses=problem_responses(401, 422))
async def refresh(body: RefreshRequest, session: DbSession, deps: Deps) -> TokenResponse:
    return _tokens(await sessions.refresh(session, deps, refresh_token=body.refresh_token))


@router.post("/logout", status_code=204, summary="End the current session",
             description="Revokes the session of the access token and all its refresh tokens. Idempotent.",
             responses=problem_responses(401))
async def logout(principal: CurrentPrincipal, session: DbSession, deps: Deps) -> Response:
    if principal.session_id:
        await sessions.logout(session, deps, session_id=uuid.UUID(principal.session_id), user_id=principal.user_id)
    return Response(status_code=204)


@router.get("/me", response_model=Me, summary="The logged-in user", responses=problem_responses(401))
async def me(principal: CurrentPrincipal, session: DbSession) -> Me:
    if not await sessions.session_is_active(session, principal.session_id):
        raise Unauthorized("The session has ended; log in again.")
    user = await get_user(session, principal.user_id)
    if user is None:
        raise Unauthorized("The account no longer exists.")
    roles = await roles_of(session, user.id, user.tenant_id)
    return Me(**UserRead.model_validate(user).model_dump(), roles=roles, session_id=principal.session_id)
