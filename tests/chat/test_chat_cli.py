"""`quantops ask` and `quantops chat` as real subprocesses against a real server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .conftest import ChatServer

pytestmark = pytest.mark.timeout(120)
QUANTOPS = [sys.executable, "-m", "quantops.cli"]


def run(
    args: list[str],
    server: ChatServer,
    user: str = "alice",
    stdin: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*QUANTOPS, *args, "--url", server.url, "--api-key", server.keys[user]],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=90,
        cwd=cwd,
    )


def test_ask_runs_a_backtest_and_continues_the_session(offline_server: ChatServer) -> None:
    first = run(["ask", "backtest sma 10/50 on NVDA 2016-2020", "--json"], offline_server)
    assert first.returncode == 0, first.stderr
    reply = json.loads(first.stdout)
    assert reply["engine"] == "offline" and len(reply["backtest_ids"]) == 1
    # no --role: acts with the roles the server granted (alice: analyst)
    assert reply["effective_roles"] == ["analyst"]
    session_id = first.stderr.split("session: ", 1)[1].split()[0]
    second = run(["ask", "그 결과 보여줘", "--session", session_id], offline_server)
    assert second.returncode == 0, second.stderr
    assert f"백테스트 {reply['backtest_ids'][0]}" in second.stdout and "engine: offline" in second.stdout
    viewer = run(["ask", "backtest sma 10/50 on NVDA 2016-2020", "--role", "viewer"], offline_server)
    assert "Sorry" in viewer.stdout and "denied: run_backtest" in viewer.stdout


def test_interactive_chat_and_export(offline_server: ChatServer, tmp_path: Path) -> None:
    result = run(["chat"], offline_server, stdin="help\n캐시 상태는?\n/export\n/quit\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Here is what I can do" in result.stdout and "캐시 상태" in result.stdout
    exported = list(tmp_path.glob("chat-*.md"))
    assert len(exported) == 1 and "캐시 상태는?" in exported[0].read_text(encoding="utf-8")


def test_bad_key_is_a_clear_error(offline_server: ChatServer) -> None:
    result = subprocess.run(
        [*QUANTOPS, "ask", "hi", "--url", offline_server.url, "--api-key", "qo_nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "API key was rejected" in result.stderr
    assert httpx.get(offline_server.url + "/chat").status_code == 200  # the web page is served
