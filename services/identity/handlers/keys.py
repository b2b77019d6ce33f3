from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.persistence.repository import active_signing_keys
from services.identity.persistence.tables import SigningKeyRow
from shared.tokens import SigningKey


async def ensure_signing_key(session: AsyncSession) -> SigningKey:
    """The newest active signing key, created on first start (one creator even with replicas)."""
    await session.execute(text("select pg_advisory_xact_lock(hashtext('identity-signing-key'))"))
    keys = await active_signing_keys(session)
    if keys:
        return SigningKey(kid=keys[0].kid, private_pem=keys[0].private_pem)
    key = SigningKey.generate()
    session.add(SigningKeyRow(kid=key.kid, private_pem=key.private_pem))
    await session.flush()
    return key


async def jwks(session: AsyncSession) -> dict[str, Any]:
    keys = await active_signing_keys(session)
    return {"keys": [SigningKey(kid=k.kid, private_pem=k.private_pem).public_jwk() for k in keys]}
