"""Events the activity service publishes (topic esop.activity). None yet in this slice."""
from __future__ import annotations

from shared.events import EventData

PUBLISHED: list[type[EventData]] = []
