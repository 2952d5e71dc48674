"""The original platform's documented requests, verbatim (copied from its reference; tests must not read
anything outside tests/). quantops must accept each exactly as written, plus an API key."""

from __future__ import annotations

from typing import Any

SESSION_CREATE = "/session/create?user_id=test_user"

CHAT_BODY: dict[str, Any] = {
    "question": "현재 DuckDB 캐시 상태는 어떻게 되나요?",
    "user_roles": [],
    "include_history": True,
}

COMPARE_BODY: dict[str, Any] = {
    "strategy_ids": ["strategy-1", "strategy-2", "strategy-3"],
    "metrics": ["total_return", "sharpe_ratio", "max_drawdown"],
    "natural_language_query": "가장 안정적인 전략은?",
}

TRIGGER_PATH = "/backtest/trigger?user_id=test_user"
TRIGGER_BODY: dict[str, Any] = {
    "strategy_config": {
        "name": "Test RSI Strategy",
        "description": "RSI based test strategy",
        "config": {"config_type": "rsi_mean_reversion", "rsi_period": 14, "oversold": 30, "overbought": 70},
    },
    "trigger_reason": "사용자 요청",
    "generate_report": True,
    "notify_on_completion": False,
}
# The original answered {"backtest_id", "status": "pending", "estimated_duration_seconds": 60, "report_url"}.
TRIGGER_RESPONSE_KEYS = {"backtest_id", "status", "estimated_duration_seconds", "report_url"}
