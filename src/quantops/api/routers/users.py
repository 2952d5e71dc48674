"""The acting user: profile, webhook setting; admins manage users."""

from __future__ import annotations

from fastapi import APIRouter, status

from quantops.api.deps import ContainerDep, CurrentUser
from quantops.services.schemas import UserCreate, UserCreated, UserOut, UserSettingsUpdate
from quantops.urls import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"])


@router.get("/me", summary="Who am I")
async def me(user: CurrentUser, container: ContainerDep) -> UserOut:
    return await container.users.me(user)


@router.patch("/me", summary="Update my settings (webhook URL for completion events)")
async def update_me(body: UserSettingsUpdate, user: CurrentUser, container: ContainerDep) -> UserOut:
    url = str(body.webhook_url) if body.webhook_url is not None else None
    return await container.users.set_webhook(user, url)


@router.get("", summary="List users (admin, devops)", responses={403: {"description": "not allowed"}})
async def list_users(user: CurrentUser, container: ContainerDep) -> list[UserOut]:
    return await container.users.list(user)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user and its API key (admin); the key is shown once",
    responses={403: {"description": "not allowed"}, 409: {"description": "name taken"}},
)
async def create_user(body: UserCreate, user: CurrentUser, container: ContainerDep) -> UserCreated:
    return await container.users.create_by(user, body.name, list(body.roles))
