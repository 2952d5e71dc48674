"""`quantops serve` (API server) and `quantops worker` (Celery worker)."""

from __future__ import annotations

from typing import Annotated

import typer


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
        from quantops.config import get_settings

        settings = get_settings()
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
