"""Events identity consumes: authz's role changes (for the `roles` claim) and its own
`user.invited` (the invitation message goes out only once the invitation is committed)."""
from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.deps import IdentityDeps
from services.identity.handlers.invitations import send_invitation
from services.identity.persistence.repository import add_role, remove_role
from shared.events import CloudEvent
from shared.inbox import EventHandler


def _tenant_key(event: CloudEvent) -> str:
    return str(event.data["tenant_id"]) if event.data.get("tenant_id") else "*"


async def on_role_assigned(session: AsyncSession, event: CloudEvent) -> None:
    await add_role(session, uuid.UUID(event.data["user_id"]), _tenant_key(event), event.data["role"])


async def on_role_revoked(session: AsyncSession, event: CloudEvent) -> None:
    await remove_role(session, uuid.UUID(event.data["user_id"]), _tenant_key(event), event.data["role"])


def build_consumers(deps: IdentityDeps) -> dict[str, EventHandler]:
    async def on_user_invited(session: AsyncSession, event: CloudEvent) -> None:
        await send_invitation(session, deps, uuid.UUID(event.data["user_id"]))

    return {
        "esop.authz.role.assigned": on_role_assigned,
        "esop.authz.role.revoked": on_role_revoked,
        "esop.identity.user.invited": on_user_invited,
    }
