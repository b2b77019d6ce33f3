"""Text that is safe to store and to show: trimmed, no NUL or other control characters, no
bidirectional overrides (which can disguise names in SMS, email and lists), no lone surrogates,
and something visible in it (not only spaces or zero-width characters)."""
from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

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
# Letters and symbols that are drawn as an empty cell: braille blank, the Hangul fillers.
BLANK_GLYPHS = {"\u2800", "\u115f", "\u1160", "\u3164", "\uffa0"}
# What trimming removes besides white space: zero-width characters, the byte order mark, blank
# glyphs. (Not combining marks, which belong to the letter before them, nor bidirectional
# controls, which are refused rather than hidden.)
_EDGE_BLANKS = "\u180e\u200b\u200c\u200d\u2060\ufeff" + "".join(sorted(BLANK_GLYPHS))
_EDGES = re.compile(f"^[\\s{_EDGE_BLANKS}]+|[\\s{_EDGE_BLANKS}]+\\Z")


def invisible(value: str) -> bool:
    """Whether non-empty text shows nothing: only spaces, zero-width and control characters, and
    blank glyphs."""
    return bool(value) and all(ch in BLANK_GLYPHS or unicodedata.category(ch) in INVISIBLE for ch in value)


def trim(value: str) -> str:
    """The text without white space, zero-width characters or blank glyphs at either end."""
    return _EDGES.sub("", value)


def clean_text(value: str, *, multiline: bool = False) -> str:
    """The trimmed text, or ValueError if it holds a character that must not be stored or shows
    nothing (an empty string included)."""
    value = trim(value)
    if problem := unsafe_character(value, multiline=multiline):
        raise ValueError(f"must not contain a {problem}")
    if not value or invisible(value):
        raise ValueError("must contain a visible character")
    return value


def _trimmed(value: Any) -> Any:
    return trim(value) if isinstance(value, str) else value


def _checked(value: str, *, multiline: bool) -> str:
    # Empty text is left to the field's min_length (or to the schema, which may read it as none).
    return clean_text(value, multiline=multiline) if value else value


def _single_line(value: str) -> str:
    return _checked(value, multiline=False)


def _multiline(value: str) -> str:
    return _checked(value, multiline=True)


# Trimmed before the length limits a Field gives are checked: "  " is empty, not two characters.
SafeText = Annotated[str, BeforeValidator(_trimmed), AfterValidator(_single_line)]
SafeMultilineText = Annotated[str, BeforeValidator(_trimmed), AfterValidator(_multiline)]
