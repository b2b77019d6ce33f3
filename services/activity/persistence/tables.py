from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.activity.domain.logins import MAX_IP, MAX_REASON, MAX_USER_AGENT
from shared.db import schema_base
from shared.tables import MessagingTables

Base = schema_base("activity")
messaging = MessagingTables(Base.metadata)


class LoginRecord(Base):
    """One login, failed login or logout, as identity reported it."""

    __tablename__ = "login_records"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID | None]
    tenant_id: Mapped[uuid.UUID | None]
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(MAX_IP))
    user_agent: Mapped[str | None] = mapped_column(String(MAX_USER_AGENT))
    success: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(MAX_REASON))
    session_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(10))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("kind IN ('login', 'logout')", name="kind"),
        Index("ix_login_records_user_at", "user_id", "at", "id"),
        Index("ix_login_records_tenant_at", "tenant_id", "at", "id"),
    )


class KnownTenant(Base):
    """A company identity has told us of (tenant.created), so that an unknown id is 404, not an empty list."""

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
