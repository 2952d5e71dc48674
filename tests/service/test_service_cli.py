"""`quantops db upgrade` and `quantops users …` as real subprocesses, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import stat
import subprocess
import sys

import pytest

from quantops.services.users import UsersService
from quantops.store.db import Database
from quantops.store.repositories import UserRepository


def quantops(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quantops.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def key_from(output: str) -> str:
    return next(line.split(": ", 1)[1] for line in output.splitlines() if "API key" in line)


async def _authenticate(database_url: str, key: str) -> tuple[str, frozenset[str]] | None:
    db = Database(database_url)
    try:
        user = await UsersService(UserRepository(db)).authenticate(key)
        return (user.name, user.roles) if user else None
    finally:
        await db.dispose()


def test_db_and_users_commands(make_settings, sqlite_database_url, settings_env_for, tmp_path) -> None:
    database_url = sqlite_database_url
    settings = make_settings(database_url)
    env = settings_env_for(settings)

    upgraded = quantops(env, "db", "upgrade")
    assert upgraded.returncode == 0 and "revision 0001" in upgraded.stdout

    first = quantops(env, "users", "ensure-default")
    assert first.returncode == 0, first.stderr
    key = key_from(first.stdout)
    key_file = tmp_path / "default_api_key"
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert asyncio.run(_authenticate(database_url, key)) == ("local", frozenset({"admin"}))

    again = quantops(env, "users", "ensure-default")
    assert "exists" in again.stdout and key_from(again.stdout) == key

    created = quantops(env, "users", "create", "bob", "--role", "analyst", "--role", "viewer")
    assert created.returncode == 0, created.stderr
    assert asyncio.run(_authenticate(database_url, key_from(created.stdout))) == (
        "bob",
        frozenset({"analyst", "viewer"}),
    )
    bad_role = quantops(env, "users", "create", "eve", "--role", "wizard")
    assert bad_role.returncode == 1 and "unknown role" in bad_role.stderr

    listed = quantops(env, "users", "list")
    names = [line.split("\t")[0] for line in listed.stdout.splitlines()]
    assert names == ["local", "bob"]

    key_file.unlink()
    lost = quantops(env, "users", "ensure-default")
    assert (
        lost.returncode == 0
        and "quantops users new-key local" in lost.stdout
        and "API key" not in lost.stdout
    )
    fresh = quantops(env, "users", "new-key", "local")
    assert asyncio.run(_authenticate(database_url, key_from(fresh.stdout)))[0] == "local"
    assert quantops(env, "users", "new-key", "nobody").returncode == 1


@pytest.mark.postgres
def test_cli_on_postgres(make_settings, postgres_database_url, settings_env_for) -> None:
    env = settings_env_for(make_settings(postgres_database_url))
    assert "revision 0001" in quantops(env, "db", "upgrade").stdout
    key = key_from(quantops(env, "users", "ensure-default").stdout)
    assert asyncio.run(_authenticate(postgres_database_url, key)) == ("local", frozenset({"admin"}))
    duplicate = quantops(env, "users", "create", "local")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
