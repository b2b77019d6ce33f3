"""Gateway forwarding throughput: direct upstream vs through the gateway (aiohttp) vs an httpx forwarder.

Usage: python bench/gateway_forwarding.py [--seconds 10] [--connections 32]
Needs `wrk` (apt-get install wrk)."""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(target: str, port: int, env: dict[str, str] | None = None, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--workers", "1", "--log-level", "warning",
           "--no-access-log", *extra]
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL)


def wait(port: int, path: str) -> None:
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nothing answers on {port}{path}")


def wrk(url: str, seconds: int, connections: int) -> float:
    subprocess.run(["wrk", "-t1", f"-c{connections}", "-d2s", url], capture_output=True)  # warm up
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url], capture_output=True, text=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise RuntimeError(out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} failed responses: {out}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    up, gw, hx = free_port(), free_port(), free_port()
    upstream = f"http://127.0.0.1:{up}"
    gateway_env = {f"GATEWAY_{n.upper()}_URL": upstream for n in ("profile", "activity", "feedback", "lifecycle")}
    gateway_env |= {"IDENTITY_URL": upstream, "AUTHZ_URL": upstream, "LOG_LEVEL": "WARNING"}
    procs = [serve("bench.upstream_app:app", up)]
    procs.append(serve("services.gateway.app:create_app", gw, gateway_env, "--factory"))
    procs.append(serve("bench.httpx_forwarder:app", hx, {"UPSTREAM": upstream}))
    try:
        wait(up, "/ping")
        wait(gw, "/api/v1/identity/ping")
        wait(hx, "/api/v1/identity/ping")
        direct = wrk(f"{upstream}/ping", args.seconds, args.connections)
        via_gateway = wrk(f"http://127.0.0.1:{gw}/api/v1/identity/ping", args.seconds, args.connections)
        via_httpx = wrk(f"http://127.0.0.1:{hx}/api/v1/identity/ping", args.seconds, args.connections)
    finally:
        for p in procs:
            p.terminate()
    print(f"{args.connections} connections, {args.seconds} s each, one uvicorn worker per process, {os.cpu_count()} cores")
    print(f"upstream direct             {direct:9.0f} req/s")
    print(f"gateway (aiohttp forwarder) {via_gateway:9.0f} req/s  {via_gateway / direct:6.1%} of direct")
    print(f"httpx forwarder (reference) {via_httpx:9.0f} req/s  {via_httpx / direct:6.1%} of direct")
    print(f"gateway / httpx forwarder   {via_gateway / via_httpx:9.2f}x")


if __name__ == "__main__":
    main()
