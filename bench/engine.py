"""Engine benchmark: quantops vs vectorbt in the same run, one table.

Cases (targets from issue #2):
  (a) SMA 10/50 crossover on a seeded 1,000,000-bar random walk: time (≤ ½ vectorbt) and peak memory
      (< 300 MB, measured in a fresh subprocess per library);
  (b) a sweep of ≥ 1,000 SMA (fast, slow) combinations on GOOG (≤ ½ vectorbt);
  (c) one warm GOOG backtest (< 1 ms);
  (d) cold start: fresh process importing the library and running one GOOG backtest, numba cache
      warm (< 1.5 s).
Both libraries use the same conventions: signal on the close, fill at the next open, whole units, all in,
no costs; each timing includes the headline statistics (total return, Sharpe, max drawdown, trades).

Run: .venv/bin/python bench/engine.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
GOOG_CSV = ROOT / "tests" / "data" / "GOOG.csv"
N_WALK = 1_000_000
FAST_WINDOWS = list(range(2, 52))  # 50 values
SLOW_WINDOWS = list(range(10, 205, 5))  # 39 values -> 1,725 combinations with fast < slow


def random_walk(n: int = N_WALK, seed: int = 42) -> pd.DataFrame:
    """Seeded geometric random walk of 1-minute bars with consistent OHLC."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.empty(n)
    open_[0] = 100.0
    open_[1:] = close[:-1] * np.exp(rng.normal(0.0, 0.0002, n - 1))
    wick = np.abs(rng.normal(0.0, 0.0005, (2, n)))
    high = np.maximum(open_, close) * (1.0 + wick[0])
    low = np.minimum(open_, close) * (1.0 - wick[1])
    # tz-naive (taken as UTC): vectorbt 1.2 on pandas 3 is ~100x slower with a tz-aware index
    index = pd.date_range("2020-01-01", periods=n, freq="1min")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": 1.0}, index=index)


def goog() -> pd.DataFrame:
    return pd.read_csv(GOOG_CSV, index_col=0, parse_dates=True)


PEER_SETTINGS = {"initial_cash": 10_000, "commission": 0.0, "slippage_bps": 0.0}


# --- quantops -----------------------------------------------------------------------------------------
def qo_backtest(bars: pd.DataFrame, fast: int, slow: int) -> dict[str, Any]:
    import quantops

    stats = quantops.backtest(bars, {"config_type": "sma_crossover", "fast": fast, "slow": slow},
                              **PEER_SETTINGS).stats  # fmt: skip
    return {"trades": stats["num_trades"], "final": stats["final_equity"], "sharpe": stats["sharpe_ratio"]}


def qo_backtest_arrays(bars: pd.DataFrame, fast: int, slow: int) -> dict[str, Any]:
    """The service path: numpy arrays in (as from the DuckDB store), stats out."""
    import quantops

    stats = quantops.backtest_arrays(
        bars["Open"].to_numpy(),
        bars["High"].to_numpy(),
        bars["Low"].to_numpy(),
        bars["Close"].to_numpy(),
        bars.index.as_unit("ns").asi8,
        {"config_type": "sma_crossover", "fast": fast, "slow": slow},
        **PEER_SETTINGS,
    ).stats
    return {"trades": stats["num_trades"], "final": stats["final_equity"]}


def qo_sweep(bars: pd.DataFrame) -> dict[str, Any]:
    import quantops

    table = quantops.sweep(bars, "sma_crossover", {"fast": FAST_WINDOWS, "slow": SLOW_WINDOWS},
                           metric="sharpe_ratio", progress=False, **PEER_SETTINGS)  # fmt: skip
    best = table.iloc[0]
    return {"combos": len(table), "best": f"{int(best.fast)}/{int(best.slow)}", "sharpe": best.sharpe_ratio}


# --- vectorbt (same conventions: shifted signals filled at the open, whole units) ----------------------
def vbt_backtest(bars: pd.DataFrame, fast: int, slow: int, freq: str) -> dict[str, Any]:
    import vectorbt as vbt

    close, open_ = bars.iloc[:, 3], bars.iloc[:, 0]
    fast_ma = vbt.MA.run(close, fast).ma
    slow_ma = vbt.MA.run(close, slow).ma
    entries = fast_ma.vbt.crossed_above(slow_ma).shift(1, fill_value=False)
    exits = fast_ma.vbt.crossed_below(slow_ma).shift(1, fill_value=False)
    pf = vbt.Portfolio.from_signals(close, entries, exits, price=open_, size=np.inf, size_granularity=1,
                                    init_cash=10_000, fees=0.0, freq=freq)  # fmt: skip
    pf.total_return()
    pf.max_drawdown()
    return {
        "trades": int(pf.trades.count()),
        "final": float(pf.final_value()),
        "sharpe": float(pf.sharpe_ratio()),
    }


def vbt_sweep(bars: pd.DataFrame) -> dict[str, Any]:
    import vectorbt as vbt

    close, open_ = bars["Close"], bars["Open"]
    pairs = [(f, s) for f in FAST_WINDOWS for s in SLOW_WINDOWS if f < s]
    columns = pd.MultiIndex.from_tuples(pairs, names=["fast", "slow"])
    fast_ma = vbt.MA.run(close, [f for f, _ in pairs]).ma
    slow_ma = vbt.MA.run(close, [s for _, s in pairs]).ma
    fast_ma.columns = columns
    slow_ma.columns = columns
    entries = fast_ma.vbt.crossed_above(slow_ma).shift(1, fill_value=False)
    exits = fast_ma.vbt.crossed_below(slow_ma).shift(1, fill_value=False)
    pf = vbt.Portfolio.from_signals(close, entries, exits, price=open_, size=np.inf, size_granularity=1,
                                    init_cash=10_000, fees=0.0, freq="1D")  # fmt: skip
    sharpe = pf.sharpe_ratio()
    pf.total_return()
    pf.max_drawdown()
    best = sharpe.idxmax()
    return {"combos": len(pairs), "best": f"{best[0]}/{best[1]}", "sharpe": float(sharpe.max())}


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time over ``repeat`` runs after one warm-up run (compilation excluded)."""
    out = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


# --- subprocess measurements -------------------------------------------------------------------------
def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def peak_memory_child(library: str) -> None:
    """Case (a) once in a fresh process: RSS after imports+warm-up+data, peak RSS during the run (JSON).

    The peak is VmHWM after resetting it (``clear_refs`` 5) once the data exists, so it is the process
    total while backtesting — not inflated by the data generator's temporaries or by the forking
    parent (``ru_maxrss`` would be).
    """
    if library == "quantops":
        import quantops  # noqa: F401
    else:
        import vectorbt  # noqa: F401
    # one small run first: numba's one-off initialisation (~50 MB) is not part of the 1M-bar backtest
    if library == "quantops":
        qo_backtest(goog(), 10, 50)
    else:
        vbt_backtest(goog(), 10, 50, "1D")
    bars = random_walk()
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_mb("VmRSS")
    tracemalloc.start()
    if library == "quantops":
        qo_backtest(bars, 10, 50)
    else:
        vbt_backtest(bars, 10, 50, "1min")
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = _status_mb("VmHWM")
    print(json.dumps({"rss_before_mb": before, "rss_peak_mb": peak, "traced_peak_mb": traced_peak / 2**20}))


def run_child(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


COLD_SCRIPT = {
    "quantops": (
        "import pandas as pd, quantops\n"
        "df = pd.read_csv({csv!r}, index_col=0, parse_dates=True)\n"
        "r = quantops.backtest(df, {{'config_type': 'sma_crossover', 'fast': 10, 'slow': 20}}, "
        "initial_cash=10_000, commission=0.0, slippage_bps=0.0)\n"
        "print(r.stats['num_trades'])\n"
    ),
    "vectorbt": (
        "import sys; sys.path.insert(0, {bench!r})\n"
        "import engine\n"
        "print(engine.vbt_backtest(engine.goog(), 10, 20, '1D')['trades'])\n"
    ),
}


def cold_start(library: str, repeat: int = 3) -> tuple[float, float]:
    """Wall time of a fresh interpreter importing the library and running one backtest (cache warm)."""
    code = COLD_SCRIPT[library].format(csv=str(GOOG_CSV), bench=str(ROOT / "bench"))
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)  # warm numba's disk cache
    times = []
    cpu = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times), statistics.median(cpu)


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--peak-memory", choices=["quantops", "vectorbt"], help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--cases", default="ambcd", help="subset of cases to run: a, m (memory), b, c, d")
    args = parser.parse_args()
    if args.peak_memory:
        peak_memory_child(args.peak_memory)
        return

    repeat = 3 if args.quick else 7
    walk = random_walk()
    daily = goog()
    rows: list[tuple[str, str, str, str, str, str]] = []

    def add(case: str, q: float, v: float, target: str, ok: bool, note: str) -> None:
        rows.append((case, fmt_time(q), fmt_time(v), f"{v / q:,.1f}x", f"{target} {'PASS' if ok else 'FAIL'}",
                     note))  # fmt: skip

    if "a" in args.cases:
        q_t, q_out = best_time(lambda: qo_backtest(walk, 10, 50), repeat)
        v_t, v_out = best_time(lambda: vbt_backtest(walk, 10, 50, "1min"), max(1, repeat // 2))
        add(
            "(a) SMA 10/50, 1M-bar walk",
            q_t,
            v_t,
            "<= 1/2 vbt",
            q_t <= v_t / 2,
            f"trades {q_out['trades']} vs {v_out['trades']}, "
            f"final {q_out['final']:,.2f} vs {v_out['final']:,.2f}",
        )

    if "m" in args.cases:
        q_mem = run_child(["--peak-memory", "quantops"])
        v_mem = run_child(["--peak-memory", "vectorbt"])
        rows.append(
            (
                "(a) peak memory (process RSS)",
                f"{q_mem['rss_peak_mb']:,.0f} MB",
                f"{v_mem['rss_peak_mb']:,.0f} MB",
                f"{v_mem['rss_peak_mb'] / q_mem['rss_peak_mb']:,.1f}x",
                f"< 300 MB {'PASS' if q_mem['rss_peak_mb'] < 300 else 'FAIL'}",
                f"after imports+warm-up+data {q_mem['rss_before_mb']:,.0f} / "
                f"{v_mem['rss_before_mb']:,.0f} MB; "
                f"tracemalloc peak {q_mem['traced_peak_mb']:,.0f} / {v_mem['traced_peak_mb']:,.0f} MB",
            )
        )

    if "b" in args.cases:
        q_t, q_out = best_time(lambda: qo_sweep(daily), max(1, repeat // 2))
        v_t, v_out = best_time(lambda: vbt_sweep(daily), 1)
        add(
            f"(b) sweep {q_out['combos']} SMA combos, GOOG",
            q_t,
            v_t,
            "<= 1/2 vbt",
            q_t <= v_t / 2,
            f"best {q_out['best']} (Sharpe {q_out['sharpe']:.3f} √252) "
            f"vs {v_out['best']} ({v_out['sharpe']:.3f} √365)",
        )

    if "c" in args.cases:
        q_t, q_out = best_time(lambda: qo_backtest(daily, 10, 20), 300)
        a_t, _ = best_time(lambda: qo_backtest_arrays(daily, 10, 20), 300)
        v_t, v_out = best_time(lambda: vbt_backtest(daily, 10, 20, "1D"), repeat)
        add(
            "(c) one warm GOOG backtest",
            q_t,
            v_t,
            "< 1 ms",
            q_t < 1e-3,
            f"final {q_out['final']:,.2f} vs {v_out['final']:,.2f}; backtest_arrays {a_t * 1e3:.2f} ms",
        )

    if "d" in args.cases:
        q_t, q_cpu = cold_start("quantops")
        v_t, v_cpu = cold_start("vectorbt", repeat=1)
        add(
            "(d) cold start (fresh process)",
            q_t,
            v_t,
            "< 1.5 s",
            q_t < 1.5,
            f"import + 1 GOOG backtest, numba cache warm; CPU time {q_cpu:.2f} s vs {v_cpu:.2f} s",
        )

    headers = ("case", "quantops", "vectorbt", "vbt/qo", "target", "notes")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    import numba
    import vectorbt

    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nload average {load} (machine shared); ", end="")
    print(f"numba {numba.__version__}, vectorbt {vectorbt.__version__}, numpy {np.__version__}, "
          f"pandas {pd.__version__}, {len(os.sched_getaffinity(0))} CPU(s)")  # fmt: skip


if __name__ == "__main__":
    main()
