"""Forwarding to a service over HTTP with a pooled aiohttp session (the distributed topology).

aiohttp is used on this hot path because it keeps several times the throughput of httpx
here (see README, "Gateway throughput")."""
from __future__ import annotations

from urllib.parse import quote

import aiohttp
from starlette.requests import Request
from starlette.types import Receive, Scope, Send
from yarl import URL

from shared.errors import problem_response
from shared.logs import request_id_var

PATH_SAFE = "/:@!$&'()*+,;=-._~"
HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailers",
              b"transfer-encoding", b"upgrade", b"host", b"content-length"}
# The gateway is the edge: it tells the service who the client is, and drops what the client said.
NOT_FORWARDED = HOP_BY_HOP | {b"x-forwarded-for", b"forwarded", b"x-forwarded-prefix"}


class Forwarder:
    """An ASGI app that forwards every request it gets to `upstream` (its mount path stripped)."""

    def __init__(self, upstream: str, session_provider):
        self.upstream = upstream.rstrip("/")
        self._session = session_provider

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"][len(scope.get("root_path", "")):] if scope.get("root_path") else scope["path"]
        # The decoded path is what the gateway checked; encode it again so that the service, which decodes
        # once, routes on exactly that path (never on a second decoding of %25..., %3F or %23).
        url = self.upstream + "/" + quote(path.lstrip("/"), safe=PATH_SAFE)  # never `host` + `@evil...`
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k not in NOT_FORWARDED]
        client = scope.get("client")
        if client:
            headers.append(("X-Forwarded-For", client[0]))
        if root := scope.get("root_path"):
            headers.append(("X-Forwarded-Prefix", root))  # so that problems name the path the client called
        if rid := request_id_var.get():
            headers = [h for h in headers if h[0].lower() != "x-request-id"] + [("X-Request-ID", rid)]
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        session: aiohttp.ClientSession = self._session()
        try:
            async with session.request(scope["method"], URL(url, encoded=True), headers=headers, data=body or None,
                                       allow_redirects=False) as resp:
                payload = await resp.read()
                out = [(k, v) for k, v in resp.raw_headers
                       if k.lower() not in HOP_BY_HOP and k.lower() != b"x-request-id"]
                status = resp.status
        except TimeoutError:
            await problem_response(Request(scope), 504, "Gateway Timeout",
                                   "The service behind this path did not answer in time.")(scope, receive, send)
            return
        except aiohttp.ClientError:
            await problem_response(Request(scope), 502, "Bad Gateway",
                                   "The service behind this path is not reachable.")(scope, receive, send)
            return
        out.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": payload})
