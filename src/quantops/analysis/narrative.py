"""Deterministic comparison narrative in the language of the query (Korean or English).

It cites the computed numbers and always respects the length bounds of the public response:
summary 50–500, recommendation 50–500, reasoning 50–1000 characters (``fit_length``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from quantops.analysis.compare import ComparisonAnalysis
from quantops.analysis.regimes import Regime
from quantops.engine import catalogue
from quantops.language import Language, detect_language

SUMMARY_BOUNDS = (50, 500)
RECOMMENDATION_BOUNDS = (50, 500)
REASONING_BOUNDS = (50, 1000)

# Labels and units come from the one metric catalogue; prose uses the longer names ("Sharpe ratio").
METRIC_LABELS: dict[str, dict[Language, str]] = {
    m.key: {"en": m.name.en, "ko": m.name.ko} for m in catalogue.METRICS if m.comparable
}
_REGIME_LABELS: dict[Regime, dict[Language, str]] = {
    Regime.BULL: {"en": "bull", "ko": "상승장"},
    Regime.BEAR: {"en": "bear", "ko": "하락장"},
    Regime.SIDEWAYS: {"en": "sideways", "ko": "횡보장"},
}
_FILLER: dict[Language, str] = {
    "en": " All figures are computed on the dates every compared strategy shares.",
    "ko": " 모든 수치는 비교한 전략들이 공통으로 가진 날짜에서 계산했습니다.",
}


@dataclass(frozen=True, slots=True)
class Narrative:
    language: Language
    summary: str
    recommendation: str
    reasoning: str


def fit_length(text: str, bounds: tuple[int, int], language: Language) -> str:
    """Trim at a sentence end (or hard-cut with an ellipsis) above the maximum; pad below the minimum."""
    minimum, maximum = bounds
    text = " ".join(text.split())
    if len(text) > maximum:
        window = text[:maximum]
        cut = max(window.rfind(". "), window.rfind(".\u00a0"))
        text = window[: cut + 1] if cut + 1 >= minimum else window[: maximum - 1].rstrip() + "…"
    while len(text) < minimum:
        text = (text + _FILLER[language])[:maximum]
    return text


def format_metric(metric: str, value: float, language: Language) -> str:
    if value is None or not math.isfinite(value):
        return "n/a" if language == "en" else "해당 없음"
    entry = catalogue.lookup(metric)
    if entry is not None and entry.percent:
        return f"{value:.1f}%"
    return f"{value:.2f}"


def _pct(value: float, language: Language) -> str:
    return format_metric("total_return", value, language)


def _most_diversifying_pair(analysis: ComparisonAnalysis) -> tuple[str, str, float] | None:
    correlation = analysis.correlation
    n = correlation.shape[0]
    best: tuple[str, str, float] | None = None
    for i in range(n):
        for j in range(i + 1, n):
            value = correlation[i, j]
            if math.isfinite(value) and (best is None or value < best[2]):
                best = (analysis.names[i], analysis.names[j], float(value))
    return best


def write_narrative(
    analysis: ComparisonAnalysis, query: str | None = None, language: Language | None = None
) -> Narrative:
    """Summary, recommendation and reasoning that cite ``analysis``' numbers, within the length bounds."""
    language = language or detect_language(query)
    writer = _write_korean if language == "ko" else _write_english
    summary, recommendation, reasoning = writer(analysis)
    return Narrative(
        language=language,
        summary=fit_length(summary, SUMMARY_BOUNDS, language),
        recommendation=fit_length(recommendation, RECOMMENDATION_BOUNDS, language),
        reasoning=fit_length(reasoning, REASONING_BOUNDS, language),
    )


def _metric_phrase(
    analysis: ComparisonAnalysis, name: str, metrics: tuple[str, ...], language: Language
) -> str:
    index = analysis.names.index(name)
    return ", ".join(
        f"{METRIC_LABELS[m][language]} {format_metric(m, float(analysis.metrics[m][index]), language)}"
        for m in metrics
        if m in analysis.metrics
    )


def _headline_metrics(analysis: ComparisonAnalysis) -> tuple[str, ...]:
    # The requested metrics first, then the three readers look for, at most four in a sentence.
    ordered = list(dict.fromkeys([*analysis.ranking.metrics, "total_return", "sharpe_ratio", "max_drawdown"]))
    return tuple(ordered[:4])


def _regime_sentences(analysis: ComparisonAnalysis, language: Language) -> list[str]:
    regimes = analysis.regimes
    if regimes is None:
        return []
    sentences: list[str] = []
    for stats in regimes.stats:
        if stats.periods < 2 or not np.any(np.isfinite(stats.total_return)):
            continue
        best = int(np.nanargmax(stats.total_return))
        worst = int(np.nanargmin(stats.total_return))
        label = _REGIME_LABELS[stats.regime][language]
        share = f"{stats.share * 100:.0f}%"
        best_name, worst_name = analysis.names[best], analysis.names[worst]
        if language == "ko":
            sentences.append(
                f"{label}(기간의 {share})에서는 {best_name}이(가) "
                f"{_pct(stats.total_return[best], language)}로 "
                f"가장 좋았고 {worst_name}은(는) {_pct(stats.total_return[worst], language)}였습니다."
            )
        else:
            sentences.append(
                f"In {label} markets ({share} of days) {best_name} did best at "
                f"{_pct(stats.total_return[best], language)} while {worst_name} made "
                f"{_pct(stats.total_return[worst], language)}."
            )
    return sentences


def _write_english(analysis: ComparisonAnalysis) -> tuple[str, str, str]:
    lang: Language = "en"
    entries = analysis.ranking.entries
    best, worst = entries[0].name, entries[-1].name
    common = analysis.aligned.timestamps
    days = common.size
    start, end = (str(np.datetime64(int(t), "ns").astype("datetime64[D]")) for t in (common[0], common[-1]))
    ranked_by = ", ".join(METRIC_LABELS[m][lang] for m in analysis.ranking.metrics)
    headline = _headline_metrics(analysis)
    summary = (
        f"Compared {len(entries)} strategies on {days} common trading days ({start} to {end}), ranked by "
        f"{ranked_by}. {best} ranks first ({_metric_phrase(analysis, best, headline, lang)}); "
        f"{worst} ranks last ({_metric_phrase(analysis, worst, headline, lang)})."
    )

    mc = analysis.monte_carlo
    best_index = analysis.names.index(best)
    median_column = mc.percentiles.index(50.0) if 50.0 in mc.percentiles else len(mc.percentiles) // 2
    low_column = 0
    recommendation = (
        f"Prefer {best}: across {mc.n_resamples} bootstrap resamples its median final return is "
        f"{_pct(mc.final_return[best_index, median_column], lang)} (p{mc.percentiles[low_column]:g} "
        f"{_pct(mc.final_return[best_index, low_column], lang)}) with a "
        f"{mc.probability_of_loss[best_index] * 100:.0f}% probability of loss."
    )
    pair = _most_diversifying_pair(analysis)
    if pair is not None and pair[2] < 0.5:
        recommendation += (
            f" For diversification, {pair[0]} and {pair[1]} have the lowest return correlation"
            f" ({pair[2]:.2f})."
        )

    sentences: list[str] = []
    for metric in analysis.ranking.metrics:
        ranked = sorted(analysis.ranking.entries, key=lambda e: e.metric_ranks[metric])
        leader = ranked[0]
        values = ", ".join(f"{e.name} {format_metric(metric, e.metric_values[metric], lang)}" for e in ranked)
        sentences.append(f"On {METRIC_LABELS[metric][lang]} {leader.name} leads ({values}).")
    sentences.append(
        "Composite scores (mean rank, lower is better): "
        + ", ".join(f"{e.name} {e.composite_score:.2f}" for e in entries)
        + "."
    )
    risk = analysis.risk
    if 0.95 in risk.levels:
        column = risk.levels.index(0.95)
        sentences.append(
            "One-day 95% historical VaR / CVaR: "
            + ", ".join(
                f"{name} {risk.historical_var[i, column]:.2f}% / {risk.historical_cvar[i, column]:.2f}%"
                for i, name in enumerate(analysis.names)
            )
            + "."
        )
    sentences.extend(_regime_sentences(analysis, lang))
    return summary, recommendation, " ".join(sentences)


def _write_korean(analysis: ComparisonAnalysis) -> tuple[str, str, str]:
    lang: Language = "ko"
    entries = analysis.ranking.entries
    best, worst = entries[0].name, entries[-1].name
    common = analysis.aligned.timestamps
    days = common.size
    start, end = (str(np.datetime64(int(t), "ns").astype("datetime64[D]")) for t in (common[0], common[-1]))
    ranked_by = ", ".join(METRIC_LABELS[m][lang] for m in analysis.ranking.metrics)
    headline = _headline_metrics(analysis)
    summary = (
        f"{len(entries)}개 전략을 공통 거래일 {days}일({start}~{end}) 기준으로 "
        f"{ranked_by}에 따라 비교했습니다. "
        f"1위는 {best}({_metric_phrase(analysis, best, headline, lang)}), "
        f"최하위는 {worst}({_metric_phrase(analysis, worst, headline, lang)})입니다."
    )
    mc = analysis.monte_carlo
    best_index = analysis.names.index(best)
    median_column = mc.percentiles.index(50.0) if 50.0 in mc.percentiles else len(mc.percentiles) // 2
    recommendation = (
        f"{best}을(를) 추천합니다. 부트스트랩 {mc.n_resamples}회 재표본에서 최종 수익률 중앙값은 "
        f"{_pct(mc.final_return[best_index, median_column], lang)}, 하위 {mc.percentiles[0]:g}% 값은 "
        f"{_pct(mc.final_return[best_index, 0], lang)}이며 손실 확률은 "
        f"{mc.probability_of_loss[best_index] * 100:.0f}%입니다."
    )
    pair = _most_diversifying_pair(analysis)
    if pair is not None and pair[2] < 0.5:
        recommendation += (
            f" 분산 투자에는 수익률 상관계수가 가장 낮은 {pair[0]}와(과) {pair[1]}"
            f"({pair[2]:.2f}) 조합이 좋습니다."
        )

    sentences: list[str] = []
    for metric in analysis.ranking.metrics:
        ranked = sorted(analysis.ranking.entries, key=lambda e: e.metric_ranks[metric])
        values = ", ".join(f"{e.name} {format_metric(metric, e.metric_values[metric], lang)}" for e in ranked)
        sentences.append(f"{METRIC_LABELS[metric][lang]} 기준 1위는 {ranked[0].name}입니다({values}).")
    sentences.append(
        "종합 점수(평균 순위, 낮을수록 좋음): "
        + ", ".join(f"{e.name} {e.composite_score:.2f}" for e in entries)
        + "."
    )
    risk = analysis.risk
    if 0.95 in risk.levels:
        column = risk.levels.index(0.95)
        sentences.append(
            "1일 95% 역사적 VaR / CVaR: "
            + ", ".join(
                f"{name} {risk.historical_var[i, column]:.2f}% / {risk.historical_cvar[i, column]:.2f}%"
                for i, name in enumerate(analysis.names)
            )
            + "."
        )
    sentences.extend(_regime_sentences(analysis, lang))
    return summary, recommendation, " ".join(sentences)
