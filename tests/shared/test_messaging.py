"""The messaging layer against a real PostgreSQL and a real Kafka-protocol broker.

Each test gets its own database holding a throwaway schema: the shared outbox, inbox and
dead-letter tables plus two effect tables. The effect of an event is one row in `effects`
(no unique constraint, so a double application shows as two rows) and an upsert into
`counts` (per aggregate: how many events, and the sum of their amounts).
"""
from __future__ import annotations

import asyncio
import threading
import inspect
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kafka import KafkaConsumer
from kafka.structs import TopicPartition
from sqlalchemy import Column, Integer, String, Table, create_engine, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from shared.bus import EventBus, InProcessBus
from shared.db import driver_url, make_engine, make_sessionmaker, schema_base
from shared.events import CloudEvent
from shared.inbox import Consumer
from shared.kafka_bus import KafkaBus
from shared.outbox import OutboxRelay, add_event
from shared.tables import MessagingTables
from tests import pg
from tests.kafka_broker import CONSUMER_MAX_POLL_MS
from tests.kafka_proxy import TcpProxy

SCHEMA = "msgtest"
CONSUMER = "msgtest-counter"
DEADLINE = 60.0


# -- the throwaway schema ------------------------------------------------------------------------

Base = schema_base(SCHEMA)
messaging = MessagingTables(Base.metadata)
effects = Table(
    "effects", Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("aggregate_id", String(64), nullable=False),
    Column("amount", Integer, nullable=False),
)
counts = Table(
    "counts", Base.metadata,
    Column("aggregate_id", String(64), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("total", Integer, nullable=False),
)


async def apply_counted(session: AsyncSession, event: CloudEvent) -> None:
    amount = int(event.data["amount"])
    await session.execute(effects.insert().values(event_id=event.id, aggregate_id=event.subject, amount=amount))
    await session.execute(
        insert(counts).values(aggregate_id=event.subject, n=1, total=amount)
        .on_conflict_do_update(index_elements=[counts.c.aggregate_id],
                               set_={"n": counts.c.n + 1, "total": counts.c.total + amount}))


def make_event(service: str, aggregate: str, amount: int = 1, verb: str = "counted") -> CloudEvent:
    return CloudEvent(source=f"/esop/{service}", type=f"esop.{service}.thing.{verb}", subject=aggregate,
                      tenantid="tenant-1", dataschema=f"urn:esop:event:esop.{service}.thing.{verb}:v1",
                      data={"amount": amount, "note": "持股 ✓"})


def unique_service() -> str:
    """A service name (hence a topic) of our own: the broker lives for the whole session."""
    return f"m{uuid.uuid4().hex[:10]}"


@dataclass
class MsgDb:
    url: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    async def write(self, events: list[CloudEvent]) -> list[CloudEvent]:
        """Commit `events` to the outbox in one transaction (as a handler's unit of work would)."""
        async with self.sessionmaker() as session, session.begin():
            for event in events:
                await add_event(session, messaging, event)
        return events

    async def scalar(self, stmt: Any) -> Any:
        async with self.sessionmaker() as session:
            return (await session.execute(stmt)).scalar_one()

    async def rows(self, stmt: Any) -> list[Any]:
        async with self.sessionmaker() as session:
            return list((await session.execute(stmt)).all())

    async def pending(self) -> int:
        return await self.scalar(select(func.count()).select_from(messaging.outbox)
                                 .where(messaging.outbox.c.published_at.is_(None)))

    async def inbox_count(self, consumer: str = CONSUMER) -> int:
        return await self.scalar(select(func.count()).select_from(messaging.inbox)
                                 .where(messaging.inbox.c.consumer == consumer))

    async def inbox_ids(self, consumer: str = CONSUMER) -> set[str]:
        return {r.event_id for r in await self.rows(select(messaging.inbox.c.event_id)
                                                    .where(messaging.inbox.c.consumer == consumer))}

    async def effect_rows(self) -> list[Any]:
        return await self.rows(select(effects.c.event_id, effects.c.aggregate_id, effects.c.amount)
                               .order_by(effects.c.id))

    async def counts(self) -> dict[str, tuple[int, int]]:
        return {r.aggregate_id: (r.n, r.total) for r in await self.rows(select(counts))}

    async def outbox_rows(self) -> list[Any]:
        return await self.rows(select(messaging.outbox).order_by(messaging.outbox.c.seq))


def expected_counts(events: list[CloudEvent]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for e in events:
        n, total = out.get(e.subject, (0, 0))  # type: ignore[arg-type]
        out[e.subject] = (n + 1, total + int(e.data["amount"]))  # type: ignore[index]
    return out


async def wait_for(predicate: Callable[[], Any], what: str, timeout: float = DEADLINE, interval: float = 0.1) -> Any:
    """Poll `predicate` (plain or async) until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(interval)


@pytest.fixture
async def msg_db(pg_server: str) -> AsyncIterator[MsgDb]:
    """A fresh database with the throwaway schema, for this test alone."""
    name = f"esop_msg_{uuid.uuid4().hex[:12]}"
    url = pg.create_database(pg_server, name)
    sync = create_engine(driver_url(url, "psycopg2"), poolclass=NullPool)
    try:
        with sync.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
            Base.metadata.create_all(conn)
    finally:
        sync.dispose()
    engine = make_engine(url, SCHEMA)
    try:
        yield MsgDb(url, engine, make_sessionmaker(engine))
    finally:
        await engine.dispose()
        pg.drop_database(pg_server, name)


@pytest.fixture
async def cleanup() -> AsyncIterator[list[Callable[[], Awaitable[None]]]]:
    """Register async stoppers; they run last-in first-out after the test, even when it fails."""
    stoppers: list[Callable[[], Awaitable[None]]] = []
    yield stoppers
    for stop in reversed(stoppers):
        try:
            await asyncio.wait_for(stop(), timeout=30)
        except Exception:  # noqa: BLE001 - keep stopping the rest
            pass


def counter_consumer(db: MsgDb, service: str, **kw: Any) -> Consumer:
    return Consumer(CONSUMER, db.sessionmaker, messaging, {f"esop.{service}.thing.counted": apply_counted}, **kw)


class RecordingBus(EventBus):
    """An in-process bus that can be broken, and remembers what it delivered, in order."""

    def __init__(self) -> None:
        self.inner = InProcessBus()
        self.broken = False
        self.delivered: list[str] = []
        self.publish_calls = 0

    def subscribe(self, group: str, topics: list[str], handler: Any) -> None:
        self.inner.subscribe(group, topics, handler)

    async def publish(self, events: list[CloudEvent]) -> None:
        self.publish_calls += 1
        if self.broken:
            raise ConnectionError("broker unreachable: connection refused")
        await self.inner.publish(events)
        self.delivered.extend(e.id for e in events)


# -- outbox -> relay -> in-process bus -> consumer with inbox -------------------------------------

class TestOutboxDeliversThroughInProcessBus:
    async def test_committed_events_are_delivered_once(self, msg_db: MsgDb, cleanup: list) -> None:
        service = unique_service()
        bus = RecordingBus()
        bus.subscribe("counter", [f"esop.{service}"], counter_consumer(msg_db, service))
        relay = OutboxRelay(msg_db.engine, messaging, bus, poll_seconds=0.2)
        await relay.start()
        cleanup.append(relay.stop)

        written = await msg_db.write([make_event(service, "u1", 1), make_event(service, "u2", 10)])
        written += await msg_db.write([make_event(service, "u1", 100)])

        await wait_for(lambda: self._all_published(msg_db, 3), "the relay to publish 3 events")
        assert sorted(r.event_id for r in await msg_db.effect_rows()) == sorted(e.id for e in written)
        assert await msg_db.counts() == {"u1": (2, 101), "u2": (1, 10)}
        assert await msg_db.inbox_ids() == {e.id for e in written}
        assert bus.delivered == [e.id for e in written]  # in commit (seq) order

        # Nothing more to do: a further pass publishes nothing and applies nothing.
        assert await relay.relay_once() == 0
        assert len(await msg_db.effect_rows()) == 3

    @staticmethod
    async def _all_published(db: MsgDb, n: int) -> bool:
        rows = await db.outbox_rows()
        return len(rows) == n and all(r.published_at is not None for r in rows)

    async def test_the_stored_envelope_leaves_out_attributes_without_a_value(self, msg_db: MsgDb) -> None:
        """Regression: a platform-wide event was stored with "tenantid": null (and "subject": null), where
        the catalogue says such attributes are absent; null values inside the data stay."""
        event = CloudEvent(source="/esop/x", type="esop.x.thing.happened", data={"user_id": None, "n": 1})
        await msg_db.write([event])
        [row] = [r for r in await msg_db.outbox_rows() if r.event_id == event.id]
        assert "tenantid" not in row.envelope and "subject" not in row.envelope and "dataschema" not in row.envelope
        assert row.envelope["data"] == {"user_id": None, "n": 1}
        assert CloudEvent.model_validate(row.envelope) == event

    async def test_relay_wakes_on_notify_without_polling(self, msg_db: MsgDb, cleanup: list) -> None:
        service = unique_service()
        bus = RecordingBus()
        bus.subscribe("counter", [f"esop.{service}"], counter_consumer(msg_db, service))
        relay = OutboxRelay(msg_db.engine, messaging, bus, poll_seconds=3600)  # only NOTIFY can wake it
        await relay.start()
        cleanup.append(relay.stop)
        first, = await msg_db.write([make_event(service, "u1", 5)])
        await wait_for(msg_db.effect_rows, "the first event to be applied")
        await asyncio.sleep(0.3)  # let the relay go idle, waiting for a notification

        second, = await msg_db.write([make_event(service, "u1", 6)])

        await wait_for(lambda: self._all_published(msg_db, 2), "the second event to be published")
        assert await msg_db.inbox_ids() == {first.id, second.id}
        assert await msg_db.counts() == {"u1": (2, 11)}

    async def test_rolled_back_transaction_publishes_nothing(self, msg_db: MsgDb) -> None:
        service = unique_service()
        bus = RecordingBus()
        bus.subscribe("counter", [f"esop.{service}"], counter_consumer(msg_db, service))
        relay = OutboxRelay(msg_db.engine, messaging, bus)

        async with msg_db.sessionmaker() as session:
            await session.begin()
            await add_event(session, messaging, make_event(service, "u1", 1))
            await session.rollback()
        with pytest.raises(RuntimeError, match="business rule"):
            async with msg_db.sessionmaker() as session, session.begin():
                await add_event(session, messaging, make_event(service, "u1", 2))
                raise RuntimeError("business rule broken after the event was written")
        kept, = await msg_db.write([make_event(service, "u2", 3)])

        assert await relay.relay_once() == 1
        assert [r.event_id for r in await msg_db.outbox_rows()] == [kept.id]
        assert bus.delivered == [kept.id]
        assert [r.event_id for r in await msg_db.effect_rows()] == [kept.id]
        assert await msg_db.counts() == {"u2": (1, 3)}

    async def test_redelivery_applies_the_effect_once(self, msg_db: MsgDb) -> None:
        service = unique_service()
        consumer = counter_consumer(msg_db, service)
        bus = RecordingBus()
        bus.subscribe("counter", [f"esop.{service}"], consumer)
        relay = OutboxRelay(msg_db.engine, messaging, bus)
        event, = await msg_db.write([make_event(service, "u1", 7)])
        assert await relay.relay_once() == 1

        await consumer(event)  # the broker delivers it again
        await consumer(CloudEvent.model_validate(event.model_dump(mode="json")))  # a copy, as decoded off the wire
        await bus.publish([event])  # or the relay publishes it again (crash before marking it published)

        assert [r.event_id for r in await msg_db.effect_rows()] == [event.id]
        assert await msg_db.counts() == {"u1": (1, 7)}
        assert await msg_db.inbox_ids() == {event.id}

    async def test_transient_failure_is_retried_and_applied_once(self, msg_db: MsgDb) -> None:
        service = unique_service()
        calls = Counter()

        async def flaky(session: AsyncSession, event: CloudEvent) -> None:
            calls[event.id] += 1
            await apply_counted(session, event)  # written, then rolled back by the failure
            if calls[event.id] < 3:
                raise TimeoutError("downstream busy")

        consumer = Consumer(CONSUMER, msg_db.sessionmaker, messaging, {f"esop.{service}.thing.counted": flaky},
                            max_attempts=5, base_delay=0.01)
        event = make_event(service, "u1", 4)
        await consumer(event)

        assert calls[event.id] == 3
        assert [r.event_id for r in await msg_db.effect_rows()] == [event.id]
        assert await msg_db.counts() == {"u1": (1, 4)}
        assert await msg_db.rows(select(messaging.dead_letters)) == []

    async def test_poison_event_goes_to_dead_letters_and_the_stream_goes_on(self, msg_db: MsgDb) -> None:
        service = unique_service()
        attempts = Counter()

        async def poisoned(session: AsyncSession, event: CloudEvent) -> None:
            attempts[event.id] += 1
            await session.execute(effects.insert().values(event_id=event.id, aggregate_id="poison", amount=0))
            raise ValueError(f"cannot handle amount {event.data['amount']}")

        consumer = Consumer(CONSUMER, msg_db.sessionmaker, messaging,
                            {f"esop.{service}.thing.counted": apply_counted,
                             f"esop.{service}.thing.poisoned": poisoned},
                            max_attempts=3, base_delay=0.01)
        bus = RecordingBus()
        bus.subscribe("counter", [f"esop.{service}"], consumer)
        relay = OutboxRelay(msg_db.engine, messaging, bus)
        first, bad, last = await msg_db.write([make_event(service, "u1", 1),
                                               make_event(service, "u1", 666, verb="poisoned"),
                                               make_event(service, "u1", 2)])

        assert await relay.relay_once() == 3
        assert await msg_db.pending() == 0
        assert attempts[bad.id] == 1 + 3  # once inside the batch (rolled back), then its own three tries
        assert [r.event_id for r in await msg_db.effect_rows()] == [first.id, last.id]  # nothing of the bad one
        assert await msg_db.counts() == {"u1": (2, 3)}
        dead = await msg_db.rows(select(messaging.dead_letters))
        assert len(dead) == 1
        assert (dead[0].consumer, dead[0].event_id, dead[0].type, dead[0].attempts) == (
            CONSUMER, bad.id, bad.type, 3)
        assert dead[0].error == "ValueError: cannot handle amount 666"
        assert CloudEvent.model_validate(dead[0].envelope) == bad

        await consumer(bad)  # redelivered: not retried, not dead-lettered twice
        assert attempts[bad.id] == 1 + 3
        assert len(await msg_db.rows(select(messaging.dead_letters))) == 1


# -- relay when the bus is down --------------------------------------------------------------------

class TestRelayWhileBusIsDown:
    async def test_events_wait_with_backoff_then_go_out_in_order(self, msg_db: MsgDb, cleanup: list) -> None:
        service = unique_service()
        bus = RecordingBus()
        bus.subscribe("counter", [f"esop.{service}"], counter_consumer(msg_db, service))
        relay = OutboxRelay(msg_db.engine, messaging, bus, poll_seconds=0.1, max_backoff=30)
        bus.broken = True
        written = [e for i in range(3) for e in await msg_db.write([make_event(service, f"u{i % 2}", i)])]

        before = datetime.now(UTC)
        assert await relay.relay_once() == 0
        rows = await msg_db.outbox_rows()
        assert [r.event_id for r in rows] == [e.id for e in written]
        for r in rows:
            assert r.published_at is None
            assert r.attempts == 1
            assert "connection refused" in r.last_error
            assert r.next_attempt_at >= before + timedelta(seconds=0.9)  # 0.5 s * 2**1

        # Before the backoff is over the relay does not even try.
        calls = bus.publish_calls
        assert await relay.relay_once() == 0
        assert bus.publish_calls == calls
        # Events written meanwhile wait behind the older ones.
        written += await msg_db.write([make_event(service, "u9", 9)])
        assert await relay.relay_once() == 0
        assert bus.publish_calls == calls

        # Time passes (moved forward in the table instead of sleeping); the bus is still down.
        await self._make_due(msg_db)
        before = datetime.now(UTC)
        assert await relay.relay_once() == 0
        rows = await msg_db.outbox_rows()
        assert [r.attempts for r in rows] == [2, 2, 2, 1]  # the whole batch was tried, the old rows twice
        assert all(r.published_at is None for r in rows)
        assert rows[0].next_attempt_at >= before + timedelta(seconds=1.9)  # 0.5 s * 2**2: the backoff grows
        assert bus.delivered == []
        assert await msg_db.effect_rows() == []

        # The bus comes back: once due, everything goes out, oldest first.
        bus.broken = False
        await self._make_due(msg_db)
        await relay.start()
        cleanup.append(relay.stop)
        await wait_for(lambda: self._none_pending(msg_db), "the outbox to drain")
        assert bus.delivered == [e.id for e in written]
        rows = await msg_db.outbox_rows()
        assert all(r.last_error is None for r in rows)
        assert [r.event_id for r in await msg_db.effect_rows()] == [e.id for e in written]

    @staticmethod
    async def _make_due(db: MsgDb) -> None:
        async with db.sessionmaker() as session, session.begin():
            await session.execute(update(messaging.outbox).values(next_attempt_at=func.now()))

    @staticmethod
    async def _none_pending(db: MsgDb) -> bool:
        return await db.pending() == 0


class GatedBus(RecordingBus):
    """Holds its first publish until released, as a slow broker round trip would."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def publish(self, events: list[CloudEvent]) -> None:
        if not self.entered.is_set():
            self.entered.set()
            await self.release.wait()
        await super().publish(events)


class TestRelayReplicas:
    async def test_a_second_relay_does_not_overtake_the_first(self, msg_db: MsgDb) -> None:
        service = unique_service()
        bus = GatedBus()
        first_relay = OutboxRelay(msg_db.engine, messaging, bus)
        second_relay = OutboxRelay(msg_db.engine, messaging, bus)
        earlier, = await msg_db.write([make_event(service, "u1", 1)])
        publishing = asyncio.create_task(first_relay.relay_once())
        await asyncio.wait_for(bus.entered.wait(), DEADLINE)  # the first relay has claimed `earlier`

        later, = await msg_db.write([make_event(service, "u1", 2)])  # the same user's next event
        assert await second_relay.relay_once() == 0  # stands by while the first one publishes
        assert bus.delivered == []

        bus.release.set()
        assert await asyncio.wait_for(publishing, DEADLINE) == 1
        assert await second_relay.relay_once() == 1
        assert bus.delivered == [earlier.id, later.id]
        assert await msg_db.pending() == 0


# -- Kafka ------------------------------------------------------------------------------------------

@dataclass
class KafkaRig:
    """Relay -> KafkaBus (producer) -> broker -> KafkaBus (consumer group) -> Consumer with inbox."""

    db: MsgDb
    bootstrap: str
    service: str = field(default_factory=unique_service)
    group: str = field(default_factory=lambda: f"g-{uuid.uuid4().hex[:10]}")
    deliveries: Counter = field(default_factory=Counter)

    @property
    def topic(self) -> str:
        return f"esop.{self.service}"

    async def start_relay(self, cleanup: list, **kw: Any) -> OutboxRelay:
        producer = KafkaBus(self.bootstrap, client_id=f"relay-{self.service}", topics=[self.topic],
                            publish_timeout=kw.pop("publish_timeout", 10.0))
        relay = OutboxRelay(self.db.engine, messaging, producer, poll_seconds=0.2, **kw)
        cleanup.append(producer.stop)
        await relay.start()
        cleanup.append(relay.stop)
        return relay

    async def start_consumer(self, cleanup: list) -> KafkaBus:
        consumer = counter_consumer(self.db, self.service, base_delay=0.05)

        async def counting(event: CloudEvent) -> None:
            self.deliveries[event.id] += 1
            await consumer(event)

        bus = KafkaBus(self.bootstrap, client_id=f"consumer-{self.service}", max_poll_interval_ms=CONSUMER_MAX_POLL_MS)
        bus.subscribe(self.group, consumer.topics, counting)
        await bus.start()
        cleanup.append(bus.stop)
        return bus

    async def all_handled(self, written: list[CloudEvent]) -> bool:
        return await self.db.inbox_count() >= len(written) and await self.db.pending() == 0


def read_topic(bootstrap: str, topic: str, n: int, timeout: float = DEADLINE) -> tuple[list[Any], int]:
    """Every record on `topic` (at least `n`), read with a raw consumer outside any group, and the sum of the
    partitions' high watermarks as the fetch responses report them. (Tansu answers ListOffsets(latest), hence
    `end_offsets()`, with wrong numbers, so the high watermarks come from the fetches.)"""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", client_id="raw-reader")
    try:
        deadline = time.monotonic() + timeout
        while not (partitions := consumer.partitions_for_topic(topic)):
            if time.monotonic() > deadline:
                raise AssertionError(f"topic {topic} not found")
            time.sleep(0.1)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        while len(records) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"read {len(records)} of {n} records from {topic}")
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        for batch in consumer.poll(timeout_ms=500).values():  # anything beyond n (there should be nothing)
            records.extend(batch)
        end = sum(consumer.highwater(tp) or 0 for tp in tps)
        return records, end
    finally:
        consumer.close()


class TestKafkaBusEndToEnd:
    async def test_each_event_is_applied_exactly_once(self, msg_db: MsgDb, kafka_broker: str, cleanup: list) -> None:
        rig = KafkaRig(msg_db, kafka_broker)
        await rig.start_consumer(cleanup)
        await rig.start_relay(cleanup)

        written: list[CloudEvent] = []
        for i in range(6):
            written += await msg_db.write([make_event(rig.service, f"user-{(i * 5 + j) % 7}", i * 5 + j)
                                           for j in range(5)])

        await wait_for(lambda: rig.all_handled(written), "30 events to be consumed")
        assert await msg_db.inbox_ids() == {e.id for e in written}
        applied = await msg_db.effect_rows()
        assert sorted(r.event_id for r in applied) == sorted(e.id for e in written)
        assert await msg_db.counts() == expected_counts(written)
        assert set(rig.deliveries) == {e.id for e in written}

    async def test_records_are_binary_mode_cloudevents_keyed_by_subject(self, msg_db: MsgDb, kafka_broker: str,
                                                                        cleanup: list) -> None:
        rig = KafkaRig(msg_db, kafka_broker)
        relay = await rig.start_relay(cleanup)
        written: list[CloudEvent] = []
        for i in range(4):
            written += await msg_db.write([make_event(rig.service, f"user-{j}", i * 10 + j) for j in range(3)])
        await wait_for(lambda: relay.published >= len(written), "the relay to publish")

        records, end = await asyncio.to_thread(read_topic, kafka_broker, rig.topic, len(written))
        assert len(records) == end == len(written)  # each published once, nothing else on the topic
        by_id = {e.id: e for e in written}
        for record in records:
            headers = {k: v.decode() for k, v in record.headers}
            event = by_id[headers["ce_id"]]
            assert record.key == event.subject.encode()
            assert headers["ce_specversion"] == "1.0"
            assert headers["ce_type"] == event.type
            assert headers["ce_source"] == event.source
            assert headers["ce_subject"] == event.subject
            assert headers["ce_tenantid"] == event.tenantid
            assert headers["ce_dataschema"] == event.dataschema
            assert datetime.fromisoformat(headers["ce_time"]) == event.time
            assert headers["content-type"] == "application/json"
            assert "ce_data" not in headers and "ce_datacontenttype" not in headers
            assert json.loads(record.value) == event.data
        assert {dict(r.headers)["ce_id"].decode() for r in records} == set(by_id)

        # One aggregate's events share a partition, in the order they were written.
        for subject in {e.subject for e in written}:
            mine = [r for r in records if r.key == subject.encode()]
            assert len({r.partition for r in mine}) == 1
            got = [dict(r.headers)["ce_id"].decode() for r in sorted(mine, key=lambda r: r.offset)]
            assert got == [e.id for e in written if e.subject == subject]

    async def test_a_restarted_consumer_resumes_after_its_committed_offsets(self, msg_db: MsgDb, kafka_broker: str,
                                                                             cleanup: list) -> None:
        rig = KafkaRig(msg_db, kafka_broker)
        first_bus = await rig.start_consumer(cleanup)
        await rig.start_relay(cleanup)
        first = await msg_db.write([make_event(rig.service, f"user-{j}", j) for j in range(10)])
        await wait_for(lambda: rig.all_handled(first), "the first events to be consumed")
        await first_bus.stop()

        await rig.start_consumer(cleanup)  # same group, new process
        second = await msg_db.write([make_event(rig.service, f"user-{j}", 100 + j) for j in range(10)])
        await wait_for(lambda: rig.all_handled(first + second), "the later events to be consumed")

        assert await msg_db.inbox_ids() == {e.id for e in first + second}
        assert await msg_db.counts() == expected_counts(first + second)
        assert len(await msg_db.effect_rows()) == 20
        # Offsets were committed after each handled event: the new member started where the old one stopped.
        assert all(rig.deliveries[e.id] == 1 for e in first), rig.deliveries

    async def test_a_poison_event_is_dead_lettered_and_the_stream_goes_on(self, msg_db: MsgDb, kafka_broker: str,
                                                                         cleanup: list) -> None:
        rig = KafkaRig(msg_db, kafka_broker)

        async def poisoned(session: AsyncSession, event: CloudEvent) -> None:
            raise ValueError("unknown share class")

        consumer = Consumer(CONSUMER, msg_db.sessionmaker, messaging,
                            {f"esop.{rig.service}.thing.counted": apply_counted,
                             f"esop.{rig.service}.thing.poisoned": poisoned},
                            max_attempts=3, base_delay=0.05)
        bus = KafkaBus(kafka_broker, client_id=f"consumer-{rig.service}", max_poll_interval_ms=CONSUMER_MAX_POLL_MS)
        bus.subscribe(rig.group, consumer.topics, consumer)
        await bus.start()
        cleanup.append(bus.stop)
        await rig.start_relay(cleanup)
        # All on one key, hence one partition: the events after the poison one wait for it.
        written = await msg_db.write([make_event(rig.service, "user-1", 1),
                                      make_event(rig.service, "user-1", 2, verb="poisoned"),
                                      make_event(rig.service, "user-1", 3)])
        written += await msg_db.write([make_event(rig.service, "user-1", 4)])

        await wait_for(lambda: rig.all_handled(written), "the events after the poison one to be consumed")
        dead = await msg_db.rows(select(messaging.dead_letters))
        assert [(d.event_id, d.error, d.attempts) for d in dead] == [
            (written[1].id, "ValueError: unknown share class", 3)]
        assert [r.event_id for r in await msg_db.effect_rows()] == [written[0].id, written[2].id, written[3].id]
        assert await msg_db.counts() == {"user-1": (3, 8)}


class TestBrokerOutage:
    @pytest.mark.parametrize("mode", ["refuse", "blackhole"])
    async def test_nothing_is_lost_or_applied_twice(self, mode: str, msg_db: MsgDb, kafka_proxy: TcpProxy,
                                                    cleanup: list) -> None:
        rig = KafkaRig(msg_db, kafka_proxy.address)
        await rig.start_consumer(cleanup)
        await rig.start_relay(cleanup, publish_timeout=3.0, max_backoff=2.0)

        async def restore() -> None:
            kafka_proxy.restore()
        cleanup.append(restore)  # first to run at teardown, so that the clients can shut down cleanly

        written: list[CloudEvent] = []

        async def write_batch(batch: int, n: int = 20) -> None:
            for i in range(n):
                written.extend(await msg_db.write([make_event(rig.service, f"user-{i % 6}", batch * 100 + i)]))
                await asyncio.sleep(0.02)

        # Batch 1 flows end to end.
        await write_batch(1)
        await wait_for(lambda: self._handled_at_least(msg_db, 5), "the stream to be flowing")

        # Batch 2: the network goes away while the service is writing.
        writer = asyncio.create_task(write_batch(2))
        await wait_for(lambda: len(written) >= 30, "half of batch 2")
        kafka_proxy.cut(mode)
        await writer
        cut_at = len(written)

        # Batch 3: written during the outage; it waits in the outbox, the relay retrying with backoff.
        await write_batch(3)
        batch3 = {e.id for e in written[40:]}
        assert await msg_db.pending() >= len(batch3)
        await wait_for(lambda: self._failed_attempt_recorded(msg_db), "the relay to record a failed publish")
        assert not (await msg_db.inbox_ids()) & batch3
        assert kafka_proxy.is_cut and cut_at >= 30

        kafka_proxy.restore()
        await wait_for(lambda: rig.all_handled(written), f"all {len(written)} events to be consumed", timeout=120)

        ids = [e.id for e in written]
        assert len(set(ids)) == len(ids) == 60
        assert await msg_db.inbox_count() == 60
        assert await msg_db.inbox_ids() == set(ids)
        applied = await msg_db.effect_rows()
        assert len(applied) == 60 and {r.event_id for r in applied} == set(ids)  # each applied exactly once
        assert await msg_db.counts() == expected_counts(written)
        assert await msg_db.pending() == 0
        assert set(rig.deliveries) == set(ids)  # redeliveries (if any) were absorbed by the inbox

    @staticmethod
    async def _handled_at_least(db: MsgDb, n: int) -> bool:
        return await db.inbox_count() >= n

    @staticmethod
    async def _failed_attempt_recorded(db: MsgDb) -> bool:
        rows = await db.rows(select(messaging.outbox.c.seq).where(messaging.outbox.c.published_at.is_(None),
                                                                  messaging.outbox.c.attempts > 0,
                                                                  messaging.outbox.c.last_error.is_not(None)))
        return bool(rows)


class TestBrokerReadiness:
    """Regression: with the broker stalled, every service's /readyz hung for as long as the stall
    lasted, so the gateway's /health called every service unreachable instead of saying 'bus: error'."""

    async def test_a_stalled_broker_is_not_ready_and_the_check_does_not_hang(self, kafka_proxy: TcpProxy) -> None:
        bus = KafkaBus(kafka_proxy.address)
        assert await asyncio.wait_for(bus.ready(), 30)
        kafka_proxy.cut("blackhole")
        try:
            answers = await asyncio.wait_for(asyncio.gather(*(bus.ready() for _ in range(5))), 10)
        finally:
            kafka_proxy.restore()
            await bus.stop()
        assert answers == [False] * 5

    async def test_a_failed_publish_leaves_no_producer_thread_behind(self, kafka_proxy: TcpProxy) -> None:
        """Regression: after a publish failed, close(timeout=0) raised (records still buffered), so
        each failure left a live producer thread and its sockets behind, and a traceback at exit."""
        bus = KafkaBus(kafka_proxy.address, client_id="esop-leak-check", publish_timeout=2.0)
        event = make_event("leak", "user-1", 1)
        await bus.publish([event])
        kafka_proxy.cut("blackhole")
        try:
            with pytest.raises(Exception):  # noqa: B017 - whatever kafka-python raises: the relay retries
                await bus.publish([make_event("leak", "user-1", n) for n in range(2, 5)])
        finally:
            kafka_proxy.restore()
        await bus.stop()
        await asyncio.sleep(1)
        assert [t.name for t in threading.enumerate() if t.name.startswith("esop-leak-check")] == []
