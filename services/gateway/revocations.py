"""Sessions that ended (logout, refresh-token reuse) before their access tokens expired.

Fed by identity's events, so a token stops working at the gateway as soon as the event arrives,
not when the token expires. Entries are kept as long as a token of that session can live."""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import httpx

from shared.events import CloudEvent

log = logging.getLogger("esop.gateway")

REVOKING_EVENTS = ("esop.identity.user.logged_out", "esop.identity.session.revoked")


class RevokedSessions:
    def __init__(self, keep_seconds: float):
        self.keep_seconds = keep_seconds
        self._until: dict[str, float] = {}

    def revoke(self, session_id: str, at: float | None = None) -> None:
        until = (at or time.time()) + self.keep_seconds
        if until > time.time():
            self._until[session_id] = until

    def is_revoked(self, session_id: str | None) -> bool:
        if not session_id:
            return False
        until = self._until.get(session_id)
        if until is None:
            return False
        if until < time.time():
            del self._until[session_id]
            return False
        return True

    async def on_event(self, event: CloudEvent) -> None:
        if event.type in REVOKING_EVENTS and event.data.get("session_id"):
            self.revoke(str(event.data["session_id"]), event.time.timestamp())
        if len(self._until) > 100_000:
            now = time.time()
            self._until = {sid: t for sid, t in self._until.items() if t > now}

    async def load_from(self, identity: httpx.AsyncClient, *, retry_seconds: float = 1.0) -> None:
        """Fill the list with the sessions identity ended recently (events alone would miss those
        ended before this gateway started). Retries until identity answers."""
        since = (datetime.now(UTC) - timedelta(seconds=self.keep_seconds)).isoformat()
        while True:
            try:
                resp = await identity.get("/internal/revoked-sessions", params={"since": since})
                resp.raise_for_status()
                for s in resp.json()["sessions"]:
                    self.revoke(s["session_id"], datetime.fromisoformat(s["revoked_at"]).timestamp())
                return
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                log.warning("cannot load ended sessions from identity yet (next try in %.0fs): %r", retry_seconds, exc)
                await asyncio.sleep(retry_seconds)
                retry_seconds = min(retry_seconds * 2, 30.0)
