"""`quantops data …` commands through the real root CLI app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantops.cli import app


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QUANTOPS_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("QUANTOPS_DUCKDB_PATH", raising=False)
    monkeypatch.delenv("QUANTOPS_MARKET_DATA_PROVIDER", raising=False)
    return tmp_path / "var" / "market.duckdb"


def _status(runner: CliRunner) -> dict:
    result = runner.invoke(app, ["data", "status", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_demo_if_empty_then_import_and_status(cli_env: Path, goog_csv: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["data", "demo", "--if-empty", "--symbols", "AAPL,MSFT"])
    assert first.exit_code == 0, first.output
    assert "loaded synthetic demo data for 2 symbols" in first.stdout and cli_env.exists()
    second = runner.invoke(app, ["data", "demo", "--if-empty"])
    assert second.exit_code == 0 and "demo not loaded" in second.stdout
    imported = runner.invoke(app, ["data", "import", str(goog_csv), "--symbol", "goog"])
    assert imported.exit_code == 0, imported.output
    assert "GOOG: 2148 rows" in imported.stdout
    status = _status(runner)
    assert status["symbols"] == ["AAPL", "GOOG", "MSFT"] and status["synthetic_symbols"] == ["AAPL", "MSFT"]
    table = runner.invoke(app, ["data", "status"])
    assert table.exit_code == 0 and "hit rate" in table.stdout


def test_bad_file_exit_code_and_row_numbers(cli_env: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Open,High,Low,Close,Volume\n2024-01-02,10,9,8,10.5,100\n")
    result = CliRunner().invoke(app, ["data", "import", str(bad)])
    assert result.exit_code == 1
    assert "high < max(open, close) at row(s) 1" in result.output
    assert _status(CliRunner())["total_rows"] == 0


def test_fetch_with_synthetic_provider_and_without_provider(cli_env: Path) -> None:
    runner = CliRunner()
    no_provider = runner.invoke(app, ["data", "fetch", "ABC", "--start", "2020-01-01", "--end", "2020-01-31"])
    assert no_provider.exit_code == 2 and "provider" in no_provider.output
    fetched = runner.invoke(
        app, ["data", "fetch", "abc", "xyz", "--start", "2020-01-01", "--end", "2020-01-31", "--provider",
              "synthetic"],
    )  # fmt: skip
    assert fetched.exit_code == 0, fetched.output
    assert "ABC: +23 rows from 1 uncovered range(s)" in fetched.output
    refetch = runner.invoke(
        app,
        ["data", "fetch", "ABC", "--start", "2020-01-01", "--end", "2020-01-31", "--provider", "synthetic"],
    )
    assert "ABC: +0 rows from 0 uncovered range(s)" in refetch.output
    bad_symbol = runner.invoke(app, ["data", "fetch", "???", "--provider", "synthetic"])
    assert bad_symbol.exit_code == 1 and "symbol" in bad_symbol.output


def test_import_a_directory_of_files(cli_env: Path, tmp_path: Path, goog_csv: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "GOOG.csv").write_text(goog_csv.read_text())
    (folder / "bad.csv").write_text("Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,-1\n")
    (folder / "notes.txt").write_text("ignored")
    result = CliRunner().invoke(app, ["data", "import", str(folder)])
    assert result.exit_code == 1  # one file rejected …
    assert "GOOG: 2148 rows" in result.stdout and "negative volume at row(s) 1" in result.output
    assert _status(CliRunner())["symbols"] == ["GOOG"]  # … the good one imported
