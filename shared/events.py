"""CloudEvents 1.0 envelope and the typed, versioned event data that services publish."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

SPECVERSION = "1.0"


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event with the `tenantid` extension and JSON data."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    specversion: str = SPECVERSION
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: str = "application/json"
    dataschema: str | None = None
    tenantid: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def topic(self) -> str:
        """Topic per producing service: esop.<service>.<entity>.<verb> -> esop.<service>."""
        return ".".join(self.type.split(".")[:2])

    def envelope(self) -> dict[str, Any]:
        """The event in CloudEvents' JSON format: attributes without a value are left out (the data as it is)."""
        return {**self.model_dump(mode="json", exclude={"data"}, exclude_none=True), "data": self.data}

    def attributes(self) -> dict[str, str]:
        """The context attributes as strings (binary content mode headers without the ce_ prefix)."""
        attrs = self.model_dump(mode="json", exclude={"data", "datacontenttype"}, exclude_none=True)
        return {k: str(v) for k, v in attrs.items()}


class EventData(BaseModel):
    """Base for an event type's data. Subclasses set `event_type` and `version`."""

    event_type: ClassVar[str]
    version: ClassVar[int] = 1
    description: ClassVar[str] = ""

    def to_event(self, *, source: str, subject: str | uuid.UUID | None, tenant_id: str | uuid.UUID | None) -> CloudEvent:
        return CloudEvent(
            source=source,
            type=self.event_type,
            subject=str(subject) if subject is not None else None,
            tenantid=str(tenant_id) if tenant_id is not None else None,
            dataschema=f"urn:esop:event:{self.event_type}:v{self.version}",
            data=self.model_dump(mode="json"),
        )


def catalogue(service: str, models: list[type[EventData]], consumes: list[str] | None = None) -> dict[str, Any]:
    """The published catalogue of a service's event types with their JSON schemas."""
    return {
        "service": service,
        "topic": f"esop.{service}",
        "envelope": (f"CloudEvents 1.0: id, source (/esop/{service}), type, specversion, time, subject (the user "
                     "id; absent when there is none), datacontenttype application/json, dataschema (below), and the "
                     "extension tenantid (the company, absent when platform-wide). On Kafka: binary content mode, attributes as ce_* "
                     "headers, key = subject (no key without one), topic esop.<service>. Delivery is at least once: "
                     "de-duplicate on id."),
        "publishes": [
            {"type": m.event_type, "version": m.version, "dataschema": f"urn:esop:event:{m.event_type}:v{m.version}",
             "description": m.description or (m.__doc__ or "").strip(), "schema": m.model_json_schema()}
            for m in models
        ],
        "consumes": consumes or [],
    }
