"""The shape of the codebase and the deployment: checked, not hoped for."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from esop.registry import ALL_SERVICES, BACKEND_SERVICES

ROOT = Path(__file__).resolve().parents[2]


class TestImportContracts:
    def test_services_do_not_import_each_other_and_shared_imports_no_service(self) -> None:
        lint = Path(sys.executable).with_name("lint-imports")
        result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "0 broken" in result.stdout

    def test_every_service_is_under_contract(self) -> None:
        config = (ROOT / "pyproject.toml").read_text()
        for service in ALL_SERVICES:
            assert f'"services.{service}",' in config


class TestComposeFile:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    def test_every_service_and_the_infrastructure_is_there(self) -> None:
        assert set(self.compose["services"]) == {*ALL_SERVICES, "postgres", "kafka"}

    def test_kafka_runs_in_kraft_mode(self) -> None:
        env = self.compose["services"]["kafka"]["environment"]
        assert "controller" in env["KAFKA_PROCESS_ROLES"] and "KAFKA_CONTROLLER_QUORUM_VOTERS" in env
        assert "ZOOKEEPER" not in " ".join(env)

    def test_each_service_runs_itself_with_its_environment_and_health_check(self) -> None:
        for name in ALL_SERVICES:
            svc = self.compose["services"][name]
            assert svc["command"][:3] == ["run", "--service", name]
            assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
            env = svc["environment"]
            for var in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "IDENTITY_URL", "AUTHZ_URL", "PUBLIC_URL"):
                assert env[var], f"{name} lacks {var}"
            assert "/readyz" in " ".join(svc["healthcheck"]["test"])
            assert svc["depends_on"]

    def test_the_gateway_reaches_every_service_and_waits_for_them(self) -> None:
        gateway = self.compose["services"]["gateway"]
        assert set(gateway["depends_on"]) == set(BACKEND_SERVICES)
        for name in BACKEND_SERVICES:
            url = gateway["environment"].get(f"GATEWAY_{name.upper()}_URL") or gateway["environment"][f"{name.upper()}_URL"]
            assert url == f"http://{name}:8000"
        assert gateway["ports"] == ["8000:8000"]

    def test_the_image_is_built_from_deploy(self) -> None:
        dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
        assert "ENTRYPOINT [\"esop\"]" in dockerfile and "HEALTHCHECK" in dockerfile


class TestMigrations:
    def test_each_backend_service_has_migrations_that_keep_their_version_table_in_its_schema(self) -> None:
        for name in BACKEND_SERVICES:
            versions = list((ROOT / "services" / name / "migrations" / "versions").glob("*.py"))
            assert versions, f"{name} has no migrations"
            assert "run_env(Base.metadata)" in (ROOT / "services" / name / "migrations" / "env.py").read_text()


class TestMigrationsMatchTheModels:
    def test_no_service_has_model_changes_without_a_migration(self, database_url: str) -> None:
        from alembic import command

        from shared.migrations import alembic_config

        for name in BACKEND_SERVICES:
            command.check(alembic_config(name, database_url))  # raises if autogenerate finds a difference
