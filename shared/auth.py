"""Who is calling, and may they: the principal from a verified token, and permission checks."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import Forbidden, ServiceUnavailable, Unauthorized
from shared.http import ServiceClient
from shared.tokens import Claims, InvalidToken, KeysUnavailable

bearer = HTTPBearer(auto_error=False, description="Access token from identity's POST /token")


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    session_id: str | None
    roles: tuple[str, ...]
    token: str
    claims: Claims


async def get_principal(request: Request,
                        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise Unauthorized("A bearer access token is required.")
    try:
        claims = await request.app.state.verifier.verify(creds.credentials)
    except InvalidToken as exc:
        raise Unauthorized(str(exc)) from exc
    except KeysUnavailable as exc:
        raise ServiceUnavailable("Tokens cannot be verified right now; retry later.") from exc
    try:
        user_id = uuid.UUID(claims.sub)
        tenant_id = uuid.UUID(claims.tid) if claims.tid else None
    except ValueError as exc:
        raise Unauthorized("token subject is not a user") from exc
    return Principal(user_id, tenant_id, claims.sid, tuple(claims.roles), creds.credentials, claims)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


class PermissionChecker(Protocol):
    async def check(self, principal: Principal, permission: str, tenant_id: uuid.UUID | None) -> bool: ...


class RemotePermissionChecker:
    """Asks authz (the authority) and caches a grant briefly (a revoked role may work for `ttl_seconds`).
    A denial is not cached: a role granted a moment ago (a new user's, by event) works at once."""

    def __init__(self, client: ServiceClient, ttl_seconds: float = 5.0):
        self.client = client
        self.ttl = ttl_seconds
        self._granted: dict[tuple[str, str, str], float] = {}  # until when

    async def check(self, principal: Principal, permission: str, tenant_id: uuid.UUID | None) -> bool:
        key = (principal.token, permission, str(tenant_id))
        if self._granted.get(key, 0.0) > time.monotonic():
            return True
        # No tenant means something that belongs to no company: only a platform-wide grant may do it.
        body = {"permission": permission, "tenant_id": str(tenant_id) if tenant_id else None,
                "platform_wide": tenant_id is None}
        try:
            resp = await self.client.post("/check", json=body, idempotent=True,
                                          headers={"Authorization": f"Bearer {principal.token}"})
        except Exception as exc:  # noqa: BLE001
            raise ServiceUnavailable("The permission service is not reachable.") from exc
        if resp.status_code != 200:
            raise ServiceUnavailable(f"The permission service answered {resp.status_code}.")
        allowed = bool(resp.json()["allowed"])
        if allowed:
            if len(self._granted) > 10_000:
                self._granted.clear()
            self._granted[key] = time.monotonic() + self.ttl
        return allowed


def require_permission(permission: str, *, tenant_param: str | None = "tenant_id"):
    """Dependency: the caller must hold `permission` in the tenant named by the path parameter
    `tenant_param` (or, without one, in the caller's own tenant)."""

    async def dependency(request: Request, principal: CurrentPrincipal) -> Principal:
        raw = request.path_params.get(tenant_param) if tenant_param else None
        try:
            tenant_id = uuid.UUID(str(raw)) if raw else principal.tenant_id
        except ValueError:
            tenant_id = principal.tenant_id
        if not await request.app.state.permissions.check(principal, permission, tenant_id):
            raise Forbidden(f"Permission '{permission}' is required.", permission=permission)
        return principal

    dependency.__name__ = f"require_{permission.replace(':', '_')}"
    return Depends(dependency)
