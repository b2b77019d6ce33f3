"""Token verification at the edge: a bearer token on an /api/ path must be valid, and its session
not ended, before the request goes any further. Requests without a token pass; the service decides
if it needs one. Service metrics and /internal/ routes are not served to the outside."""
from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.revocations import RevokedSessions

from shared.errors import problem_response
from shared.tokens import InvalidToken, TokenVerifier


def served_outside(path: str) -> bool:
    """Whether the gateway serves a service's path to clients: never metrics or /internal/, and never a
    path with a control character in it (a trailing newline slips past route patterns' `$`)."""
    if not path.isprintable():
        return False
    return not (path.rstrip("/").endswith("/metrics") or "/internal/" in path)


class VerifyTokenMiddleware:
    def __init__(self, app: ASGIApp, verifier_provider, revoked: RevokedSessions, prefix: str = "/api/"):
        self.app = app
        self.verifier = verifier_provider
        self.revoked = revoked
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            if not served_outside(scope["path"]):
                await problem_response(Request(scope), 404, "Not Found")(scope, receive, send)
                return
            auth = next((v for k, v in scope["headers"] if k == b"authorization"), None)
            if auth is not None:
                scheme, _, token = auth.decode("latin-1").partition(" ")
                verifier: TokenVerifier = self.verifier()
                try:
                    if scheme.lower() != "bearer" or not token:
                        raise InvalidToken("Authorization must be 'Bearer <token>'")
                    claims = await verifier.verify(token.strip())
                    if self.revoked.is_revoked(claims.sid):
                        raise InvalidToken("The session has ended; log in again.")
                except InvalidToken as exc:
                    response = problem_response(Request(scope), 401, "Unauthorized", str(exc),
                                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
                    await response(scope, receive, send)
                    return
                except Exception:  # noqa: BLE001 - identity unreachable: fail closed
                    response = problem_response(Request(scope), 503, "Service Unavailable",
                                                "Tokens cannot be verified right now; retry later.")
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
