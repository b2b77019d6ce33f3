"""Identity's user events move users through their stages: once, forward only."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.lifecycle.domain.stages import Stage
from services.lifecycle.handlers import advance_stage, count_tenant_stages
from services.lifecycle.persistence.tables import StageChange, UserStage, messaging
from shared.outbox import Publisher
from tests.lifecycle.builders import invited, logged_in, registered

Sessions = async_sessionmaker[AsyncSession]


async def stage_of(sessions: Sessions, user_id: uuid.UUID) -> UserStage | None:
    async with sessions() as session:
        return await session.get(UserStage, user_id)


async def history(sessions: Sessions, user_id: uuid.UUID) -> list[tuple[str | None, str, str]]:
    async with sessions() as session:
        rows = (await session.execute(select(StageChange).where(StageChange.user_id == user_id)
                                      .order_by(StageChange.at, StageChange.id))).scalars()
        return [(r.from_stage, r.to_stage, r.cause_event_id) for r in rows]


async def published(sessions: Sessions) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.execute(select(messaging.outbox.c.envelope).order_by(messaging.outbox.c.seq))
        return [r.envelope for r in rows]


async def table_count(sessions: Sessions, table) -> int:
    async with sessions() as session:
        return len((await session.execute(select(table))).all())


class TestUserInvited:
    async def test_creates_the_user_at_invited_and_publishes_the_change(self, sessions, consume) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        event = invited(user, tenant)
        await consume(event)
        record = await stage_of(sessions, user)
        assert record and (record.stage, record.tenant_id) == ("invited", tenant)
        assert await history(sessions, user) == [(None, "invited", event.id)]
        [envelope] = await published(sessions)
        assert envelope["type"] == "esop.lifecycle.stage.changed"
        assert envelope["subject"] == str(user) and envelope["tenantid"] == str(tenant)
        assert envelope["data"] == {"user_id": str(user), "tenant_id": str(tenant), "from_stage": None,
                                    "to_stage": "invited", "cause_event_id": event.id}


class TestUserRegistered:
    async def test_moves_an_invited_user_to_registered(self, sessions, consume) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        first, second = invited(user, tenant), registered(user, tenant)
        await consume(first)
        await consume(second)
        assert (await stage_of(sessions, user)).stage == "registered"
        assert await history(sessions, user) == [(None, "invited", first.id), ("invited", "registered", second.id)]
        assert [e["data"]["to_stage"] for e in await published(sessions)] == ["invited", "registered"]

    async def test_creates_a_user_never_seen_invited_at_registered(self, sessions, consume) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        event = registered(user, tenant)
        await consume(event)
        record = await stage_of(sessions, user)
        assert (record.stage, record.tenant_id, record.since) == ("registered", tenant, event.time)
        assert await history(sessions, user) == [(None, "registered", event.id)]


class TestUserLoggedIn:
    async def test_first_login_makes_a_registered_user_active(self, sessions, consume) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        events = [invited(user, tenant), registered(user, tenant), logged_in(user, tenant)]
        for event in events:
            await consume(event)
        record, login = await stage_of(sessions, user), events[-1]
        assert record.stage == "active"
        assert record.since.isoformat() == login.data["at"].replace("Z", "+00:00")
        assert [h[:2] for h in await history(sessions, user)] == [
            (None, "invited"), ("invited", "registered"), ("registered", "active")]

    async def test_later_logins_change_nothing(self, sessions, consume) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        await consume(registered(user, tenant))
        await consume(logged_in(user, tenant))
        before = await stage_of(sessions, user)
        await consume(logged_in(user, tenant))
        after = await stage_of(sessions, user)
        assert (after.stage, after.since) == (before.stage, before.since)
        assert len(await history(sessions, user)) == 2
        assert len(await published(sessions)) == 2

    async def test_creates_a_user_never_seen_at_active(self, sessions, consume) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        event = logged_in(user, tenant)
        await consume(event)
        assert (await stage_of(sessions, user)).stage == "active"
        assert await history(sessions, user) == [(None, "active", event.id)]

    async def test_a_user_without_company_is_tracked_without_one(self, sessions, consume) -> None:
        user = uuid.uuid4()
        await consume(logged_in(user, None))
        record = await stage_of(sessions, user)
        assert (record.stage, record.tenant_id) == ("active", None)
        [envelope] = await published(sessions)
        assert envelope.get("tenantid") is None and envelope["data"]["tenant_id"] is None


class TestRedelivery:
    async def test_the_same_event_twice_changes_nothing(self, sessions, consume) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        event = invited(user, tenant)
        await consume(event)
        before = await stage_of(sessions, user)
        await consume(event)
        after = await stage_of(sessions, user)
        assert (after.stage, after.since, after.updated_at) == (before.stage, before.since, before.updated_at)
        assert len(await history(sessions, user)) == 1
        assert len(await published(sessions)) == 1
        assert await table_count(sessions, messaging.inbox) == 1

    async def test_every_event_redelivered_after_the_fact_changes_nothing(self, sessions, consume) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        events = [invited(user, tenant), registered(user, tenant), logged_in(user, tenant)]
        for event in events:
            await consume(event)
        for event in events:
            await consume(event)
        assert (await stage_of(sessions, user)).stage == "active"
        assert len(await history(sessions, user)) == 3
        assert len(await published(sessions)) == 3

    async def test_the_handler_alone_does_not_repeat_a_move(self, sessions) -> None:
        """Behind the inbox: the same cause applied twice moves the user once."""
        user, tenant = uuid.uuid4(), uuid.uuid4()
        event = registered(user, tenant)
        publish = Publisher("lifecycle", messaging)
        moves = []
        for _ in range(2):
            async with sessions() as session, session.begin():
                moves.append(await advance_stage(session, publish, user_id=user, tenant_id=tenant,
                                                 target=Stage.REGISTERED, at=event.time, cause_event_id=event.id,
                                                 cause_event_type=event.type))
        assert moves[0] is not None and moves[1] is None
        assert len(await history(sessions, user)) == 1


class TestOutOfOrder:
    async def test_login_before_registration_and_invitation_ends_active(self, sessions, consume) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        login = logged_in(user, tenant)
        for event in (login, registered(user, tenant), invited(user, tenant)):
            await consume(event)
        assert (await stage_of(sessions, user)).stage == "active"
        assert await history(sessions, user) == [(None, "active", login.id)]
        assert len(await published(sessions)) == 1

    async def test_registration_before_invitation_ends_registered(self, sessions, consume) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        await consume(registered(user, tenant))
        await consume(invited(user, tenant))
        assert (await stage_of(sessions, user)).stage == "registered"
        assert len(await history(sessions, user)) == 1

    async def test_login_after_invitation_skips_a_late_registration(self, sessions, consume) -> None:
        user, tenant = uuid.uuid4(), uuid.uuid4()
        for event in (invited(user, tenant), logged_in(user, tenant), registered(user, tenant)):
            await consume(event)
        assert (await stage_of(sessions, user)).stage == "active"
        assert [h[:2] for h in await history(sessions, user)] == [(None, "invited"), ("invited", "active")]


class TestMalformedEvent:
    async def test_an_event_without_a_user_goes_to_dead_letters(self, sessions, consume) -> None:
        event = invited(uuid.uuid4(), uuid.uuid4())
        broken = event.model_copy(update={"data": {"tenant_id": event.data["tenant_id"]}})
        await consume(broken)
        async with sessions() as session:
            [dead] = (await session.execute(select(messaging.dead_letters))).mappings().all()
        assert dead["event_id"] == event.id and "user_id" in dead["error"]
        assert await table_count(sessions, UserStage) == 0


class TestCountStages:
    async def test_counts_every_stage_of_one_company(self, sessions, consume) -> None:
        tenant, other = uuid.uuid4(), uuid.uuid4()
        for make in (invited, invited, registered, logged_in):
            await consume(make(uuid.uuid4(), tenant))
        await consume(invited(uuid.uuid4(), other))
        async with sessions() as session:
            counts = await count_tenant_stages(session, tenant)
        assert counts == {Stage.INVITED: 2, Stage.REGISTERED: 1, Stage.VERIFIED: 0, Stage.ACTIVE: 1,
                          Stage.DORMANT: 0, Stage.EXITED: 0}
