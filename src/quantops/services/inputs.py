"""Rules every text input obeys, wherever it enters (API bodies, path and query parameters, chat).

PostgreSQL cannot store a NUL character (``\\x00``) in text or JSON (asyncpg raised
``CharacterNotInRepertoireError``, a 500), and no legitimate name, id, question or filter has one, so
NUL is refused on both databases with a 422 naming the field. `nul_locations` finds them in any decoded
JSON value; `Text` is the same rule as a pydantic type for models validated outside the API edge.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator

NUL = "\x00"
NUL_MESSAGE = "must not contain a NUL character (\\u0000)"
NUL_ERROR_TYPE = "string_nul"


def nul_locations(value: Any, loc: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Locations of strings (or mapping keys) containing NUL in a decoded JSON value."""
    if isinstance(value, str):
        return [loc] if NUL in value else []
    found: list[tuple[str | int, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and NUL in key:
                found.append(loc)  # the key itself cannot be shown; name the object holding it
            else:
                found.extend(nul_locations(item, (*loc, key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found.extend(nul_locations(item, (*loc, index)))
    return found


def without_nul(value: Any) -> Any:
    """`value` with every NUL (in strings and keys) replaced by U+FFFD — for text the server did not
    receive from a caller (LLM output) on its way to the database. Unchanged objects are returned as is."""
    if isinstance(value, str):
        return value.replace(NUL, "\ufffd") if NUL in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()} if nul_locations(value) else value
    if isinstance(value, list | tuple):
        return type(value)(without_nul(v) for v in value) if nul_locations(value) else value
    return value


def reject_nul(value: str) -> str:
    if NUL in value:
        raise ValueError(NUL_MESSAGE)
    return value


Text = Annotated[str, AfterValidator(reject_nul)]
