from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.deps import IdentityDeps
from services.identity.persistence.repository import get_invitation_of_user, get_tenant, get_user


async def send_invitation(session: AsyncSession, deps: IdentityDeps, user_id: uuid.UUID) -> None:
    """Tell an invited person their invitation code, by email and SMS."""
    invitation = await get_invitation_of_user(session, user_id)
    user = await get_user(session, user_id)
    if invitation is None or user is None or invitation.accepted_at is not None:
        return
    tenant = await get_tenant(session, invitation.tenant_id)
    company = tenant.name if tenant else "your company"
    where = deps.settings.registration_url
    body = (f"{user.name}, {company} invites you to the ESOP platform. Your invitation code is {invitation.code}"
            + (f"; register at {where}." if where else "."))
    for channel, to in (("email", user.email), ("mobile", user.mobile)):
        if to:
            await deps.notifier.send(channel=channel, to=to, subject="Your ESOP invitation", body=body,
                                     meta={"purpose": "invitation", "invitation_code": invitation.code,
                                           "user_id": str(user.id), "tenant_id": str(invitation.tenant_id)})
