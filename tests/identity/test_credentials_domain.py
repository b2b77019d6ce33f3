"""The password rules, as plain functions."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.identity.domain.credentials import password_problems

PERSONAL = "must not contain your name, mobile, email or employee number"
STRONG_TAIL = "-Kx9#Lq2!Wz"


class TestPersonalData:
    """Regression: short email names and employee numbers were skipped, so `ab@example.com` was
    accepted as the password of ab@example.com; a mobile written with spaces was accepted too."""

    def test_the_whole_email_is_refused_however_short_its_name(self) -> None:
        assert PERSONAL in password_problems("ab@example.com", email="ab@example.com")
        assert PERSONAL in password_problems("C1@Example.com!", email="c1@example.com", employee_no="C1")

    def test_the_mobile_is_refused_with_spaces_dashes_or_a_country_code(self) -> None:
        for written in ("135 1234 5678!!", "135-1234-5678-ab", "+86 13512345678x"):
            assert PERSONAL in password_problems(written, mobile="+8613512345678"), written

    def test_a_two_character_chinese_name_counts_but_two_latin_letters_do_not(self) -> None:
        assert PERSONAL in password_problems("张三" + STRONG_TAIL, name="张三")
        assert PERSONAL not in password_problems("Al" + STRONG_TAIL, name="Al")

    def test_unrelated_passwords_pass(self) -> None:
        assert password_problems("Correct-Horse-Battery-9", name="张三", email="zhang.san@example.com",
                                 mobile="+8613512345678", employee_no="E0001") == []

    @given(st.text(alphabet=st.characters(categories=("L", "N")), min_size=3, max_size=20),
           st.text(min_size=0, max_size=5), st.text(min_size=0, max_size=5))
    def test_any_employee_number_inside_the_password_is_refused(self, number: str, before: str, after: str) -> None:
        assert PERSONAL in password_problems(before + number + after + STRONG_TAIL, employee_no=number)

    @given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", " ", "-", "."]))
    def test_any_mobile_inside_the_password_is_refused(self, mobile: str, sep: str) -> None:
        written = sep.join([mobile[:3], mobile[3:7], mobile[7:]])
        assert PERSONAL in password_problems("pw" + written + STRONG_TAIL, mobile=f"+86{mobile}")
