from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import schema_base
from shared.tables import MessagingTables

Base = schema_base("authz")
messaging = MessagingTables(Base.metadata)


class RoleAssignment(Base):
    """A role held by a user in one tenant, or globally (tenant_id NULL). Revoked rows are kept."""

    __tablename__ = "role_assignments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    role: Mapped[str] = mapped_column(String(40))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    granted_by: Mapped[uuid.UUID | None]
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(500))

    # At most one active assignment per (user, tenant, role). NULL tenant ids are distinct in a
    # plain unique index, so global assignments get their own partial index.
    __table_args__ = (
        Index("uq_role_assignments_active_in_tenant", "user_id", "tenant_id", "role", unique=True,
              postgresql_where=text("revoked_at IS NULL AND tenant_id IS NOT NULL")),
        Index("uq_role_assignments_active_global", "user_id", "role", unique=True,
              postgresql_where=text("revoked_at IS NULL AND tenant_id IS NULL")),
    )


class AssignmentHistory(Base):
    """Append-only record of every assignment and revocation (the migration forbids UPDATE and DELETE)."""

    __tablename__ = "assignment_history"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("role_assignments.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[uuid.UUID | None]
    reason: Mapped[str | None] = mapped_column(String(500))
    event_id: Mapped[str] = mapped_column(String(64))  # the esop.authz.role.* event published with it

    __table_args__ = (CheckConstraint("action IN ('assigned', 'revoked')", name="action"),)


class Member(Base):
    """Whom authz knows, from identity's events: each user and the company they belong to
    (tenant_id NULL: platform staff). Roles go only to known users, within their own company."""

    __tablename__ = "members"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID | None]
    known_since: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class KnownTenant(Base):
    """The companies identity has created (from esop.identity.tenant.created)."""

    __tablename__ = "tenants"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    known_since: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
