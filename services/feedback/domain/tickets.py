"""What a feedback ticket may be."""
from enum import StrEnum


class TicketType(StrEnum):
    SUGGESTION = "suggestion"
    COMPLAINT = "complaint"
    QUESTION = "question"


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


MAX_TEXT = 5000
