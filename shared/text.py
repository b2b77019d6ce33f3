"""Text that is safe to store and to show: trimmed, no NUL or other control characters, no
bidirectional overrides (which can disguise names in SMS, email and lists), no lone surrogates,
and something visible in it (not only spaces or zero-width characters)."""
from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

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


INVISIBLE = {"Zs", "Zl", "Zp", "Cf", "Cc", "Mn"}


def invisible(value: str) -> bool:
    """Whether non-empty text shows nothing: only spaces, zero-width and control characters."""
    return bool(value) and all(unicodedata.category(ch) in INVISIBLE for ch in value)


def _checked(value: str, *, multiline: bool) -> str:
    if problem := unsafe_character(value, multiline=multiline):
        raise ValueError(f"must not contain a {problem}")
    if invisible(value):
        raise ValueError("must contain a visible character")
    return value


def _single_line(value: str) -> str:
    return _checked(value, multiline=False)


def _multiline(value: str) -> str:
    return _checked(value, multiline=True)


# Trimmed before the length limits a Field gives are checked: "  " is empty, not two characters.
SafeText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_single_line)]
SafeMultilineText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_multiline)]
