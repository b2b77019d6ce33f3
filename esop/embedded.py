"""The embedded topology: every service in one process behind the gateway, the in-process bus."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from esop.registry import BACKEND_SERVICES, app_factory, settings_class
from services.gateway.app import create_app as create_gateway
from services.gateway.settings import GatewaySettings
from shared.bus import InProcessBus
from shared.service import Runtime


def build_platform(database_url: str, *, message_sink: Path, **overrides: Any) -> FastAPI:
    """The gateway app with every backend service mounted in-process."""
    bus = InProcessBus()
    apps: dict[str, FastAPI] = {}

    def peer_transport(name: str) -> httpx.AsyncBaseTransport:
        return httpx.ASGITransport(app=apps[name])

    runtime = Runtime(bus=bus, peer_transport=peer_transport)
    common = {"database_url": database_url, "message_sink": message_sink, **overrides}
    for name in BACKEND_SERVICES:
        settings = settings_class(name)(**common)
        apps[name] = app_factory(name)(settings, runtime)
    return create_gateway(GatewaySettings(**common), mounts=apps, bus=bus)
