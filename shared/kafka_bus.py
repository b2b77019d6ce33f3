"""Kafka event bus on kafka-python: binary-mode CloudEvents, key = subject, acks=all.

kafka-python is blocking, so the producer runs in a worker thread and each consumer group
polls in its own thread, handing records to the service's event loop. Offsets are committed
only after the handler (which commits the database transaction) has returned.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata, TopicPartition

from shared.bus import EventBus, Handler, deliver_batch
from shared.events import CloudEvent

log = logging.getLogger("esop.kafka")


def to_record(event: CloudEvent) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    headers = [(f"ce_{k}", v.encode()) for k, v in event.attributes().items()]
    headers.append(("content-type", event.datacontenttype.encode()))
    key = event.subject.encode() if event.subject else None
    return key, json.dumps(event.data, ensure_ascii=False).encode(), headers


def from_record(headers: list[tuple[str, bytes]], value: bytes) -> CloudEvent:
    attrs: dict[str, Any] = {}
    for name, raw in headers or []:
        if name.startswith("ce_"):
            attrs[name[3:]] = raw.decode()
        elif name == "content-type":
            attrs["datacontenttype"] = raw.decode()
    attrs["data"] = json.loads(value) if value else {}
    return CloudEvent.model_validate(attrs)


def _discard(producer: KafkaProducer) -> None:
    """Close a producer that failed, dropping what it still buffers. kafka-python's close(timeout=0)
    flushes first and raises while records are buffered, leaving its network thread running; so
    force that thread to stop without sending, then close."""
    try:
        producer.close(timeout=0)
        return
    except KafkaError:
        pass
    sender = getattr(producer, "_sender", None)
    if sender is not None:
        sender.force_close()
        sender.join(5)
    try:
        producer.close(timeout=0)
    except KafkaError as exc:
        log.warning("a failed producer did not close cleanly: %r", exc)


class KafkaBus(EventBus):
    def __init__(self, bootstrap_servers: str, *, client_id: str = "esop", max_poll_interval_ms: int = 300_000,
                 topics: list[str] | None = None, publish_timeout: float = 10.0):
        self.bootstrap = bootstrap_servers.split(",")
        self.client_id = client_id
        self.max_poll_interval_ms = max_poll_interval_ms
        self.topics = set(topics or [])
        self.publish_timeout = publish_timeout
        self._producer: KafkaProducer | None = None
        self._producer_lock = threading.Lock()
        self._subs: list[tuple[str, list[str], Handler]] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._created: set[str] = set()
        self._ready_check: asyncio.Future[bool] | None = None

    # -- topics -------------------------------------------------------------
    def _admin(self) -> KafkaAdminClient:
        return KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=f"{self.client_id}-admin",
                                request_timeout_ms=5000, bootstrap_timeout_ms=5000)

    def _ensure_topics(self) -> None:
        """Create the topics this bus uses that it has not seen exist yet (no reliance on auto-creation)."""
        wanted = self.topics - self._created
        if not wanted:
            return
        admin = self._admin()
        try:
            existing = set(admin.list_topics())
            missing = [NewTopic(t, num_partitions=3, replication_factor=1) for t in wanted if t not in existing]
            if missing:
                try:
                    admin.create_topics(missing)
                except TopicAlreadyExistsError:
                    pass
        finally:
            admin.close()
        self._created |= wanted

    # -- producing ----------------------------------------------------------
    def _get_producer(self) -> KafkaProducer:
        with self._producer_lock:
            if self._producer is None:
                self._producer = KafkaProducer(
                    bootstrap_servers=self.bootstrap, client_id=self.client_id, acks="all", linger_ms=2,
                    retries=3, request_timeout_ms=int(self.publish_timeout * 1000), max_block_ms=5000,
                    reconnect_backoff_max_ms=1000)
            return self._producer

    def _publish_sync(self, events: list[CloudEvent]) -> None:
        self._ensure_topics()
        producer = self._get_producer()
        try:
            futures = []
            for event in events:
                key, value, headers = to_record(event)
                futures.append(producer.send(event.topic, key=key, value=value, headers=headers))
            producer.flush(timeout=self.publish_timeout)
            for f in futures:
                f.get(timeout=self.publish_timeout)
        except Exception:
            # Drop what the producer still buffers: the relay publishes these rows again later.
            with self._producer_lock:
                self._producer = None
            _discard(producer)
            raise

    async def publish(self, events: list[CloudEvent]) -> None:
        for event in events:
            self.topics.add(event.topic)
        await asyncio.to_thread(self._publish_sync, events)

    # -- consuming ----------------------------------------------------------
    def subscribe(self, group: str, topics: list[str], handler: Handler) -> None:
        self.topics.update(topics)
        self._subs.append((group, topics, handler))

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping.clear()
        for group, topics, handler in self._subs:
            t = threading.Thread(target=self._consume, args=(group, topics, handler), daemon=True,
                                 name=f"kafka-{group}")
            t.start()
            self._threads.append(t)

    async def stop(self) -> None:
        self._stopping.set()
        if self._ready_check is not None:
            await asyncio.wait([self._ready_check], timeout=10)
        for t in self._threads:
            await asyncio.to_thread(t.join, 10)
        self._threads.clear()
        if self._producer is not None:
            await asyncio.to_thread(self._producer.close, 5)
            self._producer = None

    async def ready(self, timeout: float = 2.0) -> bool:
        """Whether the brokers answer, within `timeout`. A stalled broker is 'not ready', never a
        health check that hangs; concurrent checks share the one connection attempt in flight."""
        def check() -> bool:
            try:
                self._admin().close()
                return True
            except KafkaError:
                return False

        if self._ready_check is None or self._ready_check.done():
            self._ready_check = asyncio.ensure_future(asyncio.to_thread(check))
        try:
            return await asyncio.wait_for(asyncio.shield(self._ready_check), timeout)
        except TimeoutError:
            return False

    def _new_consumer(self, group: str, topics: list[str]) -> KafkaConsumer:
        self._ensure_topics()
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=group, client_id=f"{self.client_id}-{group}",
            enable_auto_commit=False, auto_offset_reset="earliest",
            max_poll_interval_ms=self.max_poll_interval_ms,
            session_timeout_ms=min(10_000, self.max_poll_interval_ms),
            heartbeat_interval_ms=min(3_000, self.max_poll_interval_ms // 3),
            request_timeout_ms=max(30_000, self.max_poll_interval_ms + 5_000),
            reconnect_backoff_max_ms=1000)
        consumer.subscribe(topics)
        return consumer

    def _consume(self, group: str, topics: list[str], handler: Handler) -> None:
        consumer: KafkaConsumer | None = None
        while not self._stopping.is_set():
            try:
                if consumer is None:
                    consumer = self._new_consumer(group, topics)
                batches = consumer.poll(timeout_ms=500, max_records=200)
                for tp, records in batches.items():
                    self._handle_partition(consumer, tp, records, handler)
            except Exception as exc:  # noqa: BLE001 - reconnect and go on; nothing was committed
                log.warning("consumer %s error: %r", group, exc)
                if consumer is not None:
                    try:
                        consumer.close(autocommit=False)
                    except Exception:  # noqa: BLE001
                        pass
                    consumer = None
                time.sleep(1)
        if consumer is not None:
            consumer.close(autocommit=False)

    def _handle_partition(self, consumer: KafkaConsumer, tp: TopicPartition, records: list[Any],
                          handler: Handler) -> None:
        """Handle a partition's records in order, as one batch where the handler can; commit the
        offset after the last one (its database work is committed). On failure, seek back so the
        batch is delivered again (the inbox makes the repeat harmless)."""
        assert self._loop is not None
        events: list[CloudEvent] = []
        for record in records:
            try:
                events.append(from_record(record.headers, record.value))
            except Exception as exc:  # noqa: BLE001 - not ours to handle; skip it, loudly
                log.error("undecodable record %s@%s: %s", tp, record.offset, exc)
        try:
            asyncio.run_coroutine_threadsafe(deliver_batch(handler, events), self._loop).result()
        except Exception as exc:  # noqa: BLE001 - redeliver from here later
            log.warning("handler failed at %s@%s, will retry: %r", tp, records[0].offset, exc)
            consumer.seek(tp, records[0].offset)
            time.sleep(1)
            return
        consumer.commit({tp: OffsetAndMetadata(records[-1].offset + 1, "", -1)})
