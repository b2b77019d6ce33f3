"""What every service's OpenAPI says beyond what FastAPI writes, so that a generated client knows
every answer it may get: errors as problem+json only, the errors any route may give (503; 400 and
413 where there is a body), the headers responses carry (X-Request-ID, Retry-After), and uploads as
binary files."""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared.errors import PROBLEM, Problem

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
HEADERS = {
    "X-Request-ID": {"description": "The request's id: the client's own `X-Request-ID` if it sent a usable one, "
                                    "else a new one. Also in the logs and in problem details.",
                     "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}},
}
# Answers any route may give, beyond the ones it documents itself.
ANY_ROUTE = {503: "A backing service (database, identity's keys, authz) is not available; retry after `Retry-After`."}
WITH_BODY = {400: "The body is not valid JSON.", 413: "The body is larger than the limit (1 MiB; uploads 6 MiB)."}
RETRY_STATUSES = {"429", "503"}


def problem_response_doc(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": PROBLEM_REF}}}


def _header(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _finish_operation(op: dict[str, Any]) -> None:
    responses = op.setdefault("responses", {})
    extra = {**ANY_ROUTE, **(WITH_BODY if "requestBody" in op else {})}
    for status, description in extra.items():
        responses.setdefault(str(status), problem_response_doc(description))
    for status, response in responses.items():
        content = response.get("content", {})
        # Errors are problem+json only: also the 422 FastAPI documents on its own for parameters, and
        # without the application/json twin FastAPI adds to a `responses=` entry that names a model.
        if PROBLEM in content or "HTTPValidationError" in str(content):
            response["content"] = {PROBLEM: {"schema": PROBLEM_REF}}
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = _header("X-Request-ID")
        if status in RETRY_STATUSES:
            headers["Retry-After"] = _header("Retry-After")


def _binary_uploads(schemas: dict[str, Any]) -> None:
    """OpenAPI 3.1 writes a file as `contentMediaType`; most generators still need `format: binary`."""
    for schema in schemas.values():
        for prop in schema.get("properties", {}).values():
            if prop.get("type") == "string" and prop.get("contentMediaType") == "application/octet-stream":
                prop["format"] = "binary"


def finish_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in problem.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    schemas.setdefault("Problem", problem)
    components.setdefault("headers", {}).update(HEADERS)
    for item in schema.get("paths", {}).values():
        for op in item.values():
            if isinstance(op, dict):
                _finish_operation(op)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _binary_uploads(schemas)
    return schema


def install_openapi_finish(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = finish_openapi(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
