"""What identity's handlers need besides a session, built once per app."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.identity.settings import IdentitySettings
from shared.notify import Notifier
from shared.outbox import Publisher
from shared.tokens import SigningKey


@dataclass
class IdentityDeps:
    settings: IdentitySettings
    publish: Publisher
    notifier: Notifier
    signing_key: SigningKey | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
