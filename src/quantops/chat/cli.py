"""`quantops chat` (interactive terminal chat) and `quantops ask "..."` — clients of the running API.

They talk to the same service as the web page and Slack (``/api/v1/chatops-advanced``), streaming
the answer over SSE. The API key comes from ``--api-key``, ``QUANTOPS_API_KEY`` or the default user's
key file written by ``quantops users ensure-default``.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import typer

from quantops.config import get_settings
from quantops.urls import API_PREFIX, CHATOPS_PREFIX

UrlOption = Annotated[
    str | None, typer.Option("--url", help="API base URL (default: QUANTOPS_PUBLIC_BASE_URL, else host:port)")
]
KeyOption = Annotated[
    str | None,
    typer.Option("--api-key", envvar="QUANTOPS_API_KEY", help="API key (default: local user's key)"),
]
RoleOption = Annotated[
    list[str] | None,
    typer.Option("--role", help="roles to act with (default: all roles the server granted you)"),
]
SessionOption = Annotated[str | None, typer.Option("--session", help="continue this chat session")]


@dataclass
class ChatClient:
    base_url: str
    api_key: str
    roles: list[str]
    http: httpx.Client

    @property
    def api(self) -> str:
        return self.base_url.rstrip("/") + CHATOPS_PREFIX

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}

    def check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            try:
                detail: Any = response.json().get("detail")
            except ValueError:
                detail = response.text
            raise typer.BadParameter(f"{response.status_code}: {detail}")
        return response

    def create_session(self) -> str:
        return self.check(self.http.post(f"{self.api}/session/create", headers=self.headers)).json()[
            "session_id"
        ]

    def stream(self, session_id: str, question: str) -> Iterator[dict[str, Any]]:
        """The turn's events (`quantops.chat.events` JSON): progress…, chunk…, then done or error."""
        body = {"question": question, "user_roles": self.roles}
        url = f"{self.api}/session/{session_id}/chat/stream"
        with self.http.stream("POST", url, json=body, headers=self.headers) as response:
            if response.status_code >= 400:
                response.read()
                self.check(response)
            for line in response.iter_lines():
                if line.startswith("data:"):  # the data carries its type; the `event:` line repeats it
                    yield json.loads(line.split(":", 1)[1])


def _client(url: str | None, api_key: str | None, roles: list[str] | None) -> ChatClient:
    settings = get_settings()
    if not api_key:
        key_file = settings.default_api_key_file
        if key_file.is_file():
            api_key = key_file.read_text().strip()
    if not api_key:
        raise typer.BadParameter(
            "no API key: pass --api-key, set QUANTOPS_API_KEY or run `quantops users ensure-default`"
        )
    http = httpx.Client(timeout=httpx.Timeout(120.0, connect=5.0))
    base = url or settings.public_base_url or settings.bind_base_url
    if not roles:
        try:
            me = http.get(base.rstrip("/") + f"{API_PREFIX}/users/me", headers={"X-API-Key": api_key})
        except httpx.HTTPError as exc:
            raise typer.BadParameter(
                f"cannot reach {base}: {type(exc).__name__} (is `quantops serve` running?)"
            ) from exc
        if me.status_code == 401:
            raise typer.BadParameter("the API key was rejected")
        roles = list(me.json().get("roles", [])) if me.status_code == 200 else []
    return ChatClient(base, api_key, list(roles), http)


def _print_turn(
    client: ChatClient, session_id: str, question: str, as_json: bool = False
) -> dict[str, Any] | None:
    done: dict[str, Any] | None = None
    for event in client.stream(session_id, question):
        kind = event.get("type")
        if kind == "chunk" and not as_json:
            sys.stdout.write(event["content"])
            sys.stdout.flush()
        elif kind == "progress" and not as_json:
            typer.secho(event["message"], fg=typer.colors.BRIGHT_BLACK)
        elif kind == "done":
            done = event
        elif kind == "error":
            typer.secho(
                f"\nerror {event.get('status')}: {event.get('detail')}", err=True, fg=typer.colors.RED
            )
    if as_json and done is not None:
        typer.echo(json.dumps(done, ensure_ascii=False, indent=2))
    elif done is not None:
        extras = [f"engine: {done['engine']}"]
        if done.get("backtest_ids"):
            extras.append("backtests: " + ", ".join(done["backtest_ids"]))
        if done.get("denied_tools"):
            extras.append("denied: " + ", ".join(done["denied_tools"]))
        if done.get("metadata", {}).get("fallback_reason"):
            extras.append("LLM fallback: " + done["metadata"]["fallback_reason"])
        typer.secho("\n  [" + " · ".join(extras) + "]", fg=typer.colors.BRIGHT_BLACK)
    return done


def register(app: typer.Typer) -> None:
    """Attach `chat` and `ask` to the root app."""

    @app.command("ask")
    def ask(
        question: Annotated[
            str, typer.Argument(help="one question, e.g. 'backtest sma 10/50 on AAPL 2018-2022'")
        ],
        url: UrlOption = None,
        api_key: KeyOption = None,
        role: RoleOption = None,
        session: SessionOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the whole response as JSON")] = False,
    ) -> None:
        """Ask one question and print the answer (the session id goes to stderr, for --session)."""
        client = _client(url, api_key, role)
        try:
            session_id = session or client.create_session()
            typer.echo(f"session: {session_id}", err=True)
            if _print_turn(client, session_id, question, as_json) is None:
                raise typer.Exit(1)
        finally:
            client.http.close()

    @app.command("chat")
    def chat(
        url: UrlOption = None,
        api_key: KeyOption = None,
        role: RoleOption = None,
        session: SessionOption = None,
    ) -> None:
        """Interactive chat (English or Korean): /new starts a session, /export saves markdown, /quit."""
        client = _client(url, api_key, role)
        with contextlib.closing(client.http):
            session_id = session or client.create_session()
            typer.secho(
                f"quantops chat · session {session_id} · roles {', '.join(client.roles) or 'viewer'} "
                "· type 'help', /new, /export, /quit",
                fg=typer.colors.CYAN,
            )
            while True:
                try:
                    question = input("you> ").strip()
                except (EOFError, KeyboardInterrupt):
                    typer.echo()
                    break
                if not question:
                    continue
                if question in ("/quit", "/exit"):
                    break
                if question == "/new":
                    session_id = client.create_session()
                    typer.echo(f"new session {session_id}")
                    continue
                if question == "/export":
                    response = client.check(
                        client.http.get(
                            f"{client.api}/session/{session_id}/export",
                            params={"format": "markdown"},
                            headers=client.headers,
                        )
                    )
                    path = f"chat-{session_id}.md"
                    with open(path, "w", encoding="utf-8") as handle:
                        handle.write(response.text)
                    typer.echo(f"saved {path}")
                    continue
                sys.stdout.write("quantops> ")
                try:
                    _print_turn(client, session_id, question)
                except typer.BadParameter as exc:
                    typer.secho(str(exc), err=True, fg=typer.colors.RED)
