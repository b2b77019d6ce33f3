"""`esop run` as a user starts it: embedded PostgreSQL (pgserver) in a data folder, every service in
one process; the data survives a restart."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.kafka_broker import free_port

PASSWORD = "Embedded-Platform-Pass1"


def esop(data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"}}
    return subprocess.run([sys.executable, "-m", "esop.cli", "--data-dir", str(data_dir), *args], env=env,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"}}
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "esop.cli", "--data-dir", str(data_dir), "run", "--port",
                                 str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise AssertionError("the platform did not become healthy: " + log.read_text()[-3000:])


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=60)


def _postgres_running(data_dir: Path) -> bool:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return any("postgres" in line and str(data_dir) in line for line in out.splitlines())


def login(port: int) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{port}/api/v1/identity/token",
                      json={"login": "owner@example.com", "password": PASSWORD}, timeout=30)


class TestEmbeddedPlatform:
    def test_runs_on_an_embedded_database_and_keeps_data_across_restarts(self, tmp_path: Path) -> None:
        data_dir, port, log = tmp_path / "data", free_port(), tmp_path / "esop.log"
        nowhere = esop(data_dir, "admin", "create", "--email", "owner@example.com", "--name", "Owner",
                       "--password", PASSWORD)
        assert nowhere.returncode != 0 and "no platform data in" in nowhere.stderr, nowhere.stderr
        assert not data_dir.exists(), "regression: admin create made a new, empty platform where there was none"
        assert esop(data_dir, "migrate").returncode == 0
        created = esop(data_dir, "admin", "create", "--email", "owner@example.com", "--name", "Owner",
                       "--password", PASSWORD)
        assert created.returncode == 0, created.stderr
        again = esop(data_dir, "admin", "create", "--email", "owner@example.com", "--name", "Owner",
                     "--password", PASSWORD)
        assert again.returncode != 0 and "already exists" in again.stderr
        proc = start(data_dir, port, log)
        try:
            assert login(port).status_code == 200
            docs = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=10)
            assert docs.status_code == 200 and "cdn" not in docs.text.lower()
            discovery = httpx.get(f"http://127.0.0.1:{port}/api/v1/identity/.well-known/openid-configuration").json()
            assert discovery["issuer"] == f"http://localhost:{port}/api/v1/identity"
        finally:
            stop(proc)
        assert not _postgres_running(data_dir), "SIGTERM must stop the embedded PostgreSQL too"
        proc = start(data_dir, port, log)
        try:
            token = login(port).json()["access_token"]
            me = httpx.get(f"http://127.0.0.1:{port}/api/v1/identity/me",
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert me.json()["email"] == "owner@example.com"
        finally:
            stop(proc)

    def test_weak_admin_password_is_refused_with_a_clear_message(self, tmp_path: Path) -> None:
        assert esop(tmp_path / "data", "migrate").returncode == 0
        result = esop(tmp_path / "data", "admin", "create", "--email", "x@example.com", "--name", "X",
                      "--password", "short")
        assert result.returncode != 0 and "too weak" in result.stderr

    def test_missing_answers_without_a_terminal_are_a_message_not_a_traceback(self, tmp_path: Path) -> None:
        """Regression: `esop admin create` with no terminal died with an EOFError traceback."""
        result = esop(tmp_path / "data", "admin", "create", "--name", "X")
        assert result.returncode != 0 and "Traceback" not in result.stderr and "--email" in result.stderr
        assert not (tmp_path / "data").exists(), "nothing is started before the answers are in"

    @pytest.mark.parametrize("args", [["--employees", "0"], ["--feedback-share", "2"], ["--concurrency", "0"],
                                      ["--roster", "/nonexistent.csv"]])
    def test_demo_options_are_checked_before_anything_is_created(self, tmp_path: Path, args: list[str]) -> None:
        result = esop(tmp_path / "data", "demo", "--admin-password", "x", "--gateway", "http://127.0.0.1:9", *args)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr

    def test_a_roster_without_the_needed_columns_is_a_message_before_anything_is_created(self, tmp_path: Path) -> None:
        roster = tmp_path / "roster.csv"
        roster.write_text("姓名,手机\n张三,13800138000\n", encoding="gb18030")
        result = esop(tmp_path / "data", "demo", "--admin-password", "x", "--gateway", "http://127.0.0.1:9",
                      "--roster", str(roster))
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert "no column name, mobile, email, employee_no, hire_date" in result.stderr

    def test_the_gateway_alone_starts_no_database(self, tmp_path: Path) -> None:
        """Regression: `esop run --service gateway` without DATABASE_URL started an embedded PostgreSQL it never used."""
        data_dir, port = tmp_path / "data", free_port()
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"}}
        proc = subprocess.Popen([sys.executable, "-m", "esop.cli", "--data-dir", str(data_dir), "run", "--service",
                                 "gateway", "--port", str(port)], env={**env, "ENVIRONMENT": "production"},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, "the gateway exited"
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the gateway did not start"
                time.sleep(0.3)
            assert not data_dir.exists() and not _postgres_running(data_dir)
        finally:
            stop(proc)
