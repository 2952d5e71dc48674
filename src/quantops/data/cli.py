"""`quantops data …`: import, demo, fetch, status (the store is built from ``get_settings()``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from quantops.config import get_settings
from quantops.data.errors import MarketDataError
from quantops.data.store import MarketDataStore

data_app = typer.Typer(
    help="Market data: DuckDB store, imports, demo data, cache status.", no_args_is_help=True
)
console = Console()
err_console = Console(stderr=True)


@contextmanager
def _store(provider: str | None = None) -> Iterator[MarketDataStore]:
    from quantops.data import open_store

    try:
        store = open_store(get_settings(), provider=provider)
    except MarketDataError as exc:
        err_console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    try:
        yield store
    except MarketDataError as exc:
        err_console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        store.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


def _expand(paths: list[Path]) -> list[Path]:
    """Directories → their .csv/.parquet files (sorted); files as given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in {".csv", ".parquet", ".pq"})
        else:
            found.append(path)
    return found


@data_app.command("import")
def import_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="CSV/Parquet file(s) or directories; symbol defaults to the file name"),
    ],
    symbol: Annotated[str | None, typer.Option("--symbol", "-s", help="symbol (only with one file)")] = None,
    interval: Annotated[str, typer.Option(help="bar interval")] = "1d",
) -> None:
    """Import OHLCV files or directories of them (each validated whole; bad files listed with row numbers)."""
    paths = _expand(paths)
    if not paths:
        err_console.print("[red]error:[/red] path: no .csv/.parquet files found")
        raise typer.Exit(2)
    if symbol and len(paths) > 1:
        err_console.print("[red]error:[/red] --symbol: only valid with a single file")
        raise typer.Exit(2)
    failures = 0
    with _store() as store, _progress() as progress:
        task = progress.add_task("importing", total=len(paths))
        for path in paths:
            progress.update(task, description=f"importing {path.name}")
            try:
                result = store.import_file(path, symbol=symbol, interval=interval)
                console.print(
                    f"{result.symbol}: {result.rows_written} rows ({result.first} .. {result.last})",
                    soft_wrap=True,
                )
            except MarketDataError as exc:
                failures += 1
                err_console.print(f"[red]rejected:[/red] {exc}", soft_wrap=True)
            progress.advance(task)
    if failures:
        raise typer.Exit(1)


@data_app.command("demo")
def demo_command(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="do nothing if the store has data")] = False,
    symbols: Annotated[str | None, typer.Option(help="comma-separated symbols (default: demo set)")] = None,
) -> None:
    """Load the synthetic demo universe (seeded random walks, labelled synthetic — not real prices)."""
    from quantops.data.demo import DEMO_END, DEMO_START, DEMO_SYMBOLS, load_demo

    chosen = [s.strip() for s in symbols.split(",") if s.strip()] if symbols else list(DEMO_SYMBOLS)
    with _store() as store:
        if if_empty and not store.is_empty():
            console.print(f"market store already has data ({len(store.symbols())} symbols); demo not loaded")
            return
        with _progress() as progress:
            task = progress.add_task("synthetic demo data", total=len(chosen))
            load_demo(store, chosen, on_symbol_done=lambda _result: progress.advance(task))
        console.print(
            f"loaded synthetic demo data for {len(chosen)} symbols ({DEMO_START} .. {DEMO_END}) "
            f"into {store.path}"
        )


@data_app.command("fetch")
def fetch_command(
    symbols: Annotated[list[str], typer.Argument(help="one or more symbols")],
    start: Annotated[str | None, typer.Option(help="first date (YYYY-MM-DD)")] = None,
    end: Annotated[str | None, typer.Option(help="last date, inclusive (YYYY-MM-DD)")] = None,
    interval: Annotated[str, typer.Option(help="bar interval")] = "1d",
    provider: Annotated[
        str | None, typer.Option(help="yahoo|yfinance|alphavantage|synthetic (default: settings)")
    ] = None,
) -> None:
    """Read-through fill: ask the provider only for ranges the store does not cover yet."""
    failures = 0
    with _store(provider) as store:
        if store.provider is None:
            err_console.print(
                "[red]error:[/red] provider: none configured; pass --provider or set "
                "QUANTOPS_MARKET_DATA_PROVIDER"
            )
            raise typer.Exit(2)
        with _progress() as progress:
            task = progress.add_task(f"fetching from {store.provider.name}", total=len(symbols))
            for symbol in symbols:
                try:
                    result = store.fetch(symbol, start, end, interval=interval)
                    console.print(
                        f"{result.symbol}: +{result.rows_written} rows from {result.ranges_fetched} "
                        f"uncovered range(s); stored {result.first} .. {result.last}",
                        soft_wrap=True,
                    )
                except MarketDataError as exc:
                    failures += 1
                    err_console.print(f"[red]{symbol}:[/red] {exc}", soft_wrap=True)
                progress.advance(task)
    if failures:
        raise typer.Exit(1)


@data_app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="print the raw cache_status() JSON")] = False,
) -> None:
    """Cache status: file size, symbols, rows, per-symbol ranges, hits, misses, hit rate."""
    with _store() as store:
        status = store.cache_status()
    if as_json:
        typer.echo(json.dumps(status, indent=2))
        return
    table = Table(title=f"market data store {status['path']}")
    for column in ("symbol", "interval", "first", "last", "rows", "source", "synthetic", "hits", "misses"):
        table.add_column(column)
    for row in status["per_symbol"]:  # type: ignore[attr-defined]
        source = ",".join(row["sources"])
        table.add_row(
            row["symbol"], row["interval"], row["first"][:10], row["last"][:10], str(row["rows"]),
            source, "yes" if row["synthetic"] else "no", str(row["hits"]), str(row["misses"]),
        )  # fmt: skip
    console.print(table)
    hit_rate = status["hit_rate"]
    console.print(
        f"{status['symbol_count']} symbols, {status['total_rows']} rows, "
        f"{status['file_size_bytes']:,} bytes; "
        f"hits {status['hits']}, misses {status['misses']}, hit rate "
        f"{'n/a' if hit_rate is None else f'{hit_rate:.1%}'}; last update {status['last_update']}"
    )
    if status["note"]:
        console.print(f"[yellow]{status['note']}[/yellow]")


def register(app: typer.Typer) -> None:
    """Attach this layer's commands to the root app."""
    app.add_typer(data_app, name="data")
