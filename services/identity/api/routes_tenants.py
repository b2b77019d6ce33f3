from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from services.identity.api.deps import Deps
from services.identity.api.schemas import RosterImportResult, TenantCreate, TenantCreated, TenantRead
from services.identity.handlers.roster import MAX_LISTED_ERRORS, import_roster
from services.identity.handlers.tenants import create_tenant
from services.identity.persistence.repository import get_tenant
from shared.auth import require_permission
from shared.db import DbSession
from shared.errors import ContentTooLarge, NotFound, problem_responses

router = APIRouter(tags=["companies"])


@router.post("/tenants", response_model=TenantCreated, status_code=201, summary="Put a company on the platform",
             description="Platform administrators only (`tenants:create`). The company's first administrator "
                         "is invited: they get an invitation code by email and SMS and register like any employee.",
             responses=problem_responses(401, 403, 409, 422),
             dependencies=[require_permission("tenants:create", tenant_param=None)])
async def post_tenant(body: TenantCreate, session: DbSession, deps: Deps) -> TenantCreated:
    tenant, admin = await create_tenant(session, deps, name=body.name, admin_name=body.admin.name,
                                        admin_email=str(body.admin.email), admin_mobile=body.admin.mobile)
    return TenantCreated(id=tenant.id, name=tenant.name, created_at=tenant.created_at, admin_user_id=admin.id)


@router.get("/tenants/{tenant_id}", response_model=TenantRead, summary="A company",
            responses=problem_responses(401, 403, 404), dependencies=[require_permission("tenants:read")])
async def get_tenant_route(tenant_id: uuid.UUID, session: DbSession) -> TenantRead:
    tenant = await get_tenant(session, tenant_id)
    if tenant is None:
        raise NotFound("No such company.")
    return TenantRead.model_validate(tenant)


@router.post("/tenants/{tenant_id}/roster", response_model=RosterImportResult, summary="Invite employees from a roster",
             description="Upload a CSV file (UTF-8 or GB18030) with the header "
                         "`name,mobile,email,employee_no,department,hire_date` (Chinese headers 姓名,手机,邮箱,工号,部门,"
                         "入职日期 work too; other columns are ignored, a column given twice is refused). Every row "
                         "is checked: no more fields than the header, mobiles with libphonenumber (mainland numbers "
                         "need no +86), emails with email-validator, hire dates year first — `2024-03-01`, "
                         "`2024-3-1`, `2024/3/1` or `2024年3月1日` (not `03/01/2024`), from 1950 to a year ahead. "
                         "If any row is wrong the whole file is rejected (422) and nothing is imported: `errors` "
                         "lists the problems as `loc: [\"row\", line, field]` (line 1 is the header), at most the "
                         f"first {MAX_LISTED_ERRORS}, and `error_count` says how many there are in all. Importing "
                         "the same file again invites nobody twice. Each new employee gets an invitation code by "
                         "email and SMS. Needs `users:invite` in the company.",
             responses=problem_responses(401, 403, 404, 413, 422),
             dependencies=[require_permission("users:invite")])
async def post_roster(tenant_id: uuid.UUID, file: Annotated[UploadFile, File(description="The roster CSV")],
                      session: DbSession, deps: Deps) -> RosterImportResult:
    data = await file.read(deps.settings.roster_max_bytes + 1)
    if len(data) > deps.settings.roster_max_bytes:
        raise ContentTooLarge(f"The file is larger than {deps.settings.roster_max_bytes} bytes; split it.")
    result = await import_roster(session, deps, tenant_id, data)
    return RosterImportResult(rows=result.rows, invited=len(result.invited), unchanged=result.unchanged,
                              invited_user_ids=result.invited)
