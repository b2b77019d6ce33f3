"""Token verification at the edge: a bearer token on an /api/ path must be valid before the
request goes any further. Requests without a token pass; the service decides if it needs one."""
from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.errors import problem_response
from shared.tokens import InvalidToken, TokenVerifier


class VerifyTokenMiddleware:
    def __init__(self, app: ASGIApp, verifier_provider, prefix: str = "/api/"):
        self.app = app
        self.verifier = verifier_provider
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            auth = next((v for k, v in scope["headers"] if k == b"authorization"), None)
            if auth is not None:
                scheme, _, token = auth.decode("latin-1").partition(" ")
                verifier: TokenVerifier = self.verifier()
                try:
                    if scheme.lower() != "bearer" or not token:
                        raise InvalidToken("Authorization must be 'Bearer <token>'")
                    await verifier.verify(token.strip())
                except InvalidToken as exc:
                    response = problem_response(None, 401, "Unauthorized", str(exc),
                                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
                    await response(scope, receive, send)
                    return
                except Exception:  # noqa: BLE001 - identity unreachable: fail closed
                    response = problem_response(None, 503, "Service Unavailable",
                                                "Tokens cannot be verified right now; retry later.")
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
