"""Schemathesis over the WHOLE API (every operation of the live OpenAPI schema) against a real server, on
SQLite and PostgreSQL, with every check schemathesis has (the Python-API equivalent of `--checks all`).

Valid (positive) and invalid (negative) inputs, a bounded number of examples per operation (CI runs this
on 2 CPUs). The test fails on any 5xx and on any contract finding: undocumented status codes, responses
not matching their schema, schema-violating requests accepted (e.g. `0` for a boolean, unknown query
parameters), methods answered without a correct `Allow`, auth ignored...

One check is refined: `positive_data_acceptance` counts any 4xx on schema-valid data as a finding, but a
schema cannot know which symbols are stored, which strategy ids exist, or cross-field rules such as
`fast < slow`. So a 422 on schema-valid data is a finding only when an error is a type-level rule the
schema expresses (a pydantic built-in error type other than `value_error`) at a location the schema
describes (not inside a free-form object); data rules (`unknown_symbol`, `too_few_bars`, ...) and
custom validators pass.
"""

from __future__ import annotations

import asyncio
import typing
from collections import Counter
from typing import Any

import httpx
import pydantic_core
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

EXAMPLES_PER_OPERATION = 8
pytestmark = pytest.mark.timeout(900)

load_all_checks()
REFINED = "positive_data_acceptance"
CHECKS_RUN = [c for c in CHECKS.get_all() if getattr(c, "__name__", "") != REFINED]
SCHEMA_TYPE_ERRORS = frozenset(typing.get_args(pydantic_core.core_schema.ErrorType)) - {
    "value_error",
    "assertion_error",
}


def _resolve(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _described(root: dict[str, Any], node: dict[str, Any], path: list[Any]) -> bool:
    """Does the schema describe the value at `path` (pydantic's loc after "body")?"""
    node = _resolve(root, node)
    if not path:  # described unless it is a free-form object (any keys, any values)
        free = node.get("type") == "object" and not node.get("properties")
        return not (free and node.get("additionalProperties") in (None, True, {}))
    branches = node.get("anyOf") or node.get("oneOf") or node.get("allOf")
    if branches:
        head = path[0]
        resolved = [_resolve(root, b) for b in branches]
        having = [b for b in resolved if head in b.get("properties", {})]
        if isinstance(head, str) and not having and all(b.get("type") == "object" for b in resolved):
            return any(_described(root, b, path[1:]) for b in resolved)  # a discriminator tag in the loc
        return any(_described(root, b, path) for b in (having or resolved))
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        return "items" in node and _described(root, node["items"], rest)
    if head in node.get("properties", {}):
        return _described(root, node["properties"][head], rest)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and extra:
        return _described(root, extra, rest)
    return extra is False  # an unknown key the schema forbids is described; a free-form object is not


def _schema_expressible_rejection(raw: dict[str, Any], case: Any, response: httpx.Response) -> str | None:
    """For schema-valid data answered 422: the first error the schema should have prevented, if any."""
    try:
        errors = response.json()["detail"]
    except (ValueError, KeyError, TypeError):
        return "422 without the usual error list"
    if not isinstance(errors, list):
        return None
    body_schema = (
        raw["paths"][case.operation.path][case.method.lower()]
        .get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
    )
    for error in errors:
        loc, kind = list(error.get("loc", [])), error.get("type")
        if kind not in SCHEMA_TYPE_ERRORS:
            continue  # a data rule or a custom (cross-field) validator
        if loc[:1] == ["body"] and not _described(raw, body_schema, loc[1:]):
            continue  # inside a free-form object: the schema does not describe it
        return f"{kind} at {loc}: {error.get('msg')}"
    return None


def fuzz(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """Run every operation in both modes with every check; → counts and findings."""
    raw = httpx.get(url + "/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [result.ok() for result in schema.get_all_operations()]
    findings: list[str] = []
    kinds: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    cases = 0
    checked: set[str] = set()

    def run(operation: Any, mode: GenerationMode) -> None:
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            nonlocal cases
            cases += 1
            response = case.call(base_url=url, headers=headers, timeout=60)
            statuses[response.status_code] += 1
            where = f"{case.method} {case.formatted_path} query={case.query} body={case.body!r:.160}"
            if response.status_code >= 500:
                kinds["server_error"] += 1
                findings.append(f"5xx: {where} -> {response.status_code} {response.text[:200]}")
            try:
                case.validate_response(
                    response, checks=CHECKS_RUN, headers=headers, transport_kwargs={"base_url": url}
                )
            except BaseException as exc:  # schemathesis raises a FailureGroup (a BaseExceptionGroup)
                if not hasattr(exc, "exceptions"):
                    raise
                for failure in exc.exceptions:
                    kinds[type(failure).__name__] += 1
                    title = getattr(failure, "title", type(failure).__name__)
                    findings.append(f"{title}: {where} -> {response.status_code} {response.text[:160]}")
            if mode is GenerationMode.POSITIVE and response.status_code == 422:
                wrong = _schema_expressible_rejection(raw, case, response)
                if wrong:
                    kinds["RejectedPositiveData"] += 1
                    findings.append(f"schema-valid request rejected ({wrong}): {where}")

        try:
            check()
        except Unsatisfiable:
            return  # nothing can be invalid about it (e.g. no parameters, no body)
        checked.add(operation.label)

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for operation in operations:
            run(operation, mode)
    return {
        "operations": len(operations),
        "checked": checked,
        "cases": cases,
        "statuses": statuses,
        "kinds": kinds,
        "findings": findings,
    }


async def test_whole_api_with_every_check(make_settings, database_url, start_server, seed_database) -> None:
    settings = make_settings(database_url, job_workers=1, max_body_bytes=200_000)
    users = await asyncio.to_thread(seed_database, settings, {"fuzz": ["analyst"]})
    server = await asyncio.to_thread(start_server, settings)
    headers = {"X-API-Key": users["fuzz"].api_key}
    result = await asyncio.to_thread(fuzz, server.url, headers)

    summary = (
        f"{result['cases']} cases over {result['operations']} operations "
        f"({len(result['checked'])} with generated inputs), statuses {dict(result['statuses'])}, "
        f"findings {dict(result['kinds']) or 0}"
    )
    print(f"\nschemathesis [{database_url.split(':')[0]}]: {summary}")
    assert not result["findings"], summary + "\n" + "\n".join(sorted(set(result["findings"]))[:30])
    assert result["operations"] >= 30
    assert any(label.startswith("POST /api/v1/backtests") for label in result["checked"])
    # Not vacuous: requests got past authentication and reached the handlers, valid ones succeeded.
    statuses = result["statuses"]
    assert statuses[422] > 0 and statuses[401] < sum(statuses.values()) / 2, statuses
    assert sum(n for code, n in statuses.items() if code < 300) > 50, statuses
    assert "Traceback" not in server.log(), server.log()[-3000:]
