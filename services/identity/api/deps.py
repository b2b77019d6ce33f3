from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.identity.deps import IdentityDeps
from services.identity.handlers.sessions import ClientInfo


def _deps(request: Request) -> IdentityDeps:
    return request.app.state.identity


def _client(request: Request) -> ClientInfo:
    """The peer's address as the server resolved it: uvicorn takes X-Forwarded-For only from the
    proxies it trusts (FORWARDED_ALLOW_IPS: the gateway); a header the client wrote is not believed."""
    ip = request.client.host if request.client else None
    return ClientInfo(ip=ip[:64] if ip else None, user_agent=request.headers.get("user-agent"))


Deps = Annotated[IdentityDeps, Depends(_deps)]
Client = Annotated[ClientInfo, Depends(_client)]
