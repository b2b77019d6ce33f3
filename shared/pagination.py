"""Cursor pagination: stable order by (time, id), opaque cursors, limit at most 200."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from shared.errors import BadRequest

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=200, description="Page size (at most 200)")]
CursorParam = Annotated[str | None, Query(description="`next_cursor` from the previous page", max_length=200)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(at: datetime, id_: uuid.UUID | int | str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), str(id_)]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """(time, id) from a cursor made by encode_cursor; the id must be a UUID, a naive time is UTC."""
    try:
        at, id_ = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        when = datetime.fromisoformat(at)
        return (when if when.tzinfo else when.replace(tzinfo=UTC)), str(uuid.UUID(str(id_)))
    except Exception as exc:  # noqa: BLE001
        raise BadRequest("The cursor is not valid; start again without one.") from exc
