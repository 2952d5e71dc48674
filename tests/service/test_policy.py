"""One role policy (services.policy.POLICY): REST and chat agree with it for every role × action (#10)."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from quantops.chat.tools import CHAT_TOOLS, ROLE_TOOLS, ToolContext, allowed_tools
from quantops.services.policy import POLICY, allows, effective_roles, roles_allowing
from quantops.services.schemas import ROLES, UserContext

pytestmark = pytest.mark.timeout(180)
MISSING_ID = "0" * 32
_names = itertools.count()


def _unique(prefix: str) -> str:
    return f"{prefix} {next(_names)}"


# action → (method, path, json body) of its REST call; {strategy} is a strategy of the caller's own.
REST_CALLS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "get_backtest": ("GET", f"/api/v1/backtests/{MISSING_ID}", None),
    "list_backtests": ("GET", "/api/v1/backtests", None),
    "list_strategies": ("GET", "/api/v1/strategies", None),
    "cache_status": ("GET", "/api/v1/market-data/status", None),
    "market_data": ("GET", "/api/v1/market-data/bars/GOOG?limit=5", None),
    # an unknown symbol: allowed roles get the 422 naming it, others the 403 first
    "run_backtest": (
        "POST",
        "/api/v1/backtests",
        {"strategy_config": {"config_type": "buy_and_hold"}, "symbol": "ZZZZ"},
    ),
    "cancel_backtest": ("POST", f"/api/v1/backtests/{MISSING_ID}/cancel", None),
    "create_strategy": (
        "POST",
        "/api/v1/strategies",
        {"name": "", "config": {"config_type": "buy_and_hold"}},
    ),
    "update_strategy": ("PATCH", "/api/v1/strategies/{strategy}", {"description": "updated"}),
    "delete_strategy": ("DELETE", f"/api/v1/strategies/{MISSING_ID}", None),
    "compare_strategies": (
        "POST",
        "/api/v1/chatops-advanced/strategies/compare",
        {"strategy_ids": [MISSING_ID, "1" * 32], "metrics": ["sharpe_ratio"]},
    ),
    "list_users": ("GET", "/api/v1/users", None),
    "create_user": ("POST", "/api/v1/users", {"name": "", "roles": ["viewer"]}),
}

# chat tool → arguments (the same effect as the REST call above)
TOOL_ARGS: dict[str, dict[str, Any]] = {
    "get_backtest": {"backtest_id": MISSING_ID},
    "list_backtests": {},
    "list_strategies": {},
    "cache_status": {},
    "market_data": {"symbol": "GOOG"},
    "run_backtest": {"strategy_config": {"config_type": "buy_and_hold"}, "symbol": "ZZZZ"},
    "cancel_backtest": {"backtest_id": MISSING_ID},
    "create_strategy": {"name": "", "config": {"config_type": "buy_and_hold"}},
    "compare_strategies": {"strategy_ids": [MISSING_ID, "1" * 32], "metrics": ["sharpe_ratio"]},
}


def test_every_action_has_a_rest_call_and_every_chat_tool_is_an_action() -> None:
    assert set(REST_CALLS) == set(POLICY)
    assert set(POLICY) >= CHAT_TOOLS and set(TOOL_ARGS) == CHAT_TOOLS
    assert "cancel_backtest" in POLICY and "cancel_backtest" in CHAT_TOOLS


def test_admin_includes_every_role_and_refusals_name_the_roles() -> None:
    for action in POLICY:
        assert allows({"admin"}, action)
        assert roles_allowing(action)[-1] == "admin"
    assert ROLE_TOOLS["admin"] == CHAT_TOOLS
    # the chat table is derived from the policy, role by role
    for role, action in itertools.product(ROLES, CHAT_TOOLS):
        assert (action in ROLE_TOOLS[role]) == allows({role}, action), (role, action)
    # devops: operations (run, cancel), not strategy authoring — over REST and in chat alike
    assert allows({"devops"}, "run_backtest") and allows({"devops"}, "cancel_backtest")
    assert not allows({"devops"}, "create_strategy") and not allows({"devops"}, "compare_strategies")


def test_user_roles_narrow_the_granted_roles() -> None:
    assert effective_roles([], {"analyst"}) == {"analyst"}  # empty = every granted role
    assert effective_roles(None, {"admin", "devops"}) == {"admin", "devops"}
    assert effective_roles(["viewer"], {"analyst"}) == {"viewer"}  # narrowed to a role not granted → viewer
    assert effective_roles(["analyst"], {"admin"}) == {"analyst"}  # admin includes analyst
    assert effective_roles(["Analyst ", "devops"], {"admin"}) == {"analyst", "devops"}
    assert effective_roles(["admin"], {"analyst"}) == {"viewer"}  # asking for more grants nothing
    assert effective_roles(["nonsense"], {"analyst"}) == {"viewer"}
    assert allowed_tools(effective_roles([], {"admin"})) == CHAT_TOOLS


@pytest.fixture
async def app_client(make_settings: Callable[..., Any], database_url: str) -> AsyncIterator[Any]:
    """The full app (chat and comparison installed) in process, one user per role."""
    from quantops.api.app import create_app
    from quantops.services.container import build_container

    container = build_container(make_settings(database_url))
    app = create_app(container=container)
    async with app.router.lifespan_context(app):
        users = {role: await container.users.create(f"only-{role}", [role]) for role in ROLES}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://quantops.test") as client:
            yield client, container, users


async def test_rest_and_chat_agree_with_the_policy_for_every_role_and_action(app_client: Any) -> None:
    client, container, users = app_client
    registry = container.chat.registry
    analyst_owned = await container.strategies.create(
        UserContext(id=users["analyst"].id, name="only-analyst", roles=frozenset({"analyst"})),
        _strategy_create("owned"),
    )
    mismatches: list[str] = []
    for role in ROLES:
        user = users[role]
        headers = {"X-API-Key": user.api_key}
        # a strategy of the caller's own where one is needed (the analyst made it; others' is a 404)
        strategy = analyst_owned.id if role == "analyst" else MISSING_ID
        roles = effective_roles([], user.roles)  # what a chat turn with user_roles [] acts with
        acting = UserContext(id=user.id, name=user.name, roles=roles)
        for action, (method, path, body) in REST_CALLS.items():
            expected = allows({role}, action)
            if body is not None and body.get("name") == "":
                body = {**body, "name": _unique(f"{role}-{action}").replace(" ", "-")}
            response = await client.request(
                method, path.format(strategy=strategy), json=body, headers=headers
            )
            rest_allowed = response.status_code != 403
            if rest_allowed != expected:
                mismatches.append(f"REST {role} {action}: {response.status_code} {response.text[:200]}")
            if response.status_code == 403:
                detail = response.json()["detail"]
                needed = roles_allowing(action)
                if not all(r in detail for r in needed):
                    mismatches.append(f"REST {role} {action}: refusal names no role: {detail}")
            if action not in CHAT_TOOLS:
                continue
            in_table = action in allowed_tools(roles)
            if in_table != expected:
                mismatches.append(f"chat table {role} {action}: {in_table}")
            assert registry.get(action) is not None, f"chat tool {action} is in the policy, not registered"
            args = dict(TOOL_ARGS[action])
            if args.get("name") == "":
                args["name"] = _unique(f"chat-{role}")
            ctx = ToolContext(acting, container)
            # The tool runs past the chat's table (allowed = every tool), so the service's own check
            # must refuse exactly where the table does.
            outcome = await registry.call(action, args, ctx, CHAT_TOOLS)
            chat_allowed = outcome.status_code != 403
            if chat_allowed != expected:
                mismatches.append(f"chat service {role} {action}: {outcome.status_code} {outcome.error}")
            table = await registry.call(action, args, ctx, allowed_tools(roles))
            if (not table.denied) != expected:
                mismatches.append(f"chat {role} {action}: denied={table.denied}")
    assert mismatches == []


def _strategy_create(name: str) -> Any:
    from quantops.strategies import StrategyCreate

    return StrategyCreate(name=name, config={"config_type": "buy_and_hold"})


def test_web_page_does_not_default_to_a_role_that_ends_as_viewer() -> None:
    from importlib import resources

    page = (resources.files("quantops.chat") / "static" / "chat.html").read_text(encoding="utf-8")
    match = re.search(r'<input id="roles"[^>]*value="([^"]*)"', page)
    assert match is not None
    default = [role.strip() for role in match.group(1).split(",") if role.strip()]
    for granted in ({"admin"}, {"analyst"}, {"engineer"}, {"devops"}, {"admin", "devops"}):
        assert allows(effective_roles(default, granted), "run_backtest"), (default, granted)
