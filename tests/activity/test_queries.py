"""Reading login records: filters, pagination order and the daily summary."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.activity.handlers import summarize_logins
from services.activity.persistence.repository import list_login_records
from tests.activity.builders import logged_in, logged_out, login_failed

NOW = datetime.now(UTC)


class TestListLoginRecords:
    async def test_newest_first_and_pages_do_not_overlap(self, sessions, consume) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        same_time = NOW - timedelta(hours=1)
        for at in (NOW - timedelta(hours=3), same_time, same_time, same_time, NOW):
            await consume(logged_in(user, tenant, at=at))
        seen, after = [], None
        async with sessions() as session:
            while True:
                page = await list_login_records(session, user_id=user, limit=2, after=after)
                seen.extend(page)
                if len(page) < 2:
                    break
                after = (page[-1].at, page[-1].id)
        assert len({r.id for r in seen}) == 5
        assert [(r.at, r.id) for r in seen] == sorted(((r.at, r.id) for r in seen), reverse=True)

    async def test_filters_combine(self, sessions, consume) -> None:
        tenant, other_tenant = uuid.uuid4(), uuid.uuid4()
        alice, bob = uuid.uuid4(), uuid.uuid4()
        sid = uuid.uuid4()
        await consume(logged_in(alice, tenant, at=NOW - timedelta(days=2), session_id=sid))
        await consume(logged_out(alice, tenant, sid, at=NOW - timedelta(days=2) + timedelta(minutes=5)))
        await consume(login_failed(alice, tenant, at=NOW - timedelta(hours=5)))
        await consume(logged_in(bob, tenant, at=NOW - timedelta(hours=1)))
        await consume(logged_in(uuid.uuid4(), other_tenant, at=NOW))
        async with sessions() as session:
            async def ids(**filters) -> int:
                return len(await list_login_records(session, tenant_id=tenant, limit=50, after=None, **filters))

            assert await ids() == 4
            assert await ids(user_id=alice) == 3
            assert await ids(success=False) == 1
            assert await ids(kind="logout") == 1
            assert await ids(since=NOW - timedelta(days=1)) == 2
            assert await ids(until=NOW - timedelta(days=1)) == 2
            assert await ids(user_id=alice, success=True, kind="login") == 1


class TestSummarizeLogins:
    async def test_counts_per_day_with_every_day_listed(self, sessions, consume) -> None:
        tenant = uuid.uuid4()
        alice, bob = uuid.uuid4(), uuid.uuid4()
        today = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
        yesterday = today - timedelta(days=1)
        await consume(logged_in(alice, tenant, at=today + timedelta(minutes=1)))
        await consume(logged_in(alice, tenant, at=today + timedelta(minutes=2)))
        await consume(login_failed(bob, tenant, at=today + timedelta(minutes=3)))
        await consume(logged_in(bob, tenant, at=yesterday + timedelta(hours=1)))
        await consume(login_failed(None, tenant, at=yesterday + timedelta(hours=2)))
        await consume(logged_out(bob, tenant, uuid.uuid4(), at=yesterday + timedelta(hours=3)))
        await consume(logged_in(alice, tenant, at=today - timedelta(days=10)))  # outside a 7-day window
        await consume(logged_in(uuid.uuid4(), uuid.uuid4(), at=today))  # another company
        async with sessions() as session:
            summary = await summarize_logins(session, tenant, days=7, now=NOW)
        assert summary.since == today - timedelta(days=6)
        assert (summary.successes, summary.failures, summary.distinct_users) == (3, 2, 2)
        assert len(summary.per_day) == 7
        assert [d.day for d in summary.per_day][-2:] == [yesterday.date(), today.date()]
        last_two = [(d.successes, d.failures, d.distinct_users) for d in summary.per_day[-2:]]
        assert last_two == [(1, 1, 1), (2, 1, 1)]
        assert all((d.successes, d.failures) == (0, 0) for d in summary.per_day[:-2])

    async def test_a_company_without_logins_gets_zeros(self, sessions) -> None:
        async with sessions() as session:
            summary = await summarize_logins(session, uuid.uuid4(), days=1, now=NOW)
        assert (summary.successes, summary.failures, summary.distinct_users) == (0, 0, 0)
        assert [(d.day, d.successes) for d in summary.per_day] == [(NOW.date(), 0)]
