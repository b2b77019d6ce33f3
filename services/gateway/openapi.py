"""One OpenAPI document for clients: every service's paths under /api/v1/<service>."""
from __future__ import annotations

import copy
import json
from typing import Any

from services.gateway.auth import served_outside


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
        for path, item in doc.get("paths", {}).items():
            if not served_outside(path):
                continue
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op:
                    op["operationId"] = f"{service}_{op['operationId']}"
                    op["tags"] = [f"{service} {t}" if t in {"health", "operations"} else t for t in op.get("tags", [])]
            merged["paths"][f"/api/v1/{service}{path}"] = item
        for tag in doc.get("tags", []):
            if tag["name"] not in seen_tags:
                seen_tags.add(tag["name"])
                merged["tags"].append(tag)
    return merged
