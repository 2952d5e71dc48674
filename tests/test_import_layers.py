"""Import layers (docs/ARCHITECTURE.md): dependencies point inward, adapters sit outside the core.

Static: every ``import`` in src/quantops (also inside functions and TYPE_CHECKING blocks) is checked
against the layer rules. Dynamic: importing every chat module loads no ``quantops.api`` module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "quantops"
# Adapters and composition roots: only they may import the HTTP app/routers, Slack, MCP, the root CLI
# and the Celery worker entry point.
ADAPTERS = {"api", "slack", "mcp", "cli", "cli_store", "worker"}
CORE = {"services", "chat", "jobs"}
# layer → quantops sub-packages it must never import (None: nothing of quantops outside itself).
FORBIDDEN: dict[str, set[str] | None] = {
    "engine": None,
    "reports": ADAPTERS | CORE | {"analysis", "store", "data", "strategies"},  # the engine's catalogue only
    "common": None,  # utcnow, json_safe: usable by every layer
    "urls": None,  # the API prefix and the links
    "services": ADAPTERS | {"chat"},
    "chat": ADAPTERS,
    "jobs": ADAPTERS | {"services", "chat", "analysis"},
    "store": ADAPTERS | CORE | {"analysis"},
    "analysis": ADAPTERS | CORE | {"store", "data"},
    "strategies": ADAPTERS | CORE | {"analysis", "store", "data"},
    "data": ADAPTERS | CORE | {"analysis", "store"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from quantops import api` imports the sub-package too
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names if target == "quantops"]
    return found


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "quantops" else None


def layer_violations() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = _layer_of(_module_name(path))
        if layer not in FORBIDDEN:
            continue
        forbidden = FORBIDDEN[layer]
        for line, target in _imports(path):
            target_layer = _layer_of(target)
            if target_layer is None and target != "quantops":
                continue  # third-party
            if target_layer == layer:
                continue
            if forbidden is None or target_layer in forbidden:
                problems.append(f"{path.relative_to(SRC)}:{line} ({layer}) imports {target}")
    return problems


def package_graph() -> dict[str, set[str]]:
    """Top-level package/module of quantops → the top-level ones it imports (root modules count too)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = _layer_of(_module_name(path)) or "quantops"
        edges = graph.setdefault(layer, set())
        for _line, target in _imports(path):
            target_layer = _layer_of(target)
            if target_layer is not None and target_layer != layer:
                edges.add(target_layer)
    return graph


def package_cycles() -> list[list[str]]:
    """Every strongly connected group of more than one top-level package (Tarjan), sorted."""
    graph = package_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def test_every_layer_imports_only_inward() -> None:
    assert layer_violations() == []


def test_no_cycle_between_top_level_packages() -> None:
    assert package_cycles() == []
    graph = package_graph()
    assert "services" not in graph["jobs"] and "services" not in graph["store"]


def test_the_cycle_finder_sees_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "quantops"
    for name in ("jobs", "services", "store"):
        (fake / name).mkdir(parents=True)
    (fake / "jobs" / "a.py").write_text("def f():\n    from quantops.services.events import EventBus\n")
    (fake / "services" / "b.py").write_text("from quantops.jobs.a import f\nfrom quantops.store import c\n")
    (fake / "store" / "c.py").write_text("import quantops.store.c\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert package_cycles() == [["jobs", "services"]]
    assert any("jobs/a.py:2 (jobs) imports quantops.services.events" in p for p in layer_violations())


def test_the_checker_sees_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules bite: a chat module importing the API, a function-local relative import out of the
    engine, and services importing chat are all reported."""
    fake = tmp_path / "quantops"
    (fake / "chat").mkdir(parents=True)
    (fake / "engine").mkdir()
    (fake / "services").mkdir()
    (fake / "chat" / "x.py").write_text("from quantops.api.deps import CurrentUser\n")
    (fake / "engine" / "y.py").write_text("def f():\n    from ..config import Settings\n")
    (fake / "services" / "z.py").write_text("from quantops import chat\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    found = layer_violations()
    assert len(found) == 3, found
    assert any("chat/x.py:1 (chat) imports quantops.api.deps" in p for p in found)
    assert any("engine/y.py:2 (engine) imports quantops.config" in p for p in found)
    assert any("services/z.py:1 (services) imports quantops.chat" in p for p in found)


def test_importing_the_chat_core_loads_no_api_module() -> None:
    chat_modules = sorted(
        _module_name(p) for p in (PACKAGE / "chat").rglob("*.py") if not p.name.startswith("_")
    )
    assert "quantops.chat.service" in chat_modules and "quantops.chat.events" in chat_modules
    code = (
        "import importlib, sys\n"
        f"for name in {chat_modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'quantops.api' or m.startswith('quantops.api.'))\n"
        "print(loaded)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("port", "implementation"),
    [
        ("quantops.services.container:ChatPort", "quantops.chat.service:ChatService"),
        ("quantops.jobs.base:JobEventPublisher", "quantops.services.events:EventBus"),
        ("quantops.jobs.base:BarsSource", "quantops.services.market_data:MarketDataService"),
    ],
)
def test_implementations_fulfil_the_ports_an_inner_layer_defines(port: str, implementation: str) -> None:
    """An inner layer types what it needs by a protocol (services never import chat, jobs never import
    services); the real outer implementation fits it, method by method, with the same parameters."""
    import importlib
    import inspect

    def load(target: str) -> type:
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)

    protocol, cls = load(port), load(implementation)
    assert issubclass(cls, protocol)
    for name, member in vars(protocol).items():
        if name.startswith("_") or not callable(member):
            continue
        expected = list(inspect.signature(member).parameters)
        assert list(inspect.signature(getattr(cls, name)).parameters) == expected, name
        assert inspect.iscoroutinefunction(getattr(cls, name)) == inspect.iscoroutinefunction(member), name
