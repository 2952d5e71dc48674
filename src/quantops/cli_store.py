"""`quantops db upgrade` and `quantops users create|ensure-default|list|new-key` (CLI layer: it uses the
store and the users service, so it lives beside ``quantops.cli``, not in ``quantops.store``).

The default user's key: keys are stored hashed, so `users ensure-default` writes the key it creates
to ``<data_dir>/default_api_key`` (mode 0600) and prints it; later runs print it from that file. If
the file is gone, `quantops users new-key local` issues a fresh key.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from quantops.config import Settings, get_settings
from quantops.urls import API_PREFIX

if TYPE_CHECKING:
    from quantops.services.users import UsersService

T = TypeVar("T")

users_app = typer.Typer(help="users and API keys", no_args_is_help=True)
db_app = typer.Typer(help="database schema", no_args_is_help=True)


def write_secret(path: Path, secret: str) -> None:
    """Create with 0600 from the start (no window where the key is world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    os.chmod(path, 0o600)


def _run(body: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(body())


async def _with_users(settings: Settings, action: Callable[..., Awaitable[T]]) -> T:
    from quantops.services.users import UsersService
    from quantops.store.db import Database
    from quantops.store.repositories import UserRepository

    db = Database(settings.resolved_database_url)
    try:
        return await action(UsersService(UserRepository(db)))
    finally:
        await db.dispose()


def register(app: typer.Typer) -> None:
    """Attach this layer's commands to the root app."""
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply Alembic migrations (SQLite or PostgreSQL, from QUANTOPS_DATABASE_URL)."""
    from quantops.store.db import Database

    settings = get_settings()

    async def upgrade() -> str | None:
        db = Database(settings.resolved_database_url)
        try:
            await db.upgrade(revision)
            return await db.current_revision()
        finally:
            await db.dispose()

    current = _run(upgrade)
    typer.echo(f"database at revision {current} ({settings.resolved_database_url.split('://')[0]})")


@users_app.command("create")
def users_create(
    name: str,
    role: Annotated[list[str] | None, typer.Option("--role", help="repeatable; default analyst")] = None,
) -> None:
    """Create a user and print its API key (shown once)."""
    from quantops.services.errors import ServiceError

    settings = get_settings()
    try:
        created = _run(lambda: _with_users(settings, lambda users: users.create(name, role or ["analyst"])))
    except ServiceError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created user {created.name} (roles: {', '.join(created.roles)})")
    typer.echo(f"API key (shown once): {created.api_key}")


@users_app.command("new-key")
def users_new_key(name: str) -> None:
    """Issue an additional API key for a user (e.g. a lost one)."""
    from quantops.services.errors import ServiceError

    settings = get_settings()
    try:
        key = _run(lambda: _with_users(settings, lambda users: users.issue_key(name)))
    except ServiceError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"API key for {name} (shown once): {key}")


@users_app.command("ensure-default")
def users_ensure_default() -> None:
    """Create the local default user if missing and print its API key."""
    settings = get_settings()
    name = settings.default_user_name
    key_file = settings.default_api_key_file

    async def ensure(users: UsersService) -> tuple[str | None, bool]:
        existing = await users.get_by_name(name)
        if existing is None:
            created = await users.create(name, [settings.default_user_role], label="default")
            write_secret(key_file, created.api_key)
            return created.api_key, True
        if key_file.is_file():
            key = key_file.read_text().strip()
            if await users.authenticate(key) is not None:
                return key, False
        return None, False

    key, created = _run(lambda: _with_users(settings, ensure))
    if key is None:
        typer.echo(
            f"default user {name!r} exists but its key file {key_file} is missing or revoked; "
            f"get a new key with: quantops users new-key {name}"
        )
        return
    verb = "created" if created else "exists"
    typer.echo(f"default user {name!r} {verb}; key stored in {key_file} (0600)")
    typer.echo(f"API key: {key}")
    base = settings.public_base_url or settings.bind_base_url
    typer.echo(f"try: curl -H 'X-API-Key: {key}' {base}{API_PREFIX}/users/me")


@users_app.command("list")
def users_list() -> None:
    """List users and their roles."""
    settings = get_settings()
    users = _run(lambda: _with_users(settings, lambda service: service.list()))
    for user in users:
        typer.echo(f"{user.name}\t{','.join(user.roles)}\t{user.id}\t{user.created_at:%Y-%m-%d %H:%M}")
