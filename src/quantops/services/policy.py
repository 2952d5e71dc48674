"""Who may do what: ONE table (action → roles), enforced by the services and read by every adapter.

The REST routers reach an action through a service, which calls `require`; the chat's tool table
(`chat.tools.ROLE_TOOLS`, `allowed_tools`) is derived from `POLICY`, so REST and chat always agree.
``admin`` includes every role. A refusal names the roles that would allow the action.

Chat turns may narrow the server-granted roles (`effective_roles`): the request's ``user_roles``
keep only those granted roles; an empty or absent list means every granted role.
"""

from __future__ import annotations

from collections.abc import Iterable

from quantops.services.errors import PermissionDenied
from quantops.services.schemas import ROLES, UserContext

ADMIN = "admin"
_EVERYONE = frozenset(ROLES)
_WORKERS = frozenset({"analyst", "engineer", "devops", ADMIN})  # run and cancel backtests
_AUTHORS = frozenset({"analyst", "engineer", ADMIN})  # author strategies, compare them

POLICY: dict[str, frozenset[str]] = {
    # read-only: results, strategies, market data, cache
    "get_backtest": _EVERYONE,
    "list_backtests": _EVERYONE,
    "list_strategies": _EVERYONE,
    "cache_status": _EVERYONE,
    "market_data": _EVERYONE,
    # operations (devops included: smoke tests, stopping runaway jobs)
    "run_backtest": _WORKERS,
    "cancel_backtest": _WORKERS,
    # strategy work (no devops: operations do not author strategies)
    "create_strategy": _AUTHORS,
    "update_strategy": _AUTHORS,
    "delete_strategy": _AUTHORS,
    "compare_strategies": _AUTHORS,
    # administration
    "list_users": frozenset({"devops", ADMIN}),
    "create_user": frozenset({ADMIN}),
}
# Not an action (nothing is refused): what an answer may show. The server's file-system paths (e.g. the
# market-data file in the cache status) are shown to these roles only.
SERVER_PATH_ROLES: frozenset[str] = frozenset({ADMIN})


def expand(roles: Iterable[str]) -> frozenset[str]:
    """Known roles, lower-cased; ``admin`` includes every role."""
    known = frozenset(role.strip().lower() for role in roles) & _EVERYONE
    return _EVERYONE if ADMIN in known else known


def allows(roles: Iterable[str], action: str) -> bool:
    return bool(expand(roles) & POLICY[action])


def may_view_server_paths(roles: Iterable[str]) -> bool:
    return bool(expand(roles) & SERVER_PATH_ROLES)


def allowed_actions(roles: Iterable[str]) -> frozenset[str]:
    held = expand(roles)
    return frozenset(action for action, allowed in POLICY.items() if held & allowed)


def roles_allowing(action: str) -> list[str]:
    """The roles that may do ``action``, least powerful first (admin last)."""
    return [role for role in reversed(ROLES) if role in POLICY[action]]


def refusal(action: str, roles: Iterable[str]) -> str:
    allowed = roles_allowing(action)
    needed = ", ".join(allowed[:-1]) + f" or {allowed[-1]}" if len(allowed) > 1 else allowed[0]
    held = ", ".join(sorted(expand(roles))) or "none"
    return f"{action.replace('_', ' ')} needs the role {needed} (your roles: {held})"


def require(user: UserContext, action: str) -> None:
    """Raise PermissionDenied (403) naming the roles that would allow ``action``."""
    if not allows(user.roles, action):
        raise PermissionDenied(refusal(action, user.roles))


def effective_roles(requested: Iterable[str] | None, granted: Iterable[str]) -> frozenset[str]:
    """The roles a request acts with: ``requested`` narrows ``granted`` (admin grants every role);
    none requested = every granted role; nothing left = viewer."""
    held = frozenset(role.strip().lower() for role in granted) & _EVERYONE
    wanted = frozenset(role.strip().lower() for role in requested or () if role.strip())
    roles = (wanted & expand(held)) if wanted else held
    return roles or frozenset({"viewer"})
