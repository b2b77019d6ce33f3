"""Alembic per service: each service's migrations live in services/<name>/migrations and keep
their version table in the service's own schema. Run explicitly (`esop migrate`), never on import."""
from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.pool import NullPool

from shared.db import driver_url


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files(f"services.{service}") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", driver_url(url, "psycopg2").replace("%", "%%"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(service: str, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, url), revision)


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py (online mode)."""
    from alembic import context

    schema = metadata.schema
    assert schema, "service metadata must name its schema"
    url = context.config.attributes.get("url") or context.config.get_main_option("sqlalchemy.url")
    engine = create_engine(driver_url(url, "psycopg2"), poolclass=NullPool)

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:
        return name == schema if type_ == "schema" else True

    with engine.connect() as conn:
        # One migrator per schema at a time, even when several processes start together.
        conn.execute(text("select pg_advisory_lock(hashtext(:s))"), {"s": f"esop-migrate-{schema}"})
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        conn.commit()
        context.configure(connection=conn, target_metadata=metadata, version_table_schema=schema,
                          include_schemas=True, include_name=include_name, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()
        conn.execute(text("select pg_advisory_unlock(hashtext(:s))"), {"s": f"esop-migrate-{schema}"})
    engine.dispose()
