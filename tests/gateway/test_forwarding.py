"""The distributed gateway's forwarder against upstreams that misbehave (real sockets, real aiohttp)."""
from __future__ import annotations

import asyncio

import aiohttp
import httpx

from services.gateway.proxy import Forwarder
from tests.kafka_broker import free_port


async def _ask(forwarder: Forwarder) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=forwarder), base_url="http://gw") as client:
        return await client.get("/me")


class TestUpstreamProblems:
    """Regression: an upstream that never answered was a 502 after 30 s, and without `instance`."""

    async def test_an_upstream_that_does_not_answer_is_504(self) -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(65536)
            await asyncio.sleep(5)
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.5))
        try:
            resp = await _ask(Forwarder(f"http://127.0.0.1:{port}", lambda: session))
        finally:
            await session.close()
            server.close()
        assert resp.status_code == 504 and resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["instance"] == "/me"

    async def test_an_upstream_that_is_not_there_is_502(self) -> None:
        session = aiohttp.ClientSession()
        try:
            resp = await _ask(Forwarder(f"http://127.0.0.1:{free_port()}", lambda: session))
        finally:
            await session.close()
        assert resp.status_code == 502 and resp.headers["content-type"] == "application/problem+json"
