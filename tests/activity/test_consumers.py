"""Identity's login events become login records: once each, whatever the redelivery."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.activity.consumers import on_logged_in
from services.activity.persistence.tables import LoginRecord, messaging
from tests.activity.builders import logged_in, logged_out, login_failed

Sessions = async_sessionmaker[AsyncSession]


async def records(sessions: Sessions) -> list[LoginRecord]:
    async with sessions() as session:
        return list((await session.execute(select(LoginRecord).order_by(LoginRecord.at))).scalars())


class TestRecordLogin:
    async def test_a_login_is_recorded_as_a_success(self, sessions, consume) -> None:
        user, tenant, sid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        at = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
        event = logged_in(user, tenant, at=at, session_id=sid)
        await consume(event)
        [r] = await records(sessions)
        assert (r.event_id, r.user_id, r.tenant_id, r.at, r.session_id) == (event.id, user, tenant, at, sid)
        assert (r.kind, r.success, r.reason, r.ip, r.user_agent) == ("login", True, None, "203.0.113.7",
                                                                     "Mozilla/5.0 (pytest)")

    async def test_an_overlong_user_agent_is_cut_to_fit(self, sessions, consume) -> None:
        await consume(logged_in(uuid.uuid4(), None, user_agent="x" * 5000, ip="1" * 100))
        [r] = await records(sessions)
        assert len(r.user_agent) == 512 and len(r.ip) == 64


class TestRecordFailedLogin:
    async def test_a_failed_login_is_recorded_with_its_reason(self, sessions, consume) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        await consume(login_failed(user, tenant, reason="locked"))
        [r] = await records(sessions)
        assert (r.user_id, r.tenant_id, r.kind, r.success, r.reason) == (user, tenant, "login", False, "locked")
        assert r.session_id is None

    async def test_a_login_naming_no_known_account_is_recorded_without_a_user(self, sessions, consume) -> None:
        await consume(login_failed(None, None, reason="not_registered"))
        [r] = await records(sessions)
        assert (r.user_id, r.tenant_id, r.success, r.reason) == (None, None, False, "not_registered")


class TestRecordLogout:
    async def test_a_logout_is_recorded_with_its_session(self, sessions, consume) -> None:
        user, tenant, sid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await consume(logged_in(user, tenant, session_id=sid))
        await consume(logged_out(user, tenant, sid))
        login, logout = await records(sessions)
        assert (logout.kind, logout.success, logout.session_id, logout.ip) == ("logout", True, sid, None)
        assert login.session_id == sid


class TestRedelivery:
    async def test_the_same_event_twice_is_recorded_once(self, sessions, consume) -> None:
        event = logged_in(uuid.uuid4(), uuid.uuid4())
        await consume(event)
        await consume(event)
        assert len(await records(sessions)) == 1
        async with sessions() as session:
            assert len((await session.execute(select(messaging.inbox))).all()) == 1

    async def test_the_handler_alone_records_an_event_once(self, sessions) -> None:
        """Behind the inbox, the unique event id is a second guard."""
        event = logged_in(uuid.uuid4(), uuid.uuid4())
        for _ in range(2):
            async with sessions() as session, session.begin():
                await on_logged_in(session, event)
        assert len(await records(sessions)) == 1

    async def test_records_keep_the_time_of_the_login_not_of_delivery(self, sessions, consume) -> None:
        at = datetime.now(UTC) - timedelta(days=3)
        await consume(logged_in(uuid.uuid4(), None, at=at))
        [r] = await records(sessions)
        assert r.at == at


class TestMalformedEvent:
    async def test_a_login_without_a_user_goes_to_dead_letters(self, sessions, consume) -> None:
        event = logged_in(uuid.uuid4(), None)
        await consume(event.model_copy(update={"data": {"at": event.data["at"]}}))
        assert await records(sessions) == []
        async with sessions() as session:
            [dead] = (await session.execute(select(messaging.dead_letters))).mappings().all()
        assert dead["event_id"] == event.id
