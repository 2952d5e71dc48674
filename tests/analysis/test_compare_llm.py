"""The LLM narrative path against a tiny OpenAI-compatible server, and every fallback to the writer."""

from __future__ import annotations

import json
from typing import Any

COMPARE = "/api/v1/chatops-advanced/strategies/compare"
SECRET = "sk-test-llm-key-never-shown"  # the key llm_live_server configures


async def test_llm_narrative_and_its_fallbacks(llm_live_server: Any) -> None:
    live, llm = llm_live_server
    async with live.client() as client:
        ids = [
            await live.create_strategy(
                client, "fast sma", {"config_type": "sma_crossover", "fast": 5, "slow": 20}
            ),
            await live.create_strategy(client, "hold", {"config_type": "buy_and_hold"}),
        ]
        body: dict[str, Any] = {
            "strategy_ids": ids,
            "metrics": ["sharpe_ratio", "max_drawdown"],
            "natural_language_query": "Which is better?",
            "symbol": "AAPL",
            "start": "2018-01-01",
            "end": "2023-12-31",
            "generate_report": False,
        }

        llm.mode = "good"
        response = await client.post(COMPARE, json=body)
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["narrative_source"] == "llm" and result["narrative_note"] is None
        assert {k: result[k] for k in ("summary", "recommendation", "reasoning")} == llm.GOOD
        assert result["report_url"] is None
        assert SECRET not in response.text

        # The model got the facts: the numbers of this very response, the question, the language.
        request = llm.requests[-1]
        assert request["model"] == "narrator-test"
        assert llm.headers[-1]["authorization"] == f"Bearer {SECRET}"
        system, user = request["messages"][0]["content"], request["messages"][1]["content"]
        assert "English" in system and "50-500" in system
        assert user.startswith("Question: Which is better?")
        facts = json.loads(user.split("Facts (JSON): ", 1)[1])
        sent = {s["name"]: s["metrics"] for s in facts["strategies"]}
        for strategy in result["strategies"]:
            assert sent[strategy["label"]] == strategy["metrics"]
        assert facts["monte_carlo"] == result["analysis"]["monte_carlo"]
        assert facts["risk"] == result["analysis"]["risk"]

        # Korean question: Korean instruction; a fenced JSON answer is accepted.
        llm.mode = "good_ko"
        response = await client.post(COMPARE, json={**body, "natural_language_query": "어느 쪽이 나아?"})
        assert response.json()["narrative_source"] == "llm"
        assert response.json()["summary"] == llm.GOOD_KO["summary"]
        assert "Korean" in llm.requests[-1]["messages"][0]["content"]

        # Every failure falls back to the deterministic writer, says why, and keeps the bounds.
        for mode, reason, query in (
            ("english_for_korean", "wrong_language", "어느 쪽이 나아?"),
            ("garbage", "malformed_output", "Which is better?"),
            ("short", "malformed_output", "Which is better?"),
            ("error", "http_500", "Which is better?"),
            ("slow", "timeout", "Which is better?"),
            ("trickle", "deadline", "Which is better?"),
        ):
            llm.mode = mode
            response = await client.post(COMPARE, json={**body, "natural_language_query": query})
            assert response.status_code == 200, (mode, response.text)
            result = response.json()
            assert result["narrative_source"] == "deterministic", mode
            assert reason in result["narrative_note"], (mode, result["narrative_note"])
            assert 50 <= len(result["summary"]) <= 500 and 50 <= len(result["reasoning"]) <= 1000
            assert result["summary"] not in (llm.GOOD["summary"], llm.GOOD_KO["summary"])
            assert SECRET not in response.text
