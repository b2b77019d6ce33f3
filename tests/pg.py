"""Test databases: the machine's PostgreSQL at 127.0.0.1:5432 when reachable, else an embedded one.

Every service's migrations run once into a template database; each test gets its own copy
(CREATE DATABASE ... TEMPLATE), so tests are isolated and order does not matter.
"""
from __future__ import annotations

import os
import socket
import tempfile
import uuid

import psycopg2
from psycopg2 import sql

from esop.registry import BACKEND_SERVICES
from shared.migrations import upgrade


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def server_url() -> tuple[str, object | None]:
    """A URL to a server's `postgres` database, and the embedded server object (if one was started)."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        return url, None
    if _reachable("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres", None
    import pgserver

    server = pgserver.get_server(tempfile.mkdtemp(prefix="esop-pg-"), cleanup_mode="stop")
    return server.get_uri(), server


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    root = base.rsplit("/", 1)[0]
    return f"{root}/{name}" + (f"?{query}" if query else "")


def _admin(url: str):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


def create_database(server: str, name: str, template: str | None = None) -> str:
    conn = _admin(server)  # not `with conn`: psycopg2 would open a transaction block
    try:
        with conn.cursor() as cur:
            if template:
                cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                          sql.Identifier(template)))
            else:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()
    return with_database(server, name)


def drop_database(server: str, name: str) -> None:
    conn = _admin(server)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        conn.close()


def migrated_template(server: str) -> str:
    name = f"esop_tpl_{uuid.uuid4().hex[:10]}"
    url = create_database(server, name)
    try:
        for service in BACKEND_SERVICES:
            upgrade(service, url)
    except BaseException:
        drop_database(server, name)
        raise
    return name
