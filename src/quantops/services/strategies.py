"""Saved strategies (owned by a user)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from quantops.services.errors import ConflictError, NotFoundError, ValidationFailed
from quantops.services.policy import require
from quantops.services.schemas import (
    StrategyCreate,
    StrategyOut,
    StrategyUpdate,
    StrategyValidation,
    UserContext,
)
from quantops.store.repositories import DuplicateError, StrategyRepository
from quantops.strategies import STRATEGY_TYPES, parse_strategy_config


class UnresolvedStrategyName(ValidationFailed):
    """A strategy named by the caller matches none (``unknown``) or several (``ambiguous``) of theirs."""

    def __init__(
        self, name: str, kind: Literal["unknown", "ambiguous"], candidates: list[str], field: str
    ) -> None:
        if kind == "ambiguous":
            message = f"several of your strategies are named like {name!r}: {', '.join(candidates)}"
        elif candidates:
            message = (
                f"you have no strategy named {name!r}; did you mean {' or '.join(map(repr, candidates))}?"
            )
        else:
            message = f"you have no strategy named {name!r}"
        super().__init__(field, f"{kind}_strategy_name", message)
        self.name = name
        self.kind = kind
        self.candidates = candidates


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())


def _compact(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.casefold())


def parse_config(config: dict[str, Any] | BaseModel, field: str = "config") -> BaseModel:
    """Validate a config (dict or model) → the config model; errors name the field and the rule."""
    if isinstance(config, BaseModel):
        config = config.model_dump(mode="json")
    try:
        return parse_strategy_config(config)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic(exc, field) from exc


def config_dict(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


class StrategiesService:
    def __init__(self, strategies: StrategyRepository) -> None:
        self.repo = strategies

    async def validate(self, config: dict[str, Any] | BaseModel) -> StrategyValidation:
        model = parse_config(config)
        spec = STRATEGY_TYPES[model.config_type]  # type: ignore[attr-defined]
        describe = getattr(spec, "describe", None)
        return StrategyValidation(
            valid=True,
            config=config_dict(model),
            description=str(describe(model)) if callable(describe) else "",
            min_bars=int(spec.min_bars(model)),
        )

    async def create(self, user: UserContext, data: StrategyCreate) -> StrategyOut:
        require(user, "create_strategy")
        model = parse_config(data.config)
        try:
            row = await self.repo.create(
                user.id,
                data.name,
                data.description,
                model.config_type,
                config_dict(model),  # type: ignore[attr-defined]
            )
        except DuplicateError as exc:
            raise ConflictError(f"you already have a strategy named {data.name!r}") from exc
        return StrategyOut.model_validate(row)

    async def list(self, user: UserContext) -> list[StrategyOut]:
        return [StrategyOut.model_validate(r) for r in await self.repo.list(user.id)]

    async def resolve_names(
        self, user: UserContext, names: Sequence[str], field: str = "strategy_names"
    ) -> list[StrategyOut]:
        """The caller's strategies by name, case-insensitively (then ignoring spaces and punctuation:
        "sma10/50" is "SMA 10/50"); a name matching none or several raises ``UnresolvedStrategyName``."""
        strategies = await self.list(user)
        resolved: list[StrategyOut] = []
        for name in names:
            matches = [s for s in strategies if _fold(s.name) == _fold(name)]
            if not matches:
                matches = [s for s in strategies if _compact(s.name) == _compact(name) and _compact(name)]
            if len(matches) > 1:
                raise UnresolvedStrategyName(name, "ambiguous", [s.name for s in matches], field)
            if not matches:
                by_fold = {_fold(s.name): s.name for s in strategies}
                close = difflib.get_close_matches(_fold(name), list(by_fold), n=3, cutoff=0.6)
                contains = [s.name for s in strategies if _fold(name) in _fold(s.name)]
                suggestions = list(dict.fromkeys([*contains, *(by_fold[c] for c in close)]))[:3]
                raise UnresolvedStrategyName(name, "unknown", suggestions, field)
            if any(s.id == matches[0].id for s in resolved):
                raise ValidationFailed(field, "duplicate", f"{name!r} names a strategy given twice")
            resolved.append(matches[0])
        return resolved

    async def get(self, user: UserContext, strategy_id: str) -> StrategyOut:
        row = await self.repo.get(user.id, strategy_id)
        if row is None:
            raise NotFoundError("strategy", strategy_id)
        return StrategyOut.model_validate(row)

    async def update(self, user: UserContext, strategy_id: str, data: StrategyUpdate) -> StrategyOut:
        require(user, "update_strategy")
        values: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"config"})
        if any(v is None for v in values.values()):
            raise ValidationFailed(
                next(k for k, v in values.items() if v is None), "not_null", "cannot be null"
            )
        if data.config is not None:
            model = parse_config(data.config)
            values["config"] = config_dict(model)
            values["config_type"] = model.config_type  # type: ignore[attr-defined]
        if not values:
            return await self.get(user, strategy_id)
        try:
            row = await self.repo.update(user.id, strategy_id, **values)
        except DuplicateError as exc:
            raise ConflictError(f"you already have a strategy named {values.get('name')!r}") from exc
        if row is None:
            raise NotFoundError("strategy", strategy_id)
        return StrategyOut.model_validate(row)

    async def delete(self, user: UserContext, strategy_id: str) -> None:
        require(user, "delete_strategy")
        if not await self.repo.delete(user.id, strategy_id):
            raise NotFoundError("strategy", strategy_id)
