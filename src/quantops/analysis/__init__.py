"""Comparison analytics, pure numpy: alignment, metrics, ranking, correlation, Monte Carlo, VaR/CVaR,
market regimes and a deterministic narrative writer. See docs/analysis.md for the rules."""

from quantops.analysis.alignment import AlignedReturns, EquityCurve, align_equity_curves
from quantops.analysis.compare import (
    ComparisonAnalysis,
    ComparisonOptions,
    UnderlyingPrices,
    analyze_comparison,
)
from quantops.analysis.correlation import correlation_matrix
from quantops.analysis.errors import AnalysisError, InsufficientOverlapError
from quantops.analysis.montecarlo import MonteCarloResult, monte_carlo
from quantops.analysis.narrative import Narrative, detect_language, fit_length, write_narrative
from quantops.analysis.performance import METRIC_DIRECTIONS, SUPPORTED_METRICS, Direction, performance_metrics
from quantops.analysis.ranking import Ranking, rank_strategies
from quantops.analysis.regimes import Regime, RegimeRule, label_regimes, regime_statistics
from quantops.analysis.risk import RiskResult, value_at_risk

__all__ = [
    "METRIC_DIRECTIONS",
    "SUPPORTED_METRICS",
    "AlignedReturns",
    "AnalysisError",
    "ComparisonAnalysis",
    "ComparisonOptions",
    "Direction",
    "EquityCurve",
    "InsufficientOverlapError",
    "MonteCarloResult",
    "Narrative",
    "Ranking",
    "Regime",
    "RegimeRule",
    "RiskResult",
    "UnderlyingPrices",
    "align_equity_curves",
    "analyze_comparison",
    "correlation_matrix",
    "detect_language",
    "fit_length",
    "label_regimes",
    "monte_carlo",
    "performance_metrics",
    "rank_strategies",
    "regime_statistics",
    "value_at_risk",
    "write_narrative",
]
