"""CLI commands of the `data` layer (placeholder until that layer's issue lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach this layer's commands to the root app."""
