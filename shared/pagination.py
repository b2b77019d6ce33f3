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


Cursor = tuple[datetime, uuid.UUID]


def decode_cursor(cursor: str | None) -> Cursor | None:
    """(time, id) from a cursor made by encode_cursor (None for none); a naive time is UTC.
    Anything else is a 400 problem, never a 500."""
    if not cursor:
        return None
    try:
        at, id_ = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        when = datetime.fromisoformat(at)
        return (when if when.tzinfo else when.replace(tzinfo=UTC)), uuid.UUID(str(id_))
    except Exception as exc:  # noqa: BLE001
        raise BadRequest("The cursor is not valid; start again without one.") from exc


def page_of(model: type[T], rows: list, limit: int, time_attr: str) -> Page[T]:  # type: ignore[type-arg]
    """The page for `rows` fetched with limit + 1: the extra row only says there is a next page."""
    items = [model.model_validate(r) for r in rows[:limit]]  # type: ignore[attr-defined]
    last = rows[limit - 1] if len(rows) > limit else None
    return Page[model](items=items, next_cursor=encode_cursor(getattr(last, time_attr), last.id) if last else None)  # type: ignore[valid-type]
