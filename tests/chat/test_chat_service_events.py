"""`ChatService` against an in-process container (both databases): the one event model of a turn."""

from __future__ import annotations

import json
from typing import Any

import pytest

from quantops.chat.events import ChatEvent, ChunkEvent, DoneEvent, ErrorEvent, ProgressEvent
from quantops.services.errors import NotFoundError, ValidationFailed

pytestmark = pytest.mark.timeout(120)


class Recorder:
    """A sink that keeps the events in order."""

    def __init__(self) -> None:
        self.events: list[ChatEvent] = []

    async def __call__(self, event: ChatEvent) -> None:
        self.events.append(event)

    @property
    def types(self) -> list[str]:
        return [event.type for event in self.events]

    def of(self, kind: type) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]


async def test_backtest_turn_emits_progress_then_chunks_then_done(chat_container: Any) -> None:
    chat, alice = chat_container.chat, chat_container.test_contexts["alice"]
    session = await chat.create_session(alice)
    sink = Recorder()
    reply = await chat.chat(
        alice, session.session_id, "backtest sma 10/50 on AAPL 2018-2020", ["analyst"], sink=sink
    )
    assert sink.types[0] == "progress" and sink.types[-1] == "done"
    assert sink.types.count("done") == 1 and "error" not in sink.types
    first_chunk = sink.types.index("chunk")
    assert set(sink.types[:first_chunk]) == {"progress"}  # every progress before the answer starts
    assert set(sink.types[first_chunk:-1]) == {"chunk"}
    [progress] = sink.of(ProgressEvent)
    assert reply.backtest_ids[0] in progress.message and "AAPL" in progress.message
    chunks = sink.of(ChunkEvent)
    assert len(chunks) >= 2 and "".join(c.content for c in chunks) == reply.answer
    assert sink.events[-1].response is reply and "completed" in reply.answer
    stored = await chat.get_session(alice, session.session_id)
    assert [m.content for m in stored.conversation_history] == [reply.query, reply.answer]


async def test_korean_progress_and_a_turn_without_tools_has_no_progress(chat_container: Any) -> None:
    chat, alice = chat_container.chat, chat_container.test_contexts["alice"]
    sid = (await chat.create_session(alice)).session_id
    sink = Recorder()
    await chat.chat(alice, sid, "MSFT에 RSI 14 30/70 백테스트 2019-2021", ["analyst"], sink=sink)
    [progress] = sink.of(ProgressEvent)
    assert progress.message.startswith("백테스트 ") and "MSFT" in progress.message
    sink = Recorder()
    reply = await chat.chat(alice, sid, "AAPL price", sink=sink)
    assert set(sink.types[:-1]) == {"chunk"} and sink.types[-1] == "done"
    assert "".join(c.content for c in sink.of(ChunkEvent)) == reply.answer


async def test_bad_question_and_unknown_session_are_error_events(chat_container: Any) -> None:
    chat, alice, bob = (chat_container.chat, *map(chat_container.test_contexts.get, ("alice", "bob")))
    sid = (await chat.create_session(alice)).session_id
    sink = Recorder()
    with pytest.raises(ValidationFailed):
        await chat.chat(alice, sid, "   ", sink=sink)
    [error] = sink.events
    assert isinstance(error, ErrorEvent) and error.status == 422
    assert error.detail[0]["loc"][-1] == "question" and error.detail[0]["type"] == "length"

    sink = Recorder()
    with pytest.raises(NotFoundError):
        await chat.chat(bob, sid, "help", sink=sink)  # alice's session: not found for bob, no data
    assert [e.to_dict() for e in sink.events] == [
        {"type": "error", "detail": f"chat session {sid!r} not found", "status": 404}
    ]
    assert (await chat.get_session(alice, sid)).conversation_history == []


async def test_a_failing_sink_detaches_but_the_turn_is_stored(chat_container: Any) -> None:
    chat, alice = chat_container.chat, chat_container.test_contexts["alice"]
    sid = (await chat.create_session(alice)).session_id
    calls = 0

    async def gone(event: ChatEvent) -> None:  # a client that disconnected after the first chunk
        nonlocal calls
        calls += 1
        raise ConnectionResetError("client went away")

    reply = await chat.chat(alice, sid, "list my strategies", sink=gone)
    assert calls == 1
    history = (await chat.get_session(alice, sid)).conversation_history
    assert [m.content for m in history] == ["list my strategies", reply.answer]


async def test_every_event_serialises_to_the_documented_json(chat_container: Any) -> None:
    chat, alice = chat_container.chat, chat_container.test_contexts["alice"]
    sid = (await chat.create_session(alice)).session_id
    sink = Recorder()
    reply = await chat.chat(alice, sid, "캐시 상태는?", sink=sink)
    done = sink.events[-1]
    assert isinstance(done, DoneEvent)
    assert json.loads(done.to_json()) == done.to_dict() == {"type": "done", **reply.model_dump(mode="json")}
    assert ChunkEvent("안녕").to_json() == '{"type":"chunk","content":"안녕"}'
    assert ProgressEvent("running").to_dict() == {"type": "progress", "message": "running"}
    assert ErrorEvent("nope", 404).to_dict() == {"type": "error", "detail": "nope", "status": 404}
    assert ErrorEvent.from_exception(RuntimeError("secret path /x")).to_dict() == {
        "type": "error",
        "detail": "internal error",
        "status": 500,
    }


async def test_check_session_before_a_stream_reads_no_transcript(chat_container: Any) -> None:
    """SSE and the WebSocket check the session before streaming: owner-checked, from the session cache
    when warm — not `get_session`, which loads every turn of the transcript."""
    from sqlalchemy import event

    chat, alice, bob = (chat_container.chat, *map(chat_container.test_contexts.get, ("alice", "bob")))
    sid = (await chat.create_session(alice)).session_id
    await chat.chat(alice, sid, "help")
    statements: list[str] = []
    event.listen(
        chat_container.db.engine.sync_engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *rest: statements.append(statement),
    )
    await chat.check_session(alice, sid)
    assert statements == []
    with pytest.raises(NotFoundError):
        await chat.check_session(bob, sid)
    with pytest.raises(NotFoundError):
        await chat.check_session(alice, "f" * 32)


@pytest.fixture
async def llm_chat_container(make_settings: Any, database_url: str, fake_llm: Any) -> Any:
    """The in-process container with the scripted OpenAI-compatible server as the brain."""
    from quantops.chat.service import install as install_chat
    from quantops.services.comparison import install as install_comparison
    from quantops.services.container import build_container

    from ..conftest import create_test_users

    settings = make_settings(
        database_url,
        llm_base_url=fake_llm.url,
        llm_api_key="sk-test-secret-key",
        llm_model="test-model",
        llm_timeout_seconds=5.0,
    )
    container = build_container(settings, extensions=())
    install_comparison(container)
    install_chat(container)
    await container.start()
    users = await create_test_users(container)
    container.test_contexts = {  # type: ignore[attr-defined]
        name: await container.users.authenticate(created.api_key) for name, created in users.items()
    }
    try:
        yield container
    finally:
        await container.aclose()


async def test_llm_brain_emits_the_same_events(llm_chat_container: Any, fake_llm: Any) -> None:
    """Tokens as chunk events, a tool's progress before the answer, one done; a failing LLM falls back to
    the offline planner through the same sink."""
    import uuid

    chat, alice = llm_chat_container.chat, llm_chat_container.test_contexts["alice"]
    sid = (await chat.create_session(alice)).session_id
    run = json.dumps(
        {
            "strategy_config": {"config_type": "sma_crossover", "fast": 10, "slow": 50},
            "symbol": "MSFT",
            "start": "2018-01-01",
            "end": "2020-12-31",
        }
    )
    fake_llm.script({"tool_calls": [("run_backtest", run)]}, {"text": "Your MSFT backtest is done."})
    sink = Recorder()
    reply = await chat.chat(
        alice, sid, f"backtest sma on msft please {uuid.uuid4().hex[:6]}", ["analyst"], sink=sink
    )
    assert reply.engine == "llm" and reply.backtest_ids
    assert sink.types[0] == "progress" and sink.types[-1] == "done" and "error" not in sink.types
    assert sink.types.index("progress") < sink.types.index("chunk")
    assert "".join(c.content for c in sink.of(ChunkEvent)) == reply.answer
    assert reply.answer.startswith("Your MSFT backtest is done.") and "Interpretation" in reply.answer

    # A tool the roles refuse: the refusal the service adds to the model's text is streamed as well.
    vera = llm_chat_container.test_contexts["vera"]
    vera_sid = (await chat.create_session(vera)).session_id
    fake_llm.script({"tool_calls": [("run_backtest", run)]}, {"text": "I could not run that."})
    sink = Recorder()
    reply = await chat.chat(vera, vera_sid, f"run it anyway {uuid.uuid4().hex[:6]}", ["viewer"], sink=sink)
    assert reply.engine == "llm" and reply.denied_tools == ["run_backtest"]
    assert reply.answer.startswith("I could not run that.") and len(reply.answer) > 30
    assert "".join(c.content for c in sink.of(ChunkEvent)) == reply.answer

    fake_llm.script({"status": 429})
    sink = Recorder()
    reply = await chat.chat(alice, sid, f"help {uuid.uuid4().hex[:6]}", ["analyst"], sink=sink)
    assert reply.engine == "offline" and reply.metadata["fallback"] is True
    assert set(sink.types[:-1]) == {"chunk"} and sink.types[-1] == "done"
    assert "".join(c.content for c in sink.of(ChunkEvent)) == reply.answer
