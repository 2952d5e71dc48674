"""Saved strategies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response, status

from quantops.api.deps import ContainerDep, CurrentUser
from quantops.services.schemas import (
    StrategyCreate,
    StrategyOut,
    StrategyUpdate,
    StrategyValidation,
)
from quantops.strategies import StrategyConfig
from quantops.urls import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/strategies", tags=["strategies"])

StrategyId = Annotated[str, Path(min_length=1, max_length=64)]
NOT_FOUND = {404: {"description": "no such strategy (or not yours)"}}


@router.post(
    "/validate",
    summary="Validate a strategy config (422 names the field and the rule)",
)
async def validate_strategy(
    config: Annotated[
        StrategyConfig,
        Body(examples=[{"config_type": "sma_crossover", "fast": 10, "slow": 20}]),
    ],
    user: CurrentUser,
    container: ContainerDep,
) -> StrategyValidation:
    return await container.strategies.validate(config)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a strategy",
    responses={409: {"description": "name already used"}},
)
async def create_strategy(
    body: Annotated[
        StrategyCreate,
        Body(
            openapi_examples={
                "sma": {
                    "summary": "SMA crossover",
                    "value": {
                        "name": "SMA 10/20",
                        "description": "golden cross",
                        "config": {"config_type": "sma_crossover", "fast": 10, "slow": 20},
                    },
                },
                "rsi": {
                    "summary": "RSI mean reversion",
                    "value": {"name": "RSI 14", "config": {"config_type": "rsi_mean_reversion"}},
                },
            }
        ),
    ],
    user: CurrentUser,
    container: ContainerDep,
) -> StrategyOut:
    return await container.strategies.create(user, body)


@router.get("", summary="My strategies, newest first")
async def list_strategies(user: CurrentUser, container: ContainerDep) -> list[StrategyOut]:
    return await container.strategies.list(user)


@router.get("/{strategy_id}", summary="One strategy", responses=NOT_FOUND)
async def get_strategy(strategy_id: StrategyId, user: CurrentUser, container: ContainerDep) -> StrategyOut:
    return await container.strategies.get(user, strategy_id)


@router.patch("/{strategy_id}", summary="Update name, description or config", responses=NOT_FOUND)
async def update_strategy(
    strategy_id: StrategyId, body: StrategyUpdate, user: CurrentUser, container: ContainerDep
) -> StrategyOut:
    return await container.strategies.update(user, strategy_id, body)


@router.delete(
    "/{strategy_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete", responses=NOT_FOUND
)
async def delete_strategy(strategy_id: StrategyId, user: CurrentUser, container: ContainerDep) -> Response:
    await container.strategies.delete(user, strategy_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
