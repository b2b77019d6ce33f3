"""What a person may change in their own profile, and how each value is cleaned.

HR-owned fields (name, contact, employment data) come from identity's events and are never
self-edited. The self-editable ones follow merge-patch: a field set to null is cleared, or
reset to its default where the profile always has a value (locale, timezone). Text follows the
platform's rule (shared.text): trimmed, and text that shows nothing is refused, not read as null."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from shared.text import clean_text

LOCALES = ("zh-CN", "en-US")
DEFAULT_LOCALE = "zh-CN"
DEFAULT_TIMEZONE = "Asia/Shanghai"
MAX_PREFERRED_NAME = 50
MAX_BIO = 500

HR_OWNED = frozenset({"name", "email", "mobile", "employee_no", "department", "hire_date"})
SELF_EDITABLE = ("preferred_name", "locale", "timezone", "bio")


class ProfileRuleError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@cache
def timezones() -> frozenset[str]:
    # The system's zoneinfo folder also holds files that are not zones (localtime, posixrules).
    return frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}


def clean_preferred_name(value: str | None) -> str | None:
    if value is None:
        return None
    value = clean_text(value)
    if len(value) > MAX_PREFERRED_NAME:
        raise ValueError(f"at most {MAX_PREFERRED_NAME} characters")
    return value


def clean_locale(value: str | None) -> str:
    if value is None:
        return DEFAULT_LOCALE
    if value not in LOCALES:
        raise ValueError(f"must be one of: {', '.join(LOCALES)}")
    return value


def clean_timezone(value: str | None) -> str:
    if value is None:
        return DEFAULT_TIMEZONE
    if value not in timezones():
        raise ValueError("must be an IANA time zone, such as Asia/Shanghai")
    return value


def clean_bio(value: str | None) -> str | None:
    if value is None:
        return None
    value = clean_text(value, multiline=True)
    if len(value) > MAX_BIO:
        raise ValueError(f"at most {MAX_BIO} characters")
    return value


CLEANERS: dict[str, Callable[[Any], Any]] = {
    "preferred_name": clean_preferred_name,
    "locale": clean_locale,
    "timezone": clean_timezone,
    "bio": clean_bio,
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


def plan_changes(current: Mapping[str, Any], patch: Mapping[str, Any]) -> list[FieldChange]:
    """The changes `patch` makes to `current`, in SELF_EDITABLE order; unchanged fields are left out.
    Raises ProfileRuleError for a field that is not self-editable or a value that is not allowed."""
    for field in patch:
        if field in HR_OWNED:
            raise ProfileRuleError(field, f"{field} is kept by your company's HR records and cannot be changed here")
        if field not in CLEANERS:
            raise ProfileRuleError(field, f"{field} is not a profile field you can change")
    changes = []
    for field in SELF_EDITABLE:
        if field not in patch:
            continue
        try:
            new = CLEANERS[field](patch[field])
        except ValueError as exc:
            raise ProfileRuleError(field, str(exc)) from exc
        if new != current.get(field):
            changes.append(FieldChange(field, current.get(field), new))
    return changes


def as_text(value: Any) -> str | None:
    """How a value is kept in the change history."""
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
