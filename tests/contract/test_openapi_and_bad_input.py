"""The published API as a contract: a usable OpenAPI, an event catalogue, and no 500s on bad input."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from esop.registry import BACKEND_SERVICES
from tests.flows import auth, company_with_employees

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"
BAD_BODIES = [b"", b"{", b"[]", b'"text"', b"null", b'{"unexpected": true}', b'{"type": 1, "text": []}',
              b'{"login": "' + b"x" * 5000 + b'", "password": 1}']


async def merged_openapi(platform) -> dict:
    resp = await platform.client.get("/openapi.json")
    assert resp.status_code == 200
    return resp.json()


class TestOpenApi:
    async def test_every_operation_is_documented_well_enough_to_generate_a_client(self, platform) -> None:
        doc = await merged_openapi(platform)
        operation_ids = []
        for path, item in doc["paths"].items():
            for method, op in item.items():
                where = f"{method.upper()} {path}"
                assert op.get("summary"), f"{where} has no summary"
                assert op.get("tags"), f"{where} has no tags"
                assert op.get("operationId"), where
                operation_ids.append(op["operationId"])
                ok = [c for c in op["responses"] if c.startswith("2")]
                assert ok, f"{where} documents no success response"
        assert len(operation_ids) == len(set(operation_ids))
        refs = set(re.findall(r'"#/components/schemas/([^"]+)"', str(doc).replace("'", '"')))
        assert refs <= set(doc["components"]["schemas"]), refs - set(doc["components"]["schemas"])

    async def test_a_generated_client_learns_every_answer_and_header(self, platform) -> None:
        """Regression (an integrator's generated client): the roster file was typed as text, 400 and 413
        were missing on bodies, 503 and the gateway's 502/504 nowhere, Retry-After and X-Request-ID
        undeclared, and /health absent."""
        doc = await merged_openapi(platform)
        schemas = doc["components"]["schemas"]
        upload = next(s for n, s in schemas.items() if n.startswith("Body_") and "file" in s.get("properties", {}))
        assert upload["properties"]["file"]["format"] == "binary"
        assert set(doc["components"]["headers"]) >= {"X-Request-ID", "Retry-After"}
        for path, item in doc["paths"].items():
            for method, op in item.items():
                where, responses = f"{method.upper()} {path}", op["responses"]
                if path.startswith("/api/"):
                    assert {"502", "503", "504"} <= set(responses), where
                if "requestBody" in op:
                    assert {"400", "413"} <= set(responses), where
                for status, response in responses.items():
                    assert "X-Request-ID" in response.get("headers", {}), (where, status)
                    if status in ("429", "503"):
                        assert "Retry-After" in response["headers"], (where, status)
                assert "__" not in op["operationId"], f"{where}: {op['operationId']}"
        assert "/health" in doc["paths"]
        problem = schemas["Problem"]["properties"]
        assert {"error_count", "permission"} <= set(problem)

    async def test_it_lists_only_paths_the_gateway_serves(self, platform) -> None:
        """Regression: the merged document listed each service's /metrics, which the gateway answers 404."""
        doc = await merged_openapi(platform)
        for path, item in doc["paths"].items():
            if "{" in path:
                continue
            for method in item:
                resp = await platform.client.request(method, path)
                assert resp.status_code != 404, f"{method.upper()} {path} is documented but not served"

    async def test_every_error_is_documented_as_problem_json(self, platform) -> None:
        """Regression: operations with path or query parameters documented 422 as FastAPI's HTTPValidationError."""
        doc = await merged_openapi(platform)
        assert "HTTPValidationError" not in str(doc)
        for path, item in doc["paths"].items():
            for method, op in item.items():
                for status, response in op["responses"].items():
                    if status.startswith("4"):
                        assert list(response.get("content", {})) == [PROBLEM], f"{method.upper()} {path} {status}"

    async def test_each_service_serves_its_event_catalogue_and_the_readme_lists_every_type(self, platform) -> None:
        readme = (ROOT / "README.md").read_text()
        for service in BACKEND_SERVICES:
            catalogue = (await platform.client.get(f"/api/v1/{service}/events")).json()
            assert catalogue["topic"] == f"esop.{service}"
            for event in catalogue["publishes"]:
                assert event["type"].startswith(f"esop.{service}.")
                assert event["schema"]["properties"], event["type"]
                for name, prop in event["schema"]["properties"].items():
                    if name in {"role", "reason", "type", "verified_channel", "from_stage", "to_stage"}:
                        assert "$ref" in str(prop) or prop.get("description"), f"{event['type']}.{name}: which values?"
                assert f"`{event['type']}`" in readme, f"README does not list {event['type']}"


class TestNoServerErrorsOnBadInput:
    @pytest.mark.parametrize("with_token", [False, True])
    async def test_every_route_answers_bad_input_with_a_problem_not_a_500(self, platform, with_token) -> None:
        doc = await merged_openapi(platform)
        headers = {"content-type": "application/json"}
        if with_token:
            company = await company_with_employees(platform, 1)
            headers |= auth(company.employees[0].token)
        for path, item in doc["paths"].items():
            for method in item:
                for params in ("not-a-uuid", str(uuid.uuid4()), "0" * 300):
                    url = re.sub(r"\{[^}]+\}", params, path)
                    bodies = BAD_BODIES if method in {"post", "put", "patch"} else [None]
                    for body in bodies:
                        resp = await platform.client.request(method, url, content=body, headers=headers,
                                                             params={"limit": "-1", "cursor": "%%%"})
                        where = f"{method.upper()} {url} body={body!r:.40} -> {resp.status_code}"
                        assert resp.status_code < 500, where + resp.text[:300]
                        if resp.status_code >= 400:
                            assert resp.headers["content-type"] == PROBLEM, where
                            assert resp.json()["status"] == resp.status_code, where


class TestTextThatCannotBeStored:
    """Regression: a NUL byte in any text reached PostgreSQL and came back as 503 'retry later'."""

    async def test_nul_and_bidi_overrides_are_422_not_503(self, platform) -> None:
        from tests.flows import Person, create_company, make_platform_admin, roster_csv

        root = await make_platform_admin(platform.database_url)
        company = await create_company(platform, root)
        bad = [("POST", "/api/v1/identity/tenants", root.token,
                {"name": "Bad\u0000Co", "admin": {"name": "x", "email": "x@example.com", "mobile": "13800138000"}}),
               ("POST", "/api/v1/identity/tenants", root.token,
                {"name": "\u202eoC liveD", "admin": {"name": "x", "email": "x@example.com", "mobile": "13800138000"}}),
               ("POST", "/api/v1/identity/tenants", root.token,  # regression: stored as ""
                {"name": "  ", "admin": {"name": "x", "email": "x@example.com", "mobile": "13800138000"}}),
               ("POST", "/api/v1/identity/tenants", root.token,
                {"name": "\u200b", "admin": {"name": "x", "email": "x@example.com", "mobile": "13800138000"}}),
               ("POST", "/api/v1/identity/tenants", root.token,
                {"name": "Blank admin", "admin": {"name": "\u3000 ", "email": "x@example.com", "mobile": "13800138000"}}),
               ("POST", "/api/v1/feedback/feedback", company.admin.token, {"type": "question", "text": " \n\t "}),
               ("POST", "/api/v1/identity/registrations/code", None,
                {"invitation_code": "ABC\u0000DEFG", "channel": "email"}),
               ("POST", "/api/v1/feedback/feedback", company.admin.token, {"type": "question", "text": "b\u0000c"})]
        for method, url, token, body in bad:
            resp = await platform.client.request(method, url, json=body, headers=auth(token) if token else {})
            assert resp.status_code == 422, f"{url}: {resp.status_code} {resp.text}"
        person = Person.fake(1)
        person.name = "孙\x00八"
        resp = await platform.client.post(f"/api/v1/identity/tenants/{company.tenant_id}/roster",
                                          headers=auth(company.admin.token),
                                          files={"file": ("r.csv", roster_csv([person]), "text/csv")})
        assert resp.status_code == 422 and resp.json()["errors"][0]["loc"][2] == "name"


class TestCompanyAdminContact:
    """Regression: a company whose admin had an invalid mobile was a 500 (InvalidContact escaped)."""

    @pytest.mark.parametrize(("mobile", "email", "field"), [("+1 555", "a@b.example.com", "mobile"),
                                                            ("12345", "a@b.example.com", "mobile"),
                                                            ("010 6552 9988", "a@b.example.com", "mobile")])
    async def test_a_bad_mobile_is_a_field_error_and_nothing_is_created(self, platform, mobile, email, field) -> None:
        import psycopg2

        from tests.flows import eventually, has_permission, login, make_platform_admin

        root = await make_platform_admin(platform.database_url)
        await login(platform.client, root)
        await eventually(lambda: has_permission(platform.client, root.token, "tenants:create", None),
                         what="the platform_admin role")
        name = f"Bad contact {uuid.uuid4().hex[:6]}"
        resp = await platform.client.post("/api/v1/identity/tenants", headers=auth(root.token), json={
            "name": name, "admin": {"name": "X", "email": email, "mobile": mobile}})
        assert resp.status_code == 422 and resp.headers["content-type"] == PROBLEM, resp.text
        assert resp.json()["errors"][0]["loc"] == ["body", "admin", field]
        with psycopg2.connect(platform.database_url) as conn, conn.cursor() as cur:
            cur.execute("select count(*) from identity.tenants where name = %s", (name,))
            assert cur.fetchone() == (0,)


class TestTrailingSlash:
    """Regression: `/api/v1/profile/me/` was a 307 to a URL without the gateway's prefix, with an empty body."""

    async def test_a_path_with_a_trailing_slash_is_a_404_problem(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        for path in ("/api/v1/profile/me/", "/api/v1/identity/me/", "/api/v1/lifecycle/me/stage/", "/health/",
                     "/openapi.json/"):
            resp = await platform.client.get(path, headers=auth(company.employees[0].token))
            assert resp.status_code == 404 and resp.headers["content-type"] == PROBLEM, (path, resp.status_code)


class TestUnreadableBodies:
    """Regression: a body that is not UTF-8 said 'There was an error parsing the body' without saying
    what, where a truncated one said 'The body is not valid JSON.'"""

    @pytest.mark.parametrize("body", [b"\xff\xfe{}", b'{"login": "\xc3(", "password": "x"}', b"{"])
    async def test_every_unreadable_json_body_gets_the_same_answer(self, platform, body: bytes) -> None:
        resp = await platform.client.post("/api/v1/identity/token", content=body,
                                          headers={"content-type": "application/json"})
        assert resp.status_code == 400 and resp.headers["content-type"] == PROBLEM
        assert resp.json()["detail"] == "The body is not valid JSON."
