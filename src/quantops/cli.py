"""`quantops` command line: one Typer app; each area owns its sub-commands in its own module."""

from __future__ import annotations

import sys
from typing import Any

import typer

from quantops.api.cli import register as register_api
from quantops.chat.cli import register as register_chat
from quantops.cli_store import register as register_store
from quantops.data.cli import register as register_data


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def error_line(exc: BaseException) -> str | None:
    """One line for an error an operator can act on (database unreachable, extra missing); else None."""
    from sqlalchemy.exc import SQLAlchemyError

    from quantops.config import SCALE_EXTRA_MODULES, MissingExtraError

    if isinstance(exc, MissingExtraError):
        return f"error: {exc}"
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in SCALE_EXTRA_MODULES:
        return f"error: {MissingExtraError((exc.name or '').split('.')[0])}"
    if isinstance(exc, SQLAlchemyError):
        cause = getattr(exc, "orig", None) or exc
        return f"error: database: {_one_line(cause)}"
    if isinstance(exc, ConnectionError):  # e.g. PostgreSQL or Redis not listening
        return f"error: cannot connect: {_one_line(exc)}"
    return None


class _App(typer.Typer):
    """The root app: operational errors print one line and exit 1 instead of a long traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            line = error_line(exc)
            if line is None:
                raise
            print(line, file=sys.stderr)
            raise SystemExit(1) from None


app = _App(help="quantops — conversational quant backtests", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print the installed quantops version."""
    from importlib.metadata import version as pkg_version

    typer.echo(pkg_version("quantops"))


register_data(app)  # quantops data import|demo|fetch|status
register_store(app)  # quantops db upgrade, quantops users create|ensure-default|list
register_api(app)  # quantops serve
register_chat(app)  # quantops chat, quantops ask

if __name__ == "__main__":
    app()
