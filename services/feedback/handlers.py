"""Feedback use cases: one function per command."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.feedback.events import FeedbackSubmitted
from services.feedback.persistence.repository import get_ticket_by_key
from services.feedback.persistence.tables import Ticket
from shared.auth import Principal
from shared.errors import Conflict
from shared.outbox import Publisher


def _replay(existing: Ticket, type: str, subject: str | None, text: str) -> Ticket:
    if (existing.type, existing.subject, existing.text) != (type, subject, text):
        raise Conflict("This Idempotency-Key was already used with a different request.")
    return existing


async def submit_feedback(session: AsyncSession, publish: Publisher, principal: Principal, *, type: str,
                          subject: str | None, text: str, idempotency_key: str | None) -> tuple[Ticket, bool]:
    """Returns the ticket and whether it was created now (False: a retry with the same key)."""
    if idempotency_key:
        existing = await get_ticket_by_key(session, principal.user_id, idempotency_key)
        if existing:
            return _replay(existing, type, subject, text), False
    ticket = Ticket(tenant_id=principal.tenant_id, user_id=principal.user_id, type=type, subject=subject, text=text,
                    idempotency_key=idempotency_key)
    try:
        async with session.begin_nested():
            session.add(ticket)
            await session.flush()
    except IntegrityError:
        # A concurrent request with the same key won the insert (and has committed by now).
        existing = await get_ticket_by_key(session, principal.user_id, idempotency_key or "")
        if existing is None:
            raise
        return _replay(existing, type, subject, text), False
    await publish(session, FeedbackSubmitted(ticket_id=ticket.id, user_id=ticket.user_id, tenant_id=ticket.tenant_id,
                                             type=type, subject=subject), subject=ticket.user_id,
                  tenant_id=ticket.tenant_id)
    return ticket, True
