"""Saved strategies (owned by a user)."""

from __future__ import annotations

from typing import Any

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
