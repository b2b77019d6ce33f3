"""The shared text rules: what counts as showing nothing, and how text is trimmed."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from shared.text import SafeMultilineText, SafeText, clean_text, invisible

# Characters that render as nothing (or as a blank the width of a letter) in most fonts.
BLANKS = ["\u2800", "\u115f", "\u1160", "\u3164", "\uffa0", "\ufeff", "\u200b", "\u200c", "\u200d", "\u2060",
          "\u3000", "\u00a0", " "]


class Named(BaseModel):
    name: SafeText = Field(min_length=1, max_length=5)


class Bio(BaseModel):
    text: SafeMultilineText = Field(min_length=1, max_length=20)


class TestInvisible:
    @pytest.mark.parametrize("ch", BLANKS)
    def test_blank_characters_show_nothing(self, ch) -> None:
        """Regression: braille blank, the Hangul fillers and the BOM counted as visible text."""
        assert invisible(ch) and invisible(ch * 3)

    @given(st.lists(st.sampled_from(BLANKS), min_size=1, max_size=10))
    def test_any_mix_of_blanks_shows_nothing(self, chars) -> None:
        """Regression: a mix of blanks (e.g. Hangul filler and braille blank) passed as a name."""
        assert invisible("".join(chars))

    @pytest.mark.parametrize("value", ["a", "王", "\u2800a", "x\u3164", "한", "\u1100"])
    def test_text_with_a_letter_shows_something(self, value) -> None:
        assert not invisible(value)

    def test_the_empty_string_is_not_called_invisible(self) -> None:
        assert not invisible("")


class TestCleanText:
    @given(st.lists(st.sampled_from(BLANKS), max_size=4), st.lists(st.sampled_from(BLANKS), max_size=4))
    def test_blanks_at_the_edges_are_trimmed(self, before, after) -> None:
        """Regression: "\\ufeffname" was stored with its byte order mark."""
        assert clean_text("".join(before) + "na me" + "".join(after)) == "na me"

    @pytest.mark.parametrize("value", ["", "   ", "\u200b\u200b", "\u3000\u3000", "\u2800", "\ufeff"])
    def test_text_that_shows_nothing_is_refused(self, value) -> None:
        with pytest.raises(ValueError, match="visible"):
            clean_text(value)

    @pytest.mark.parametrize("value", ["a\x00b", "evil\u202etxt", "a\nb"])
    def test_unsafe_characters_are_refused(self, value) -> None:
        with pytest.raises(ValueError, match="must not contain"):
            clean_text(value)

    def test_line_breaks_only_in_multiline_text(self) -> None:
        assert clean_text(" a\r\nb\t ", multiline=True) == "a\r\nb"


class TestSchemaTypes:
    def test_a_bom_is_trimmed_before_the_length_is_checked(self) -> None:
        """Regression: a leading BOM counted toward the length and was stored."""
        assert Named(name="\ufeff12345\u200b").name == "12345"
        assert Bio(text="\ufeff line\n").text == "line"

    @pytest.mark.parametrize("value", ["\u2800", "\u3164\u3164", "\ufeff"])
    def test_blank_names_are_refused(self, value) -> None:
        with pytest.raises(ValidationError):
            Named(name=value)
