"""The languages quantops answers in, and how a text's language is told (one rule for every layer)."""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["en", "ko"]

# Hangul syllables, compatibility jamo and conjoining jamo: any of them makes a text Korean.
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


def contains_hangul(text: str | None) -> bool:
    return bool(text) and _HANGUL.search(text) is not None


def detect_language(text: str | None) -> Language:
    """Korean as soon as the text contains Hangul, English otherwise."""
    return "ko" if contains_hangul(text) else "en"
