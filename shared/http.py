"""Service-to-service HTTP client: timeouts, retries of idempotent calls, request-id propagation.

In the embedded topology the transport is an in-process ASGI transport to the peer app.
"""
from __future__ import annotations

import asyncio
from typing import Any

import httpx

from shared.logs import request_id_var


class ServiceClient:
    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None,
                 timeout: float = 5.0, retries: int = 2):
        self.retries = retries
        self._client = httpx.AsyncClient(base_url=base_url, transport=transport, timeout=timeout)

    async def request(self, method: str, url: str, *, idempotent: bool | None = None, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", None) or {})
        if rid := request_id_var.get():
            headers.setdefault("X-Request-ID", rid)
        retryable = idempotent if idempotent is not None else method.upper() in {"GET", "HEAD", "PUT", "DELETE"}
        attempts = 1 + (self.retries if retryable else 0)
        for attempt in range(attempts):
            try:
                return await self._client.request(method, url, headers=headers, **kw)
            except (httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError):
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.1 * 2 ** attempt)
        raise AssertionError("unreachable")

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        return await self.request("GET", url, **kw)

    async def post(self, url: str, **kw: Any) -> httpx.Response:
        return await self.request("POST", url, **kw)

    async def aclose(self) -> None:
        await self._client.aclose()
