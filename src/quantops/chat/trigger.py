"""The original ``POST /backtest/trigger``: an ``AutoBacktestRequest`` → a real background backtest.

``strategy_config`` comes in three forms, all accepted:

- the original's ``StrategyCreate`` — ``{"name", "description", "config": {"config_type": ...}}``;
- a flat engine config — ``{"config_type": "sma_crossover", "fast": 10, ...}``;
- ``{"strategy_id": ...}`` (a saved strategy).

Any form may carry ``symbol`` and ``start``/``end`` (or the original ``start_date``/``end_date``), also
accepted at the top level. The original never named a symbol: without one the backtest runs on
``settings.default_symbol`` over its full stored range, and the response says so (``note``).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError

from quantops.chat.schemas import AutoBacktestRequest, AutoBacktestResponse
from quantops.services.errors import ValidationFailed
from quantops.services.schemas import BacktestCreate, UserContext
from quantops.strategies import StrategyCreate

_PLACEMENT_KEYS = ("symbol", "start", "end", "start_date", "end_date")


def _split(strategy_config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """(engine config or {"strategy_id"}, placement keys, strategy name)."""
    outer = dict(strategy_config)
    placement = {key: outer.pop(key) for key in _PLACEMENT_KEYS if key in outer}
    inner = outer.get("config")
    if isinstance(inner, dict):  # the original StrategyCreate {name, description, config}
        inner = dict(inner)
        placement.update({key: inner.pop(key) for key in _PLACEMENT_KEYS if key in inner})
        try:
            created = StrategyCreate.model_validate({**outer, "config": inner})
        except ValidationError as exc:
            raise ValidationFailed.from_pydantic(exc, "strategy_config", field_in_message=True) from exc
        return created.config.model_dump(mode="json"), placement, created.name
    name = outer.pop("name", None)
    outer.pop("description", None)
    return outer, placement, str(name) if name is not None else None


def estimate_seconds(estimate: float | None) -> int:
    """The original's integer ``estimated_duration_seconds`` (whole seconds, rounded up, at least 1)."""
    return max(1, math.ceil(estimate or 0.0))


async def trigger_backtest(
    container: Any, default_symbol: str, user: UserContext, request: AutoBacktestRequest
) -> AutoBacktestResponse:
    config, placement, strategy_name = _split(request.strategy_config)
    symbol = request.symbol or placement.get("symbol")
    start = request.start or placement.get("start") or placement.get("start_date")
    end = request.end or placement.get("end") or placement.get("end_date")
    notes: list[str] = []
    if not symbol:
        symbol = default_symbol
        notes.append(f"no symbol given: ran on the default symbol {symbol} (QUANTOPS_DEFAULT_SYMBOL)")
    if start is None and end is None:
        notes.append(f"no period given: the full stored range of {str(symbol).upper()}")
    body: dict[str, Any] = {
        "symbol": symbol,
        "start": start,
        "end": end,
        "generate_report": request.generate_report,
        "notify_on_completion": request.notify_on_completion,
    }
    strategy_id = config.pop("strategy_id", None)
    if strategy_id is not None:
        body["strategy_id"] = str(strategy_id)
    else:
        body["strategy_config"] = config
    try:
        create = BacktestCreate.model_validate(body)
    except ValidationError as exc:
        # BacktestCreate's own names: symbol, start, end, strategy_config.<type>.<param>, strategy_id
        raise ValidationFailed.from_pydantic(exc, field_in_message=True) from exc
    out = await container.backtests.submit(user, create)
    return AutoBacktestResponse(
        backtest_id=out.id,
        status=out.status,
        estimated_duration_seconds=estimate_seconds(out.estimated_duration_seconds),
        report_url=out.report_url
        or (container.backtests.report_url(out.id) if request.generate_report else None),
        trigger_reason=request.trigger_reason,
        strategy_name=strategy_name,
        symbol=out.symbol,
        start=out.start,
        end=out.end,
        note="; ".join(notes) or None,
    )
