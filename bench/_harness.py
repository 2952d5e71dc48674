"""What the HTTP benchmarks share: a free loopback port and a `quantops serve` subprocess that is up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, timeout: float = 60.0) -> bool:
    """Poll ``url``/healthz until it answers 200 or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.1)
    return False


def serve(port: int, settings_env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`quantops serve` on 127.0.0.1:port with only ``settings_env`` as QUANTOPS_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTOPS_")}
    env.update(settings_env)
    command = [sys.executable, "-m", "quantops.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen([*command, "--log-level", "warning"], env=env)
    if not wait_healthy(f"http://127.0.0.1:{port}"):
        process.kill()
        raise RuntimeError("server did not start")
    return process
