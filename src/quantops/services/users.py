"""Users, API keys and authentication."""

from __future__ import annotations

import secrets

from cachetools import TTLCache

from quantops.services.errors import ConflictError, NotFoundError, ValidationFailed
from quantops.services.policy import require
from quantops.services.schemas import ROLES, UserContext, UserCreated, UserOut
from quantops.services.webhooks import WebhookPolicy
from quantops.store.models import User
from quantops.store.repositories import DuplicateError, UserRepository, hash_api_key

API_KEY_PREFIX = "qo_"


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def to_context(user: User) -> UserContext:
    return UserContext(id=user.id, name=user.name, roles=frozenset(user.roles))


class UsersService:
    def __init__(
        self,
        users: UserRepository,
        webhook_policy: WebhookPolicy | None = None,
        auth_cache_ttl_seconds: float = 0.0,
    ) -> None:
        self.repo = users
        self.webhook_policy = webhook_policy or WebhookPolicy()
        # Verified keys by their hash (never the key) → the user; a query saved on every request.
        # Unknown keys are not remembered, so a new key works at once and a wrong one is always checked.
        self._verified: TTLCache[str, UserContext] | None = (
            TTLCache(maxsize=10_000, ttl=auth_cache_ttl_seconds) if auth_cache_ttl_seconds > 0 else None
        )

    async def authenticate(self, api_key: str) -> UserContext | None:
        """The user of a key, or None (unknown or revoked). Keys never appear in logs or errors."""
        if not api_key or len(api_key) > 200:
            return None
        digest = hash_api_key(api_key) if self._verified is not None else ""
        if self._verified is not None and (known := self._verified.get(digest)) is not None:
            return known
        user = await self.repo.user_for_key(api_key)
        if user is None:
            return None
        context = to_context(user)
        if self._verified is not None:
            self._verified[digest] = context
        return context

    async def create(self, name: str, roles: list[str], label: str = "") -> UserCreated:
        """Create a user and its first API key (returned once, stored hashed)."""
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise ValidationFailed("roles", "unknown_role", f"unknown role(s) {unknown}; use {list(ROLES)}")
        try:
            user = await self.repo.create(name, roles)
        except DuplicateError as exc:
            raise ConflictError(f"user {name!r} already exists") from exc
        key = new_api_key()
        await self.repo.add_api_key(user.id, key, label)
        return UserCreated(**UserOut.model_validate(user).model_dump(), api_key=key)

    async def create_by(self, actor: UserContext, name: str, roles: list[str]) -> UserCreated:
        require(actor, "create_user")
        return await self.create(name, roles)

    async def issue_key(self, name: str, label: str = "") -> str:
        """A new key for an existing user (the CLI's way to recover a lost key)."""
        user = await self.repo.get_by_name(name)
        if user is None:
            raise NotFoundError("user", name)
        key = new_api_key()
        await self.repo.add_api_key(user.id, key, label)
        return key

    async def get_by_name(self, name: str) -> UserOut | None:
        user = await self.repo.get_by_name(name)
        return UserOut.model_validate(user) if user is not None else None

    async def me(self, actor: UserContext) -> UserOut:
        user = await self.repo.get(actor.id)
        if user is None:
            raise NotFoundError("user", actor.id)
        return UserOut.model_validate(user)

    async def set_webhook(self, actor: UserContext, webhook_url: str | None) -> UserOut:
        """422 on `webhook_url` if its host is (or resolves to) a non-public address not allow-listed."""
        if webhook_url is not None:
            await self.webhook_policy.check(webhook_url)
        user = await self.repo.update(actor.id, webhook_url=webhook_url)
        if user is None:
            raise NotFoundError("user", actor.id)
        return UserOut.model_validate(user)

    async def webhook_url(self, user_id: str) -> str | None:
        user = await self.repo.get(user_id)
        return user.webhook_url if user is not None else None

    async def list(self, actor: UserContext | None = None) -> list[UserOut]:
        """All users; through the API only for admins (actor=None is the local CLI)."""
        if actor is not None:
            require(actor, "list_users")
        return [UserOut.model_validate(u) for u in await self.repo.list()]
