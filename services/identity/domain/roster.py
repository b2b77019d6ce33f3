"""Reading an employee roster (CSV): every row is checked; any error rejects the whole file."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from services.identity.domain.contact import InvalidContact, normalize_email, normalize_mobile
from shared.text import invisible, unsafe_character

FIELDS = ["name", "mobile", "email", "employee_no", "department", "hire_date"]
REQUIRED = ["name", "mobile", "email", "employee_no", "hire_date"]
# Header names accepted for each field (HR exports are often in Chinese).
ALIASES = {
    "name": {"name", "姓名", "full_name"},
    "mobile": {"mobile", "手机", "手机号", "phone", "手机号码"},
    "email": {"email", "邮箱", "e-mail", "电子邮箱"},
    "employee_no": {"employee_no", "工号", "employee_number", "员工编号"},
    "department": {"department", "部门"},
    "hire_date": {"hire_date", "入职日期", "hired_on"},
}


@dataclass(frozen=True)
class RosterRow:
    line: int
    name: str
    mobile: str
    email: str
    employee_no: str
    department: str | None
    hire_date: date


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


class RosterRejected(ValueError):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} error(s) in the roster")
        self.errors = errors


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterRejected([RowError(0, "file", "the file is not UTF-8 or GB18030 text")])


def _header_map(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        key = raw.strip().lower()
        for field, names in ALIASES.items():
            if key in names and field not in found:
                found[field] = index
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        raise RosterRejected([RowError(1, "header", f"missing column(s): {', '.join(missing)}; "
                                                      f"expected {', '.join(FIELDS)}")])
    return found


EARLIEST_HIRE = date(1950, 1, 1)


def _hire_date_problem(raw: str, today: date) -> tuple[date | None, str | None]:
    """The hire date, or what is wrong with it. Someone may be put on the platform before they
    start, but not more than a year ahead."""
    try:
        value = date.fromisoformat(raw.replace("/", "-"))
    except ValueError:
        return None, "must be a date like 2024-03-01"
    if value < EARLIEST_HIRE:
        return None, "is before 1950"
    if value > today + timedelta(days=366):
        return None, "is more than a year ahead"
    return value, None


def parse_roster(data: bytes, *, region: str = "CN", max_rows: int = 20_000) -> list[RosterRow]:
    text = _decode(data)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=None)))  # \r\n, \n and old Macs' \r
    except csv.Error as exc:
        raise RosterRejected([RowError(0, "file", f"not a readable CSV file: {exc}")]) from exc
    if not rows:
        raise RosterRejected([RowError(0, "file", "the file is empty")])
    columns = _header_map(rows[0])
    body = [(n, r) for n, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    if not body:
        raise RosterRejected([RowError(0, "file", "the roster has no employees")])
    if len(body) > max_rows:
        raise RosterRejected([RowError(0, "file", f"at most {max_rows} rows per file")])
    errors: list[RowError] = []
    parsed: list[RosterRow] = []
    seen: dict[str, dict[str, int]] = {"employee_no": {}, "mobile": {}, "email": {}}
    for line, raw in body:
        row = _parse_row(line, raw, columns, region, errors)
        if row is None:
            continue
        for field in seen:
            value = getattr(row, field)
            if value in seen[field]:
                errors.append(RowError(line, field, f"duplicate of line {seen[field][value]}"))
            else:
                seen[field][value] = line
        parsed.append(row)
    if errors:
        raise RosterRejected(errors)
    return parsed


def _parse_row(line: int, raw: list[str], columns: dict[str, int], region: str,
               errors: list[RowError]) -> RosterRow | None:
    def cell(field: str) -> str:
        index = columns.get(field)
        return raw[index].strip() if index is not None and index < len(raw) else ""

    before = len(errors)
    values: dict[str, object] = {}
    for field, index in columns.items():
        if index < len(raw) and (problem := unsafe_character(raw[index])):
            errors.append(RowError(line, field, f"contains a {problem}"))
        elif index < len(raw) and invisible(raw[index].strip()):
            errors.append(RowError(line, field, "shows nothing (only invisible characters)"))
    if len(errors) > before:
        return None
    for field in REQUIRED:
        if not cell(field):
            errors.append(RowError(line, field, "is required"))
    name, employee_no, department = cell("name"), cell("employee_no"), cell("department") or None
    if len(name) > 100:
        errors.append(RowError(line, "name", "at most 100 characters"))
    if len(employee_no) > 64:
        errors.append(RowError(line, "employee_no", "at most 64 characters"))
    if department and len(department) > 100:
        errors.append(RowError(line, "department", "at most 100 characters"))
    for field, normalize in (("mobile", lambda v: normalize_mobile(v, region)), ("email", normalize_email)):
        if cell(field):
            try:
                values[field] = normalize(cell(field))
            except InvalidContact as exc:
                errors.append(RowError(line, field, str(exc)))
    if cell("hire_date"):
        values["hire_date"], problem = _hire_date_problem(cell("hire_date"), date.today())
        if problem:
            errors.append(RowError(line, "hire_date", problem))
    if len(errors) > before:
        return None
    return RosterRow(line=line, name=name, mobile=str(values["mobile"]), email=str(values["email"]),
                     employee_no=employee_no, department=department, hire_date=values["hire_date"])  # type: ignore[arg-type]
