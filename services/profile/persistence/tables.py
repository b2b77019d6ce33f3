from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.profile.domain.profiles import DEFAULT_LOCALE, DEFAULT_TIMEZONE
from shared.db import schema_base
from shared.tables import MessagingTables

Base = schema_base("profile")
messaging = MessagingTables(Base.metadata)


class Profile(Base):
    """A person's profile: HR-owned data copied from identity's events, and their own preferences."""

    __tablename__ = "profiles"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100))
    preferred_name: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(254))
    mobile: Mapped[str | None] = mapped_column(String(32))
    employee_no: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(100))
    hire_date: Mapped[date | None] = mapped_column(Date)
    locale: Mapped[str] = mapped_column(String(10), default=DEFAULT_LOCALE, server_default=DEFAULT_LOCALE)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE, server_default=DEFAULT_TIMEZONE)
    bio: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # the ETag


class ProfileChange(Base):
    """One field's change, by the person themselves ('self') or from an event ('event')."""

    __tablename__ = "profile_changes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.user_id"))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[uuid.UUID | None]
    source: Mapped[str] = mapped_column(String(10))

    __table_args__ = (
        CheckConstraint("source IN ('self', 'event')", name="source"),
        Index("ix_profile_changes_user_time", "user_id", "changed_at", "id"),
    )
