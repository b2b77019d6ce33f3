"""The gateway as clients see it: one origin, tokens checked at the edge, sessions revoked by event."""
from __future__ import annotations

from tests.flows import ID, auth, company_with_employees, eventually, make_platform_admin, login


class TestRevokedSessions:
    """Regression: after logout the access token still worked at every service but identity."""

    async def test_a_logged_out_token_stops_working_everywhere(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        assert (await platform.client.get("/api/v1/profile/me", headers=auth(person.token))).status_code == 200
        assert (await platform.client.post(f"{ID}/logout", headers=auth(person.token))).status_code == 204

        async def refused() -> bool:
            resp = await platform.client.get("/api/v1/lifecycle/me/stage", headers=auth(person.token))
            return resp.status_code == 401 and resp.headers["content-type"] == "application/problem+json"

        await eventually(refused, timeout=5, what="the gateway to refuse the ended session")
        resp = await platform.client.get("/api/v1/profile/me", headers=auth(person.token))
        assert resp.status_code == 401 and resp.json()["instance"] == "/api/v1/profile/me"
        await login(platform.client, person)
        assert (await platform.client.get("/api/v1/profile/me", headers=auth(person.token))).status_code == 200


class TestEdge:
    async def test_one_request_id_per_response_and_it_follows_the_client(self, platform) -> None:
        resp = await platform.client.get(f"{ID}/.well-known/openid-configuration")
        assert len(resp.headers.get_list("x-request-id")) == 1
        resp = await platform.client.get(f"{ID}/.well-known/openid-configuration", headers={"X-Request-ID": "abc-1"})
        assert resp.headers.get_list("x-request-id") == ["abc-1"]

    async def test_service_metrics_are_not_public(self, platform) -> None:
        for service in ("identity", "profile"):
            assert (await platform.client.get(f"/api/v1/{service}/metrics")).status_code == 404
        assert (await platform.client.get("/metrics")).status_code == 200

    async def test_gateway_metrics_tell_services_apart(self, platform) -> None:
        """Regression: identity's GET /me and profile's GET /me were one series at the gateway."""
        for service in ("identity", "profile"):
            await platform.client.get(f"/api/v1/{service}/me")
        text = (await platform.client.get("/metrics")).text
        for service in ("identity", "profile"):
            assert f'route="/api/v1/{service}/me"' in text, text[:2000]

    async def test_health_lists_every_service(self, platform) -> None:
        body = (await platform.client.get("/health")).json()
        assert body["status"] == "ok"
        assert set(body["services"]) == {"identity", "authz", "profile", "activity", "feedback", "lifecycle"}

    async def test_docs_are_served_without_a_cdn(self, platform) -> None:
        page = await platform.client.get("/docs")
        assert page.status_code == 200 and "/docs-static/swagger-ui-bundle.js" in page.text
        assert (await platform.client.get("/docs-static/swagger-ui-bundle.js")).status_code == 200


class TestFeedbackNeedsTheRight:
    async def test_a_platform_admin_without_a_company_cannot_submit_feedback(self, platform) -> None:
        root = await make_platform_admin(platform.database_url)
        await login(platform.client, root)
        resp = await platform.client.post("/api/v1/feedback/feedback", headers=auth(root.token),
                                          json={"type": "question", "text": "x"})
        assert resp.status_code == 403


class TestRevocationsSurviveARestart:
    """Regression: the gateway kept ended sessions only in memory; after a restart a logged-out
    token worked again at every service but identity."""

    async def test_a_new_gateway_learns_the_ended_sessions_from_identity(self, platform) -> None:
        import httpx

        from esop.embedded import build_platform

        company = await company_with_employees(platform, 1)
        person = company.employees[0]
        assert (await platform.client.post(f"{ID}/logout", headers=auth(person.token))).status_code == 204
        fresh = build_platform(platform.database_url, message_sink=platform.message_sink)
        async with fresh.router.lifespan_context(fresh):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fresh), base_url="http://t") as client:
                async def refused() -> bool:
                    resp = await client.get("/api/v1/profile/me", headers=auth(person.token))
                    return resp.status_code == 401

                await eventually(refused, timeout=5, what="the restarted gateway to know the ended session")
                internal = await client.get(f"{ID}/internal/revoked-sessions")
                assert internal.status_code == 404, "internal routes are not served through the gateway"


class TestPlatformWideChecks:
    """Regression: a check for a record without a tenant (the platform admin's) was answered for the
    caller's own company, so any company admin could read the platform admin's lifecycle."""

    async def test_a_company_admin_cannot_read_the_platform_admins_records(self, platform) -> None:
        root = await make_platform_admin(platform.database_url)
        await login(platform.client, root)
        company = await company_with_employees(platform, 0 + 1, root)
        for path in (f"/api/v1/lifecycle/users/{root.user_id}/stage", f"/api/v1/lifecycle/users/{root.user_id}/history"):
            async def settled() -> bool:
                return (await platform.client.get(path, headers=auth(root.token))).status_code == 200

            await eventually(settled, what="the platform admin's stage")
            resp = await platform.client.get(path, headers=auth(company.admin.token))
            assert resp.status_code == 403, path


class TestUpstreamsDown:
    """Regression: with a service unreachable, the merged OpenAPI answered a body that was not a problem."""

    async def test_the_forwarding_gateway_answers_problems_when_no_service_is_up(self) -> None:
        import httpx

        from services.gateway.app import SERVICES, create_app
        from services.gateway.settings import GatewaySettings
        from tests.kafka_broker import free_port

        nowhere = {f"{n}_url": f"http://127.0.0.1:{free_port()}" for n in SERVICES}
        app = create_app(GatewaySettings(**nowhere))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                for path in ("/openapi.json", "/health", "/readyz", "/api/v1/identity/.well-known/jwks.json"):
                    resp = await client.get(path)
                    assert resp.status_code in (502, 503, 504), (path, resp.status_code)
                    if path not in ("/health", "/readyz"):  # health bodies say which check failed
                        assert resp.headers["content-type"] == "application/problem+json", path
                        assert resp.json()["status"] == resp.status_code and resp.json()["title"], path
                assert (await client.get("/health")).json()["services"]["identity"]["status"] == "unreachable"


class TestBodyLimits:
    """Regression: a 200 MB JSON body to /token was read and parsed whole (memory grew by 280 MB)."""

    async def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(self, platform) -> None:
        huge = b'{"login": "a@example.com", "password": "' + b"x" * (1024 * 1024) + b'"}'
        resp = await platform.client.post(f"{ID}/token", content=huge, headers={"content-type": "application/json"})
        assert resp.status_code == 413 and resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["status"] == 413 and "1048576 bytes" in resp.json()["detail"]
        assert resp.json()["title"] == "Content Too Large"  # regression: also 'Request Entity Too Large' (RFC 7231's)

    async def test_a_chunked_body_is_cut_off_at_the_limit(self, platform) -> None:
        sent = 0

        async def stream():
            nonlocal sent
            for _ in range(64):  # 4 MiB in all, were it read to the end
                sent += 65536
                yield b" " * 65536

        resp = await platform.client.post(f"{ID}/token", content=stream(), headers={"content-type": "application/json"})
        assert resp.status_code == 413 and resp.json()["status"] == 413
        assert sent <= 2 * 1024 * 1024, f"{sent} bytes were read"

    async def test_uploads_have_a_larger_limit_and_small_json_passes(self, platform) -> None:
        company = await company_with_employees(platform, 0 + 1)
        roster = f"{ID}/tenants/{company.tenant_id}/roster"
        big = b"name,mobile\n" + b"x" * (7 * 1024 * 1024)
        resp = await platform.client.post(roster, headers=auth(company.admin.token),
                                          files={"file": ("r.csv", big, "text/csv")})
        assert resp.status_code == 413 and "6291456 bytes" in resp.json()["detail"]
        fine = await platform.client.post(roster, headers=auth(company.admin.token),
                                          files={"file": ("r.csv", b"name,mobile\n" + b"x" * (2 * 1024 * 1024), "text/csv")})
        assert fine.status_code == 422, "a 2 MB upload is read (and its rows refused), not cut off"
        resp = await platform.client.post(f"{ID}/token", json={"login": "a@example.com", "password": "y" * 200})
        assert resp.status_code == 401
