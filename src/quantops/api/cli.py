"""`quantops serve` (API server) and `quantops worker` (Celery worker)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer


async def _check_database(url: str) -> None:
    """Reachable and migrated, before the server starts (errors reach the CLI's one-line report)."""
    from quantops.store.db import Database

    db = Database(url)
    try:
        await db.ping()
        revision = await db.current_revision()
    finally:
        await db.dispose()
    if revision is None:
        typer.echo("error: database: not migrated; run `quantops db upgrade` first", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach this layer's commands to the root app."""

    @app.command()
    def serve(
        host: Annotated[str | None, typer.Option(help="bind address (default: settings.host)")] = None,
        port: Annotated[int | None, typer.Option(help="port (default: settings.port)")] = None,
        log_level: Annotated[str, typer.Option()] = "info",
    ) -> None:
        """Run the API server (one process: it owns the DuckDB file and the local job queue)."""
        import uvicorn

        from quantops.api.app import create_app
        from quantops.config import get_settings, require_extras

        settings = get_settings()
        require_extras(settings)  # then the database: one line each, not a startup traceback
        asyncio.run(_check_database(settings.resolved_database_url))
        uvicorn.run(
            create_app(settings),
            host=host or settings.host,
            port=port or settings.port,
            log_level=log_level,
            proxy_headers=False,
        )

    @app.command()
    def worker(
        concurrency: Annotated[
            int | None, typer.Option(help="processes (default: settings.job_workers)")
        ] = None,
        pool: Annotated[str, typer.Option(help="celery pool: prefork | solo")] = "prefork",
        log_level: Annotated[str, typer.Option()] = "info",
    ) -> None:
        """Run a Celery worker for job_backend=celery (needs QUANTOPS_REDIS_URL)."""
        from quantops.worker import app as celery_app
        from quantops.worker import settings

        celery_app.worker_main(
            [
                "worker",
                f"--loglevel={log_level}",
                f"--pool={pool}",
                f"--concurrency={concurrency or settings.job_workers}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
