"""The services this platform is made of, and how to build each one's app."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

# Order matters for migrations only in that it is stable; services never depend on each other's schema.
BACKEND_SERVICES = ["identity", "authz", "profile", "activity", "feedback", "lifecycle"]
ALL_SERVICES = [*BACKEND_SERVICES, "gateway"]


def app_factory(name: str) -> Callable[..., FastAPI]:
    return importlib.import_module(f"services.{name}.app").create_app


def settings_class(name: str) -> type[Any]:
    module = importlib.import_module(f"services.{name}.settings")
    return next(v for k, v in vars(module).items() if k.endswith("Settings") and k != "BaseServiceSettings"
                and isinstance(v, type))
