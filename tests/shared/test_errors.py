"""What a service answers when what it stands on is not there."""
from __future__ import annotations

import socket

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from shared.db import make_engine, make_sessionmaker
from shared.errors import install_error_handlers


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestDatabaseUnreachable:
    """Regression: a service whose database could not be reached answered 500 'unexpected error'
    (the driver's ConnectionRefusedError or TimeoutError escaped the problem handlers)."""

    async def test_it_is_503_problem_with_retry_after(self) -> None:
        app = FastAPI()
        install_error_handlers(app)
        engine = make_engine(f"postgresql://postgres@127.0.0.1:{_closed_port()}/nowhere", "profile")

        @app.get("/thing")
        async def thing() -> dict:
            async with make_sessionmaker(engine)() as session:
                await session.execute(text("select 1"))
            return {}

        try:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                resp = await client.get("/thing")
        finally:
            await engine.dispose()
        assert resp.status_code == 503, resp.text
        assert resp.headers["content-type"] == "application/problem+json" and resp.headers["retry-after"] == "1"
