"""The tables every service has in its own schema: outbox, inbox and dead letters."""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, Integer, MetaData, String, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB


class MessagingTables:
    def __init__(self, metadata: MetaData):
        self.outbox = Table(
            "outbox", metadata,
            Column("seq", BigInteger, Identity(), primary_key=True),
            Column("event_id", String(64), nullable=False, unique=True),
            Column("topic", String(200), nullable=False),
            Column("type", String(200), nullable=False),
            Column("subject", String(200)),
            Column("envelope", JSONB, nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
            Column("published_at", DateTime(timezone=True)),
            Column("attempts", Integer, nullable=False, server_default="0"),
            Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
            Column("last_error", Text),
            Index("ix_outbox_pending", "seq", postgresql_where=text("published_at IS NULL")),
        )
        self.inbox = Table(
            "inbox", metadata,
            Column("consumer", String(100), primary_key=True),
            Column("event_id", String(64), primary_key=True),
            Column("type", String(200), nullable=False),
            Column("event_time", DateTime(timezone=True), nullable=False),
            Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
        )
        self.dead_letters = Table(
            "dead_letters", metadata,
            Column("id", BigInteger, Identity(), primary_key=True),
            Column("consumer", String(100), nullable=False),
            Column("event_id", String(64), nullable=False),
            Column("type", String(200), nullable=False),
            Column("envelope", JSONB, nullable=False),
            Column("error", Text, nullable=False),
            Column("attempts", Integer, nullable=False),
            Column("failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        )
