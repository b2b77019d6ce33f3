"""Fixtures: `services` (authz and profile on their own, see harness.py) and, from tests/conftest.py,
`platform` (the whole platform behind the gateway)."""
from tests.authz.harness import services  # noqa: F401
