"""Identity's migrations on a database that already holds data."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg2
import pytest

from shared.migrations import upgrade
from tests import pg

BEFORE_UNIQUE_NAMES = "8f3919120040"


@pytest.fixture
def old_database(pg_server: str) -> Iterator[str]:
    """A database with identity migrated up to the revision before company names were unique ignoring case."""
    name = f"esop_m_{uuid.uuid4().hex[:12]}"
    url = pg.create_database(pg_server, name)
    upgrade("identity", url, BEFORE_UNIQUE_NAMES)
    yield url
    pg.drop_database(pg_server, name)


def execute(url: str, query: str, *args) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchall() if cur.description else []


def add_tenants(url: str, *names: str) -> None:
    for name in names:
        execute(url, "insert into identity.tenants (id, name) values (%s, %s)", str(uuid.uuid4()), name)


class TestUniqueCompanyNamesMigration:
    def test_names_are_collapsed_and_kept_unique_ignoring_case(self, old_database: str) -> None:
        add_tenants(old_database, "  Acme   Ltd ", "Other")
        upgrade("identity", old_database)
        assert sorted(r[0] for r in execute(old_database, "select name from identity.tenants")) == ["Acme Ltd", "Other"]
        with pytest.raises(psycopg2.errors.UniqueViolation):
            add_tenants(old_database, "ACME LTD")

    def test_names_that_differ_only_in_case_or_spacing_stop_it_and_are_named(self, old_database: str) -> None:
        """Regression: "Dup c1fcb", "DUP C1FCB" and "Dup  c1fcb" could be three companies; such data
        must not be merged or renamed silently."""
        add_tenants(old_database, "Dup c1fcb", "DUP C1FCB", "Dup  c1fcb", "Fine")
        with pytest.raises(RuntimeError, match="differ only in case") as info:
            upgrade("identity", old_database)
        assert all(f"'{n}'" in str(info.value) for n in ("Dup c1fcb", "DUP C1FCB", "Dup  c1fcb"))
        assert "Fine" not in str(info.value)
        version = execute(old_database, "select version_num from identity.alembic_version")
        assert version == [(BEFORE_UNIQUE_NAMES,)]
