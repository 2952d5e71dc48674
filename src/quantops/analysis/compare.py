"""One call that runs the whole comparison on aligned equity curves and returns JSON-safe results."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quantops.analysis.alignment import (
    DEFAULT_MIN_COMMON_DATES,
    AlignedReturns,
    EquityCurve,
    align_equity_curves,
)
from quantops.analysis.correlation import correlation_matrix
from quantops.analysis.montecarlo import DEFAULT_RESAMPLES, MonteCarloResult, monte_carlo
from quantops.analysis.performance import performance_metrics, strategy_returns
from quantops.analysis.ranking import Ranking, rank_strategies
from quantops.analysis.regimes import (
    RegimeAnalysis,
    RegimeRule,
    label_regimes,
    labels_on_dates,
    regime_statistics,
)
from quantops.analysis.risk import DEFAULT_LEVELS, RiskResult, value_at_risk
from quantops.engine.metrics import periods_per_year as engine_periods_per_year


@dataclass(frozen=True, slots=True)
class UnderlyingPrices:
    """Close prices of the market the strategies trade, with enough history before the window for
    the regime rule's warm-up (the service loads ``RegimeRule.warmup_bars`` extra bars)."""

    symbol: str
    timestamps: np.ndarray
    close: np.ndarray


@dataclass(frozen=True, slots=True)
class ComparisonOptions:
    n_resamples: int = DEFAULT_RESAMPLES
    seed: int = 0
    block_size: int | None = None
    risk_levels: tuple[float, ...] = DEFAULT_LEVELS
    regime_rule: RegimeRule = field(default_factory=RegimeRule)
    min_common_dates: int = DEFAULT_MIN_COMMON_DATES
    # None: the engine's rule over the common dates (252 for daily stock bars, 365 with weekend bars, …).
    periods_per_year: float | None = None


@dataclass(frozen=True, slots=True)
class ComparisonAnalysis:
    aligned: AlignedReturns
    metrics: dict[str, np.ndarray]
    ranking: Ranking
    correlation: np.ndarray
    monte_carlo: MonteCarloResult
    risk: RiskResult
    regimes: RegimeAnalysis | None
    underlying: UnderlyingPrices | None
    underlying_regime_labels: np.ndarray | None
    options: ComparisonOptions

    @property
    def names(self) -> tuple[str, ...]:
        return self.aligned.names

    def to_dict(self) -> dict[str, Any]:
        return analysis_to_dict(self)


def analyze_comparison(
    curves: Sequence[EquityCurve],
    ranking_metrics: Sequence[str],
    extra_metrics: Mapping[str, Sequence[float]] | None = None,
    underlying: UnderlyingPrices | None = None,
    options: ComparisonOptions | None = None,
) -> ComparisonAnalysis:
    """Align the curves, compute metrics on the common window, rank, correlate, resample, risk, regimes.

    ``extra_metrics`` supplies metrics that equity cannot give (trade ``win_rate``), one value per curve
    in curve order; they override nothing computed here.
    """
    options = options or ComparisonOptions()
    aligned = align_equity_curves(curves, options.min_common_dates)
    common_ann = options.periods_per_year or engine_periods_per_year(aligned.timestamps)
    # A curve compared on all of its own dates keeps its backtest's annualisation and starting cash, so
    # its figures equal its backtest's stats; otherwise the common dates' annualisation and first value.
    ann = [
        c.periods_per_year if c.periods_per_year and complete else common_ann
        for c, complete in zip(curves, aligned.complete, strict=True)
    ]
    initial = [
        c.initial_cash if c.initial_cash and starts else np.nan
        for c, starts in zip(curves, aligned.starts_at_first_point, strict=True)
    ]
    metrics = performance_metrics(aligned.equity, ann, [c.risk_free_rate for c in curves], initial)
    for name, values in (extra_metrics or {}).items():
        metrics.setdefault(name, np.asarray(values, dtype=np.float64))
    ranking = rank_strategies(aligned.names, metrics, ranking_metrics)
    correlation = correlation_matrix(aligned.returns)
    mc = monte_carlo(aligned.returns, options.n_resamples, options.seed, options.block_size)
    # VaR/CVaR per strategy over the returns its metrics use (its backtest's own when compared whole).
    per_strategy = [value_at_risk(r, options.risk_levels) for r in strategy_returns(aligned.equity, initial)]
    risk = RiskResult(
        levels=tuple(options.risk_levels),
        **{
            kind: np.vstack([getattr(r, kind) for r in per_strategy])
            for kind in ("historical_var", "historical_cvar", "parametric_var", "parametric_cvar")
        },
    )

    regimes: RegimeAnalysis | None = None
    underlying_labels: np.ndarray | None = None
    if underlying is not None and np.asarray(underlying.close).size:
        underlying_labels = label_regimes(underlying.close, options.regime_rule)
        date_labels = labels_on_dates(underlying.timestamps, underlying_labels, aligned.timestamps)
        # Period i runs from date i to date i + 1 and takes the regime of date i.
        regimes = regime_statistics(
            aligned.returns,
            date_labels[:-1],
            options.regime_rule,
            common_ann,
            [c.risk_free_rate for c in curves],
        )
    return ComparisonAnalysis(
        aligned=aligned,
        metrics=metrics,
        ranking=ranking,
        correlation=correlation,
        monte_carlo=mc,
        risk=risk,
        regimes=regimes,
        underlying=underlying,
        underlying_regime_labels=underlying_labels,
        options=options,
    )


def finite_or_none(value: float, digits: int = 6) -> float | None:
    """JSON has no NaN/inf: undefined figures become null."""
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def _percentile_key(p: float) -> str:
    return f"p{int(p)}" if float(p).is_integer() else f"p{p:g}"


def _level_key(level: float) -> str:
    return f"{round(level * 100):d}"


def analysis_to_dict(result: ComparisonAnalysis) -> dict[str, Any]:
    names = list(result.names)
    mc = result.monte_carlo
    risk = result.risk
    out: dict[str, Any] = {
        "common_dates": {
            "start": _iso_day(result.aligned.timestamps[0]),
            "end": _iso_day(result.aligned.timestamps[-1]),
            "count": int(result.aligned.timestamps.size),
        },
        "metrics": {
            name: {metric: finite_or_none(values[i]) for metric, values in result.metrics.items()}
            for i, name in enumerate(names)
        },
        "ranking": [
            {
                "position": entry.position,
                "name": entry.name,
                "composite_score": finite_or_none(entry.composite_score),
                "metric_ranks": entry.metric_ranks,
            }
            for entry in result.ranking.entries
        ],
        "correlation": {
            "names": names,
            "matrix": [[finite_or_none(v) for v in row] for row in result.correlation],
        },
        "monte_carlo": {
            "n_resamples": mc.n_resamples,
            "block_size": mc.block_size,
            "seed": mc.seed,
            "horizon_days": int(result.aligned.returns.shape[0]),
            "strategies": {
                name: {
                    "final_return_pct": {
                        _percentile_key(p): finite_or_none(mc.final_return[i, j])
                        for j, p in enumerate(mc.percentiles)
                    },
                    "max_drawdown_pct": {
                        _percentile_key(p): finite_or_none(mc.max_drawdown[i, j])
                        for j, p in enumerate(mc.percentiles)
                    },
                    "probability_of_loss": finite_or_none(mc.probability_of_loss[i]),
                }
                for i, name in enumerate(names)
            },
        },
        "risk": {
            "unit": "daily loss, percent (positive = loss)",
            "strategies": {
                name: {
                    f"{kind}_{_level_key(level)}": finite_or_none(getattr(risk, kind)[i, j])
                    for kind in ("historical_var", "historical_cvar", "parametric_var", "parametric_cvar")
                    for j, level in enumerate(risk.levels)
                }
                for i, name in enumerate(names)
            },
        },
        "regimes": None,
    }
    if result.regimes is not None and result.underlying is not None:
        rule = result.regimes.rule
        out["regimes"] = {
            "symbol": result.underlying.symbol,
            "rule": {
                "sma_window": rule.sma_window,
                "slope_lookback": rule.slope_lookback,
                "band_pct": rule.band_pct,
            },
            "unclassified_share": finite_or_none(result.regimes.unclassified_share),
            "regimes": {
                stats.regime.label: {
                    "periods": stats.periods,
                    "share": finite_or_none(stats.share),
                    "strategies": {
                        name: {
                            "total_return_pct": finite_or_none(stats.total_return[i]),
                            "annualized_return_pct": finite_or_none(stats.annualized_return[i]),
                            "volatility_pct": finite_or_none(stats.volatility[i]),
                            "sharpe_ratio": finite_or_none(stats.sharpe_ratio[i]),
                        }
                        for i, name in enumerate(names)
                    },
                }
                for stats in result.regimes.stats
            },
        }
    return out


def _iso_day(timestamp_ns: np.integer | int) -> str:
    return str(np.datetime64(int(timestamp_ns), "ns").astype("datetime64[D]"))
