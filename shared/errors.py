"""RFC 9457 problem+json errors: typed errors that carry their status, one renderer."""
from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.logs import request_id_var

PROBLEM = "application/problem+json"
# RFC 9110's names where Python's HTTPStatus still has the old ones.
RFC9110_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}
JSON_INVALID = "The body is not valid JSON."
log = logging.getLogger("esop.errors")


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where the error is: body/query/path then field names, or row and column")
    msg: str
    type: str = "value_error"


class Problem(BaseModel):
    """An RFC 9457 problem details object. Extension members besides the ones listed may appear."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None
    error_count: int | None = Field(default=None, description="How many field errors there are in all, where "
                                                              "`errors` lists only the first ones (roster files)")
    permission: str | None = Field(default=None, description="The permission the caller lacks (403)")
    tenant_id: str | None = Field(default=None, description="The company a conflict is about (409)")


class ProblemError(Exception):
    status = 400
    title = "Bad Request"
    type = "about:blank"

    def __init__(self, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None, keep_changes: bool = False, **extra: Any):
        """`keep_changes`: commit the request's transaction before answering with this error
        (a failed login still counts the failure and records its event)."""
        super().__init__(detail or self.title)
        self.keep_changes = keep_changes
        self.detail = detail
        self.errors = errors
        self.headers = headers
        self.extra = extra


class BadRequest(ProblemError):
    status, title = 400, "Bad Request"


class Unauthorized(ProblemError):
    status, title = 401, "Unauthorized"

    def __init__(self, detail: str | None = None, **kw: Any):
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(ProblemError):
    status, title = 403, "Forbidden"


class NotFound(ProblemError):
    status, title = 404, "Not Found"


class Conflict(ProblemError):
    status, title = 409, "Conflict"


class Gone(ProblemError):
    status, title = 410, "Gone"


class PreconditionFailed(ProblemError):
    status, title = 412, "Precondition Failed"


class ContentTooLarge(ProblemError):
    status, title = 413, "Content Too Large"


class Unprocessable(ProblemError):
    status, title = 422, "Unprocessable Content"


class TooManyRequests(ProblemError):
    status, title = 429, "Too Many Requests"


class ServiceUnavailable(ProblemError):
    status, title = 503, "Service Unavailable"

    def __init__(self, detail: str | None = None, **kw: Any):
        kw.setdefault("headers", {"Retry-After": "1"})
        super().__init__(detail, **kw)


def _public_path(request: Request) -> str:
    """The path as the client called it: behind the forwarding gateway a service is told the prefix it
    is served under (X-Forwarded-Prefix); mounted in-process it knows it already (root_path)."""
    prefix = request.headers.get("x-forwarded-prefix", "")
    if prefix.startswith("/") and prefix.isprintable() and len(prefix) <= 100 and not request.scope.get("root_path"):
        return prefix.rstrip("/") + request.url.path
    return request.url.path


def problem_response(request: Request | None, status: int, title: str | None = None, detail: str | None = None,
                     *, type_: str = "about:blank", errors: list[dict[str, Any]] | None = None,
                     headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or RFC9110_TITLES.get(status) or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if request is not None:
        body["instance"] = _public_path(request)
    rid = request_id_var.get()
    if rid:
        body["request_id"] = rid
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _clean_loc(loc: Any) -> list[str | int]:
    return [p if isinstance(p, (str, int)) else str(p) for p in loc]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(request, exc.status, exc.title, exc.detail, type_=exc.type,
                                errors=exc.errors, headers=exc.headers, extra=exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": _clean_loc(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "value_error")}
                  for e in exc.errors()]
        if any(e["type"] == "json_invalid" for e in errors):
            return problem_response(request, 400, "Bad Request", JSON_INVALID, errors=errors)
        return problem_response(request, 422, "Unprocessable Content", "The request is not valid.", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 400 and detail == "There was an error parsing the body":  # FastAPI's, e.g. bad UTF-8
            detail = JSON_INVALID
        return problem_response(request, exc.status_code, None, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error: %s", exc.orig)
        return problem_response(request, 409, "Conflict", "The change conflicts with existing data; retry or reload.")

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value (e.g. a NUL byte): the input is at fault, not the database.
        log.info("data error: %s", exc.orig)
        return problem_response(request, 422, "Unprocessable Content", "A value in the request cannot be stored.")

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database (or a peer) failed, cannot be reached or does not answer in time: not the request's fault.
        log.warning("unavailable: %r", getattr(exc, "orig", None) or exc)
        return problem_response(request, 503, "Service Unavailable", "The database or a backing service is not "
                                "available; retry later.", headers={"Retry-After": "1"})

    for unavailable in (DBAPIError, OSError, TimeoutError, PoolTimeout):
        app.add_exception_handler(unavailable, _unavailable)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem_response(request, 500, "Internal Server Error", "An unexpected error occurred.")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting problem+json errors."""
    return {s: {"model": Problem, "description": HTTPStatus(s).phrase,
                "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}} for s in statuses}
