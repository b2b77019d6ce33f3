"""What a person may change in their profile, as plain Python and as the request schema."""
from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from services.profile.api.schemas import ProfileUpdate
from services.profile.domain.etags import etag, if_match_allows
from services.profile.domain.profiles import (
    DEFAULT_LOCALE,
    DEFAULT_TIMEZONE,
    HR_OWNED,
    LOCALES,
    MAX_BIO,
    MAX_PREFERRED_NAME,
    SELF_EDITABLE,
    ProfileRuleError,
    clean_bio,
    clean_preferred_name,
    clean_timezone,
    plan_changes,
    timezones,
)
from shared.text import BIDI_CONTROLS, invisible, trim

CURRENT = {"preferred_name": None, "locale": DEFAULT_LOCALE, "timezone": DEFAULT_TIMEZONE, "bio": None,
           "name": "张三", "email": "a@b.example", "mobile": None, "employee_no": "E1", "department": "研发部",
           "hire_date": None}

chars = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="".join(BIDI_CONTROLS))
printable = st.text(chars, max_size=80)
zones = st.sampled_from(sorted(timezones()))


def visible(max_size: int) -> st.SearchStrategy[str]:
    return st.text(chars, min_size=1, max_size=max_size).filter(lambda v: bool(trim(v)) and not invisible(trim(v)))


valid_patch = st.fixed_dictionaries({}, optional={
    "preferred_name": st.none() | visible(MAX_PREFERRED_NAME),
    "locale": st.none() | st.sampled_from(LOCALES),
    "timezone": st.none() | zones,
    "bio": st.none() | visible(MAX_BIO),
})
# Strings that show nothing: white space, zero-width characters, the BOM, blank glyphs.
BLANK_VALUES = ["", "   ", "\u200b\u200b", "\u200b", "\u3000\u3000", "\ufeff", "\u2800", "\u3164\u115f\u1160\uffa0",
                " \u200d\n"]


def errors_of(body: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        ProfileUpdate.model_validate(body)
    return {".".join(map(str, e["loc"])): e["msg"] for e in info.value.errors()}


class TestPreferredName:
    @given(printable)
    def test_kept_trimmed_when_visible_and_short_enough_else_refused(self, value) -> None:
        trimmed = trim(value)
        if not trimmed or invisible(trimmed) or len(trimmed) > MAX_PREFERRED_NAME:
            with pytest.raises(ValueError):
                clean_preferred_name(value)
        else:
            assert clean_preferred_name(value) == trimmed

    @pytest.mark.parametrize("value", BLANK_VALUES)
    def test_a_name_that_shows_nothing_is_refused_not_cleared(self, value) -> None:
        """Regression: "\u200b\u200b" was stored and "   " silently cleared the name."""
        with pytest.raises(ValueError, match="visible"):
            clean_preferred_name(value)

    def test_null_clears_it(self) -> None:
        assert clean_preferred_name(None) is None

    def test_a_byte_order_mark_is_trimmed(self) -> None:
        """Regression: "\ufeffname" was stored with the BOM."""
        assert clean_preferred_name("\ufeffname\u200b") == "name"

    @pytest.mark.parametrize("value", ["a\x00b", "tab\tname", "evil\u202etxt.exe", "\ud800"])
    def test_control_characters_are_refused(self, value) -> None:
        with pytest.raises(ValueError):
            clean_preferred_name(value)

    def test_fifty_chinese_characters_fit(self) -> None:
        assert clean_preferred_name("王" * 50) == "王" * 50


class TestTimezone:
    @given(zones)
    def test_every_iana_zone_is_accepted(self, zone) -> None:
        assert clean_timezone(zone) == zone

    @given(st.text(max_size=40))
    def test_anything_else_is_refused(self, value) -> None:
        assume(value not in timezones())
        with pytest.raises(ValueError):
            clean_timezone(value)

    @pytest.mark.parametrize("value", ["../../etc/passwd", "asia/shanghai", "Mars/Olympus", "", "UTC+8", "localtime", "posixrules"])
    def test_lookalikes_are_refused(self, value) -> None:
        with pytest.raises(ValueError):
            clean_timezone(value)


class TestBio:
    def test_line_breaks_are_kept_and_length_is_bounded(self) -> None:
        assert clean_bio(" 第一行\r\n第二行\t! ") == "第一行\r\n第二行\t!"
        assert clean_bio("x" * MAX_BIO) == "x" * MAX_BIO
        with pytest.raises(ValueError):
            clean_bio("x" * (MAX_BIO + 1))

    @pytest.mark.parametrize("value", BLANK_VALUES + ["\r\n\t", "\u3000\n\u3000"])
    def test_a_bio_that_shows_nothing_is_refused_not_cleared(self, value) -> None:
        """Regression: "\u200b" was stored and "\u3000\u3000" silently cleared the bio."""
        with pytest.raises(ValueError, match="visible"):
            clean_bio(value)

    def test_a_byte_order_mark_is_trimmed_and_null_clears_it(self) -> None:
        assert clean_bio("\ufeff你好\n") == "你好"
        assert clean_bio(None) is None


class TestPlanChanges:
    @given(valid_patch)
    def test_only_changed_fields_and_a_second_application_changes_nothing(self, patch) -> None:
        changes = plan_changes(CURRENT, patch)
        assert all(c.field in patch and c.old != c.new for c in changes)
        assert [c.field for c in changes] == [f for f in SELF_EDITABLE if f in {c.field for c in changes}]
        after = {**CURRENT, **{c.field: c.new for c in changes}}
        assert plan_changes(after, patch) == []

    @given(valid_patch)
    def test_null_clears_or_resets_to_the_default(self, patch) -> None:
        after = {**CURRENT, "preferred_name": "小王", "locale": "en-US", "timezone": "UTC", "bio": "hi"}
        nulls = {k: None for k in patch}
        changed = {c.field: c.new for c in plan_changes(after, nulls)}
        for field in nulls:
            assert changed[field] == {"locale": DEFAULT_LOCALE, "timezone": DEFAULT_TIMEZONE}.get(field)

    @given(st.sampled_from(sorted(HR_OWNED)), st.text(max_size=10) | st.none())
    def test_hr_owned_fields_are_refused(self, field, value) -> None:
        with pytest.raises(ProfileRuleError) as info:
            plan_changes(CURRENT, {field: value})
        assert info.value.field == field and "HR" in str(info.value)

    @given(st.text(min_size=1, max_size=20))
    def test_unknown_fields_are_refused(self, field) -> None:
        assume(field not in SELF_EDITABLE and field not in HR_OWNED)
        with pytest.raises(ProfileRuleError):
            plan_changes(CURRENT, {field: "x"})


class TestProfileUpdateSchema:
    @given(valid_patch)
    def test_valid_patches_pass_and_keep_only_what_was_sent(self, patch) -> None:
        assert set(ProfileUpdate.model_validate(patch).patch()) == set(patch)

    @pytest.mark.parametrize("field", sorted(HR_OWNED))
    def test_each_hr_field_gets_its_own_error(self, field) -> None:
        errors = errors_of({field: "x", "bio": "ok"})
        assert list(errors) == [field] and "HR" in errors[field]

    def test_unknown_fields_are_forbidden(self) -> None:
        assert list(errors_of({"nickname": "x"})) == ["nickname"]

    @pytest.mark.parametrize(("body", "field"), [
        ({"locale": "fr-FR"}, "locale"), ({"timezone": "Nowhere/City"}, "timezone"),
        ({"preferred_name": "x" * 51}, "preferred_name"), ({"bio": "x" * 501}, "bio"),
        ({"preferred_name": 5}, "preferred_name"), ({"timezone": "x" * 65}, "timezone"),
    ])
    def test_bad_values_name_their_field(self, body, field) -> None:
        assert list(errors_of(body))[0].startswith(field)

    @pytest.mark.parametrize("field", ["preferred_name", "bio"])
    @pytest.mark.parametrize("value", BLANK_VALUES)
    def test_text_that_shows_nothing_is_a_field_error(self, field, value) -> None:
        """Regression: blank preferred_name / bio passed the schema (and were stored or cleared)."""
        errors = errors_of({field: value})
        assert list(errors) == [field] and "visible" in errors[field]

    def test_text_is_trimmed_before_its_length_is_checked(self) -> None:
        assert ProfileUpdate.model_validate({"preferred_name": "  " + "名" * 50 + "\ufeff"}).preferred_name == "名" * 50

    def test_the_published_schema_lists_only_self_editable_fields(self) -> None:
        schema = ProfileUpdate.model_json_schema()
        assert set(schema["properties"]) == set(SELF_EDITABLE)
        assert schema["additionalProperties"] is False


class TestETags:
    @given(st.integers(min_value=1, max_value=10**9))
    def test_the_current_tag_matches_and_others_do_not(self, version) -> None:
        assert etag(version) == f'W/"{version}"'
        assert if_match_allows(etag(version), version)
        assert if_match_allows(f'"{version}"', version)
        assert if_match_allows(f'W/"{version + 1}", {etag(version)}', version)
        assert not if_match_allows(etag(version + 1), version)
        assert if_match_allows(None, version) and if_match_allows("*", version)

    @pytest.mark.parametrize("header", ["", "1", "W/1", "garbage", '"01"'])
    def test_malformed_tags_do_not_match(self, header) -> None:
        assert not if_match_allows(header, 1)
