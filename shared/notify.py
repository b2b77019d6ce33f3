"""Notification channels. Development: one JSON line per message in a file, and the log."""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

log = logging.getLogger("esop.notify")


class Notifier(Protocol):
    async def send(self, *, channel: str, to: str, subject: str, body: str, meta: dict[str, str]) -> None: ...


class FileNotifier:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = asyncio.Lock()

    async def send(self, *, channel: str, to: str, subject: str, body: str, meta: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"time": datetime.now(UTC).isoformat(), "channel": channel, "to": to, "subject": subject,
                           "body": body, **meta}, ensure_ascii=False)
        async with self._lock:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        log.info("message to %s via %s: %s", to, channel, body)


def read_messages(path: Path) -> list[dict[str, str]]:
    """Read the development sink (for tests and the demo)."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
