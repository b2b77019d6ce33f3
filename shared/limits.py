"""Request bodies have a size limit: a small one for JSON, a larger one for file uploads.

A Content-Length over the limit is refused before anything is read; a body without one (chunked)
is counted as it arrives and refused as soon as it passes the limit, so that no request can make
a service hold or parse more than the limit."""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import problem_response


def _too_large(limit: int) -> str:
    return f"The request body is larger than {limit} bytes."


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int):
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    def limit_for(self, scope: Scope) -> int:
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
        return self.max_upload_bytes if content_type.startswith(b"multipart/form-data") else self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await problem_response(Request(scope), 413, detail=_too_large(limit))(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the app's own body reading: its error handler answers 413.
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)
