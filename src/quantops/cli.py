"""`quantops` command line: one Typer app; each area owns its sub-commands in its own module."""

from __future__ import annotations

import typer

from quantops.api.cli import register as register_api
from quantops.chat.cli import register as register_chat
from quantops.data.cli import register as register_data
from quantops.store.cli import register as register_store

app = typer.Typer(help="quantops — conversational quant backtests", no_args_is_help=True)



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
