"""Reliability and security defects found by probing (issue #10), each with a test that failed before."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from quantops.api.middleware import RedactApiKeys

SMA = {"config_type": "sma_crossover", "fast": 10, "slow": 20}


def _redacted(message: str, *args: object) -> str:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, message, args or None, None)
    RedactApiKeys().filter(record)
    return record.getMessage()


def test_log_redaction_decodes_parameter_names() -> None:
    secret = "qo_SECRETSECRET"
    for query in (
        f"api_key={secret}",
        f"api%5Fkey={secret}",
        f"api%5fkey={secret}",
        f"%61pi_key={secret}",
        f"API_KEY={secret}",
        f"x=1&api%5Fkey={secret}&y=2",
    ):
        line = _redacted(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", f"/api/v1/ws/events?{query}", "1.1", 200
        )
        assert secret not in line, line
        assert "***" in line
    # Other parameters stay readable.
    assert "symbol=AAPL" in _redacted("GET /x?symbol=AAPL&api%5Fkey=" + secret)


async def test_chunked_body_over_the_limit_is_413(api) -> None:
    async def chunks():
        for _ in range(30):
            yield b"x" * 100_000

    response = await api.client.post(
        "/api/v1/strategies",
        content=chunks(),
        headers={**api.auth("alice"), "content-type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert "too large" in response.text


# ---- #7: missing extras and database errors at the command line ---------------------------------------


SCALE_MODULES = ("redis", "celery", "kombu", "asyncpg", "psycopg")
# `python -c WITHOUT_SCALE module args…`: runs the module as __main__ with the scale extra's modules
# unimportable (None in sys.modules), as in an install without `[scale]`.
WITHOUT_SCALE = (
    "import runpy, sys\n"
    f"for name in {SCALE_MODULES!r}: sys.modules[name] = None\n"
    "sys.argv.pop(0)\n"
    "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
)


def _python(env: dict[str, str], *args: str, without_scale: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", WITHOUT_SCALE, *args] if without_scale else [sys.executable, "-m", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "overrides",
    [
        {"redis_url": "redis://127.0.0.1:6379/0"},
        {"job_backend": "celery", "redis_url": "redis://127.0.0.1:6379/0"},
        {"job_backend": "celery", "celery_broker_url": "redis://127.0.0.1:6379/0"},
        {"database_url": "postgresql+asyncpg://postgres@127.0.0.1:5432/test"},
    ],
    ids=["redis", "celery", "celery-broker", "postgres"],
)
def test_missing_scale_extra_names_the_extra(make_settings, settings_env_for, tmp_path, overrides) -> None:
    env = settings_env_for(make_settings(**overrides))
    # As uvicorn --factory or the Celery worker build it: the error names the extra.
    started = _python(
        env, "uvicorn", "--factory", "quantops.api.app:create_app", "--port", "1", without_scale=True
    )
    assert started.returncode != 0
    last = started.stderr.strip().splitlines()[-1]
    assert "MissingExtraError" in last and "pip install 'quantops[scale]'" in last, started.stderr[-2000:]
    # The CLI: one line, exit 1 (`users list` needs only the database driver).
    commands = [["serve", "--port", "1"]] + ([["users", "list"]] if "database_url" in overrides else [])
    for command in commands:
        result = _python(env, "quantops.cli", *command, without_scale=True)
        assert result.returncode == 1, result.stderr[-2000:]
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "pip install 'quantops[scale]'" in lines[0], result.stderr[-2000:]


def test_cli_database_error_is_one_line(make_settings, settings_env_for, database_url, tmp_path) -> None:
    # The same database, made unusable: PostgreSQL a database that does not exist, SQLite a corrupt file.
    if database_url.startswith("postgresql"):
        broken = database_url.rsplit("/", 1)[0] + "/qo_does_not_exist"
    else:
        corrupt = tmp_path / "corrupt.db"
        corrupt.write_bytes(b"this is not a database file" * 100)
        broken = f"sqlite+aiosqlite:///{corrupt}"
    env = settings_env_for(make_settings(broken))
    for command in (["users", "list"], ["db", "upgrade"], ["users", "ensure-default"]):
        result = _python(env, "quantops.cli", *command)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: database"), result.stderr[-3000:]
        assert "Traceback" not in result.stderr
