"""Rules for reading login records: time windows and daily summaries (plain Python)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.activity.domain.logins import (MAX_SUMMARY_DAYS, DayCounts, InvalidWindow, as_utc, check_window, clip,
                                             fill_days, start_of, summary_days)

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30), timezones=offsets)


class TestCheckWindow:
    @given(moments, moments)
    def test_until_before_since_is_refused_otherwise_kept_in_utc(self, since: datetime, until: datetime) -> None:
        if until < since:
            with pytest.raises(InvalidWindow):
                check_window(since, until)
        else:
            got = check_window(since, until)
            assert got == (since, until)
            assert all(m.tzinfo == UTC for m in got)

    def test_open_ends_are_allowed(self) -> None:
        assert check_window(None, None) == (None, None)

    def test_naive_times_are_utc(self) -> None:
        assert check_window(datetime(2025, 1, 1), None) == (datetime(2025, 1, 1, tzinfo=UTC), None)

    def test_times_at_the_edge_of_the_calendar_are_refused_not_crashed(self) -> None:
        with pytest.raises(InvalidWindow):
            check_window(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), None)


class TestSummaryDays:
    @given(st.integers(min_value=1, max_value=MAX_SUMMARY_DAYS), moments)
    def test_the_last_n_days_oldest_first_ending_today(self, days: int, now: datetime) -> None:
        calendar = summary_days(days, now)
        assert len(calendar) == days
        assert calendar[-1] == as_utc(now).date()
        assert all(b - a == timedelta(days=1) for a, b in zip(calendar, calendar[1:], strict=False))
        assert start_of(calendar[0]) <= as_utc(now)

    @pytest.mark.parametrize("days", [0, -1, MAX_SUMMARY_DAYS + 1])
    def test_out_of_range(self, days: int) -> None:
        with pytest.raises(ValueError):
            summary_days(days, datetime.now(UTC))

    def test_missing_days_are_zero(self) -> None:
        days = [date(2025, 1, 1), date(2025, 1, 2)]
        counted = {date(2025, 1, 2): DayCounts(date(2025, 1, 2), 3, 1, 2)}
        assert fill_days(days, counted) == [DayCounts(date(2025, 1, 1)), DayCounts(date(2025, 1, 2), 3, 1, 2)]


class TestClip:
    @given(st.text(max_size=600) | st.none(), st.integers(min_value=1, max_value=600))
    def test_never_longer_than_the_limit(self, text: str | None, limit: int) -> None:
        got = clip(text, limit)
        assert got is None if text is None else (len(got) <= limit and text.startswith(got))
