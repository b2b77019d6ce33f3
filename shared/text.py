"""Text that is safe to store and to show: no NUL or other control characters, no bidirectional
overrides (which can disguise names in SMS, email and lists), no lone surrogates."""
from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

BIDI_CONTROLS = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
                 "\u200e", "\u200f", "\u061c"}


def unsafe_character(value: str, *, multiline: bool = False) -> str | None:
    """A description of the first character that must not be stored, or None."""
    allowed = {"\n", "\t", "\r"} if multiline else set()
    for ch in value:
        if ch in allowed:
            continue
        if ch in BIDI_CONTROLS:
            return f"bidirectional control character U+{ord(ch):04X}"
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"control character U+{ord(ch):04X}"
        if category == "Cs":
            return "an unpaired surrogate"
    return None


def _single_line(value: str) -> str:
    if problem := unsafe_character(value):
        raise ValueError(f"must not contain a {problem}")
    return value


def _multiline(value: str) -> str:
    if problem := unsafe_character(value, multiline=True):
        raise ValueError(f"must not contain a {problem}")
    return value


SafeText = Annotated[str, AfterValidator(_single_line)]
SafeMultilineText = Annotated[str, AfterValidator(_multiline)]
