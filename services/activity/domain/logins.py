"""Login records: their kinds, and the rules for reading them (time windows, daily summaries)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum


class LoginKind(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"


MAX_SUMMARY_DAYS = 90
DEFAULT_SUMMARY_DAYS = 30
MAX_IP = 64
MAX_USER_AGENT = 512
MAX_REASON = 40


class InvalidWindow(ValueError):
    """A time window whose end comes before its start."""


def as_utc(moment: datetime) -> datetime:
    """A moment in UTC; a naive datetime is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_window(since: datetime | None, until: datetime | None) -> tuple[datetime | None, datetime | None]:
    """Normalize [since, until) to UTC; raise InvalidWindow if until is before since."""
    try:
        since = as_utc(since) if since else None
        until = as_utc(until) if until else None
    except OverflowError as exc:
        raise InvalidWindow("`since` or `until` is out of range.") from exc
    if since and until and until < since:
        raise InvalidWindow("`until` must not be before `since`.")
    return since, until


def clip(text: str | None, limit: int) -> str | None:
    """Keep free text from another service within the column's size."""
    return text[:limit] if text else text


@dataclass(frozen=True)
class DayCounts:
    day: date
    successes: int = 0
    failures: int = 0
    distinct_users: int = 0


def summary_days(days: int, now: datetime) -> list[date]:
    """The last `days` UTC calendar days, oldest first, today included."""
    if not 1 <= days <= MAX_SUMMARY_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_SUMMARY_DAYS}")
    today = as_utc(now).date()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def fill_days(days: list[date], counted: dict[date, DayCounts]) -> list[DayCounts]:
    """One entry per day, zeros where nothing happened."""
    return [counted.get(day, DayCounts(day)) for day in days]
