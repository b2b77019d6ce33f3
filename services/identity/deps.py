"""What identity's handlers need besides a session, built once per app."""
from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

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
    # argon2 is CPU-bound by design: a bounded pool keeps a login flood from starving everything else.
    hash_pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(
        max_workers=max(1, (os.cpu_count() or 2) // 2), thread_name_prefix="argon2"))

    async def hashing(self, fn: Callable[..., T], *args: object) -> T:
        """Run a password hash or verification off the event loop, in the bounded pool."""
        return await asyncio.get_running_loop().run_in_executor(self.hash_pool, fn, *args)


T = TypeVar("T")
