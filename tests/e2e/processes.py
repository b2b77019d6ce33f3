"""Each service as its own `esop run --service NAME` process, as in the distributed topology."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from esop.registry import BACKEND_SERVICES
from tests.kafka_broker import CONSUMER_MAX_POLL_MS, free_port


class Deployment:
    def __init__(self, database_url: str, kafka: str, workdir: Path):
        self.workdir = workdir
        self.ports = {name: free_port() for name in [*BACKEND_SERVICES, "gateway"]}
        self.message_sink = workdir / "messages.jsonl"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "KAFKA_MAX_POLL_INTERVAL_MS": str(CONSUMER_MAX_POLL_MS),
            "MESSAGE_SINK": str(self.message_sink),
            "OUTBOX_POLL_SECONDS": "0.2",
            "PUBLIC_URL": f"http://127.0.0.1:{self.ports['gateway']}",
            "IDENTITY_URL": self.url("identity"),
            "AUTHZ_URL": self.url("authz"),
            **{f"GATEWAY_{n.upper()}_URL": self.url(n) for n in BACKEND_SERVICES},
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def gateway(self) -> str:
        return self.url("gateway")

    def esop(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "esop.cli", *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, cwd=self.workdir)

    def start(self, name: str) -> None:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - owned by the process
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "esop.cli", "run", "--service", name, "--port", str(self.ports[name])],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.workdir)
        log.close()

    def wait_ready(self, name: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({proc.returncode}): {self.log(name)[-3000:]}")
            try:
                if httpx.get(f"{self.url(name)}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {timeout}s: {self.log(name)[-3000:]}")
            time.sleep(0.3)

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def start_all(self) -> None:
        for name in BACKEND_SERVICES:
            self.start(name)
        for name in BACKEND_SERVICES:
            self.wait_ready(name)
        self.start("gateway")
        self.wait_ready("gateway")

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
