"""One OpenAPI document for clients: every service's paths under /api/v1/<service>."""
from __future__ import annotations

import copy
import json
from typing import Any

from services.gateway.auth import served_outside
from shared.openapi import problem_response_doc


# What the gateway itself may answer on any forwarded path.
AT_THE_GATEWAY = {502: "The service behind this path is not reachable.",
                  504: "The service behind this path did not answer in time."}


def merge_openapi(docs: dict[str, dict[str, Any]], *, title: str, version: str, description: str) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
        "tags": [],
    }
    schemas = merged["components"]["schemas"]
    seen_tags: set[str] = set()
    for service, original in docs.items():
        doc = copy.deepcopy(original)
        renames: dict[str, str] = {}
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            if name in schemas and schemas[name] != schema:
                renames[name] = f"{service.capitalize()}{name}"
        text = json.dumps(doc)
        for old, new in renames.items():
            text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
        doc = json.loads(text)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(renames.get(name, name), schema)
        merged["components"]["securitySchemes"].update(doc.get("components", {}).get("securitySchemes", {}))
        merged["components"].setdefault("headers", {}).update(doc.get("components", {}).get("headers", {}))
        for path, item in doc.get("paths", {}).items():
            if not served_outside(path):
                continue
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op:
                    op["operationId"] = f"{service}_{op['operationId']}"
                    op["tags"] = [f"{service} {t}" if t in {"health", "operations"} else t for t in op.get("tags", [])]
                    for status, description in AT_THE_GATEWAY.items():
                        op["responses"].setdefault(str(status), problem_response_doc(description))
            merged["paths"][f"/api/v1/{service}{path}"] = item
        for tag in doc.get("tags", []):
            if tag["name"] not in seen_tags:
                seen_tags.add(tag["name"])
                merged["tags"].append(tag)
    return merged
