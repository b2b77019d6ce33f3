"""The distributed topology end to end: every service in its own process, the real Postgres,
a real Kafka-protocol broker; the demo's main job through the gateway; every service's view checked."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from esop.demo import bearer, run_demo
from tests import pg
from tests.e2e.processes import Deployment
from tests.flows import eventually

ADMIN_EMAIL = "root@esop.example.com"
ADMIN_PASSWORD = "Platform-Owner-Passw0rd!"


@pytest.fixture(scope="module")
def deployment(pg_server: str, kafka_broker: str, tmp_path_factory) -> Iterator[Deployment]:
    name = f"esop_e2e_{uuid.uuid4().hex[:8]}"
    url = pg.create_database(pg_server, name)  # empty: every service migrates its own schema on start
    dep = Deployment(url, kafka_broker, tmp_path_factory.mktemp("e2e"))
    try:
        dep.start_all()
        created = dep.esop("admin", "create", "--email", ADMIN_EMAIL, "--name", "Root", "--password", ADMIN_PASSWORD)
        assert created.returncode == 0, created.stderr
        yield dep
    finally:
        dep.stop_all()
        pg.drop_database(pg_server, name)


class TestMainJobAcrossProcesses:
    async def test_demo_flow_through_the_gateway_and_every_services_view(self, deployment: Deployment) -> None:
        summary = await run_demo(deployment.gateway, employees=4, roster=None, message_sink=deployment.message_sink,
                                 admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD, feedback_share=1.0,
                                 concurrency=4)
        tenant = summary["tenant_id"]
        assert summary["stages"]["active"] == 5  # four employees and the company admin
        assert summary["feedback_items"] == 4
        assert summary["logins"]["successes"] >= 5
        for consumer in ("authz", "profile", "activity", "lifecycle", "identity"):
            assert summary["lag"][consumer]["handled"] > 0, consumer
            assert summary["lag"][consumer]["dead_letters"] == 0

        async with httpx.AsyncClient(base_url=deployment.gateway, timeout=30) as client:
            token = (await client.post("/api/v1/identity/token",
                                       json={"login": ADMIN_EMAIL, "password": ADMIN_PASSWORD})).json()["access_token"]
            stages = (await client.get(f"/api/v1/lifecycle/tenants/{tenant}/stages", headers=bearer(token))).json()
            assert stages["counts"]["active"] == 5
            logins = (await client.get(f"/api/v1/activity/tenants/{tenant}/logins", headers=bearer(token))).json()
            assert len(logins["items"]) >= 5
            # Logout reaches the gateway through Kafka: the token stops working at every service.
            assert (await client.get("/api/v1/profile/me", headers=bearer(token))).status_code == 404
            assert (await client.post("/api/v1/identity/logout", headers=bearer(token))).status_code == 204

            async def refused() -> bool:
                return (await client.get("/api/v1/lifecycle/me/stage", headers=bearer(token))).status_code == 401

            await eventually(refused, timeout=30, what="the logout to reach the gateway")
            health = await client.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "ok"
            merged = (await client.get("/openapi.json")).json()
            assert "/api/v1/identity/tenants/{tenant_id}/roster" in merged["paths"]
            assert "/api/v1/feedback/feedback" in merged["paths"]
            # Every service agrees on the one public origin it was given (PUBLIC_URL): the gateway's.
            discovery = (await client.get("/api/v1/identity/.well-known/openid-configuration")).json()
            assert discovery["issuer"] == f"{deployment.gateway}/api/v1/identity"
            assert (await client.get(discovery["jwks_uri"])).json()["keys"]

    async def test_the_gateway_refuses_bad_tokens_and_reports_upstream_problems(self, deployment: Deployment) -> None:
        async with httpx.AsyncClient(base_url=deployment.gateway, timeout=30) as client:
            resp = await client.get("/api/v1/profile/me", headers=bearer("not-a-token"))
            assert resp.status_code == 401 and resp.headers["content-type"] == "application/problem+json"
            resp = await client.get("/api/v1/profile/me")
            assert resp.status_code == 401
            # Regression: a service's problem named its own path (/me), not the one the client called.
            assert resp.json()["instance"] == "/api/v1/profile/me"
            resp = await client.get("/api/v1/lifecycle/users/not-a-uuid/stage", headers={"X-Forwarded-Prefix": "/x"})
            assert resp.status_code in (401, 422) and resp.json()["instance"] == "/api/v1/lifecycle/users/not-a-uuid/stage"
            resp = await client.post("/api/v1/identity/token", content=b"{", headers={"content-type": "application/json"})
            assert resp.status_code == 400 and resp.json()["status"] == 400
            assert "x-request-id" in resp.headers

    async def test_encoded_paths_cannot_reach_metrics_or_internal_routes(self, deployment: Deployment) -> None:
        """Regression: the gateway checked the decoded path but forwarded it undecoded-again, so
        `%256detrics` reached identity's /metrics and `%2569nternal/...` its internal routes."""
        since = "2000-01-01T00:00:00Z"
        async with httpx.AsyncClient(base_url=deployment.gateway, timeout=30) as client:
            for path in ("/api/v1/identity/%256detrics", "/api/v1/identity/metrics%23", "/api/v1/authz/metrics%3F",
                         "/api/v1/identity/%2569nternal/revoked-sessions",
                         "/api/v1/identity/internal%252Frevoked-sessions", "/api/v1/identity/metrics",
                         # Regression: a trailing newline made the rest of the path the URL's authority.
                         "/api/v1/identity/metrics%0a", f"/api/v1/profile/@127.0.0.1:{deployment.ports['identity']}"
                                                        "/metrics%0a", "/api/v1/identity/me%0d%0a"):
                resp = await client.get(httpx.URL(deployment.gateway + path), params={"since": since})
                assert resp.status_code == 404, (path, resp.status_code, resp.text[:200])
                assert resp.headers["content-type"] == "application/problem+json", path
            # A path whose parameter needs encoding still reaches its route, decoded once.
            resp = await client.get("/api/v1/lifecycle/users/%E5%BC%A0/stage")
            assert resp.status_code in (401, 422), resp.text
