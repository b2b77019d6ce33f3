"""Reading an employee roster (CSV): every row is checked; any error rejects the whole file."""
from __future__ import annotations

import csv
import io
import re
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
    """Which column holds each field. Columns the roster does not use are ignored (and may repeat,
    like the empty ones spreadsheets add), but a field given by two columns is refused: which of
    the two values is meant cannot be known."""
    found: dict[str, int] = {}
    errors: list[RowError] = []
    for index, raw in enumerate(header):
        key = raw.strip().lower()
        field = next((f for f, names in ALIASES.items() if key in names), None)
        if field is None:
            continue
        if field in found:
            errors.append(RowError(1, "header", f"duplicate column: {field} is given by column {found[field] + 1} "
                                                f"({header[found[field]].strip()}) and column {index + 1} "
                                                f"({raw.strip()})"))
        else:
            found[field] = index
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        errors.append(RowError(1, "header", f"missing column(s): {', '.join(missing)}; "
                                            f"expected {', '.join(FIELDS)}"))
    if errors:
        raise RosterRejected(errors)
    return found


EARLIEST_HIRE = date(1950, 1, 1)


# Year first, with the separators spreadsheets use (Chinese Excel writes 2023/3/15 or 2023年3月15日).
# Day-or-month-first forms (03/15/2023) are refused: which is which cannot be known.
HIRE_DATE_FORMS = "2024-03-01 (year, month, day; 2024/3/1 and 2024年3月1日 are read too)"
_YEAR_FIRST = re.compile(r"(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(\d{1,2})日)")


def _year_first_date(raw: str) -> date | None:
    match = _YEAR_FIRST.fullmatch(raw)
    if match is None:
        return None
    year, *month_day = (int(g) for g in match.groups() if g is not None)
    try:
        return date(year, *month_day)
    except ValueError:
        return None


def _hire_date_problem(raw: str, today: date) -> tuple[date | None, str | None]:
    """The hire date, or what is wrong with it. Someone may be put on the platform before they
    start, but not more than a year ahead."""
    value = _year_first_date(raw)
    if value is None:
        return None, f"must be a date, year first, like {HIRE_DATE_FORMS}"
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
    width = len(rows[0])
    body = [(n, r) for n, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    if not body:
        raise RosterRejected([RowError(0, "file", "the roster has no employees")])
    if len(body) > max_rows:
        raise RosterRejected([RowError(0, "file", f"at most {max_rows} rows per file")])
    errors: list[RowError] = []
    parsed: list[RosterRow] = []
    seen: dict[str, dict[str, int]] = {"employee_no": {}, "mobile": {}, "email": {}}
    for line, raw in body:
        if any(c.strip() for c in raw[width:]):
            errors.append(RowError(line, "fields", f"has {len(raw)} fields, the header has {width}"))
            continue
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
