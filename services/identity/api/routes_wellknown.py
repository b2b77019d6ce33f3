from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from services.identity.handlers.keys import jwks
from shared.db import DbSession

router = APIRouter(tags=["discovery"])


@router.get("/.well-known/jwks.json", response_model=dict[str, Any], summary="Public keys that sign access tokens")
async def get_jwks(session: DbSession, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return await jwks(session)


@router.get("/.well-known/openid-configuration", response_model=dict[str, Any], summary="OpenID discovery document")
async def discovery(request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    issuer = settings.jwt_issuer.rstrip("/")
    return {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/me",
        "grant_types_supported": ["password", "refresh_token"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "claims_supported": ["sub", "tid", "sid", "roles", "scope", "iss", "aud", "exp", "iat"],
    }
