"""Permission checks inside authz itself: read the assignments directly, never over HTTP."""
from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.authz.domain.roles import is_allowed
from services.authz.persistence.repository import list_grants
from shared.auth import Principal


class LocalPermissionChecker:
    """A shared.auth.PermissionChecker that reads authz's own tables (no cache: always current)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]):
        self.sessionmaker = sessionmaker

    async def check(self, principal: Principal, permission: str, tenant_id: uuid.UUID | None) -> bool:
        async with self.sessionmaker() as session:
            grants = await list_grants(session, principal.user_id)
        return is_allowed(grants, permission, tenant_id)
