from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from services.lifecycle.domain.stages import ORDER
from shared.db import schema_base
from shared.tables import MessagingTables

Base = schema_base("lifecycle")
messaging = MessagingTables(Base.metadata)

_STAGES = ", ".join(f"'{s.value}'" for s in ORDER)


class UserStage(Base):
    """The stage each user is in now, and since when."""

    __tablename__ = "user_stages"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    stage: Mapped[str] = mapped_column(String(20))
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())

    __table_args__ = (CheckConstraint(f"stage IN ({_STAGES})", name="stage"),)


class StageChange(Base):
    """One move of one user from a stage (none when first seen) to the next, and the event that caused it."""

    __tablename__ = "stage_history"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID]
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cause_event_id: Mapped[str] = mapped_column(String(64))
    cause_event_type: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        # A second guard behind the inbox: one event moves one user at most once.
        UniqueConstraint("user_id", "cause_event_id", name="uq_stage_history_user_cause"),
        Index("ix_stage_history_user_at", "user_id", "at", "id"),
        CheckConstraint(f"to_stage IN ({_STAGES})", name="to_stage"),
    )
