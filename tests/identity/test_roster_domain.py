"""Roster parsing rules, without a database."""
from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.identity.domain.contact import InvalidContact, mask, normalize_email, normalize_mobile
from services.identity.domain.roster import RosterRejected, parse_roster

HEADER = "name,mobile,email,employee_no,department,hire_date\n"


class TestParseRoster:
    def test_valid_rows_are_normalised(self) -> None:
        rows = parse_roster((HEADER + "张三,138 0013 8000,Zhang.San@Example.COM,E001,研发部,2024/03/01\n").encode())
        assert rows[0].mobile == "+8613800138000"
        assert rows[0].email == "zhang.san@example.com"
        assert rows[0].hire_date.isoformat() == "2024-03-01"

    def test_chinese_headers_and_bom(self) -> None:
        data = "\ufeff姓名,手机,邮箱,工号,部门,入职日期\n李四,13900139000,li@example.com,E2,财务部,2023-01-02\n"
        assert parse_roster(data.encode())[0].name == "李四"

    def test_gb18030_file(self) -> None:
        data = (HEADER + "王五,13700137000,wang@example.com,E3,人事部,2022-02-02\n").encode("gb18030")
        assert parse_roster(data)[0].department == "人事部"

    def test_every_bad_row_is_reported(self) -> None:
        data = (HEADER + "张三,12345,not-an-email,E1,研发部,2024-13-01\n"
                         "李四,13800138000,a@example.com,E2,研发部,2024-01-01\n"
                         "王五,13800138000,b@example.com,E2,研发部,2024-01-01\n"
                         ",13900139000,c@example.com,E5,研发部,2024-01-01\n").encode()
        with pytest.raises(RosterRejected) as info:
            parse_roster(data)
        found = {(e.line, e.field) for e in info.value.errors}
        assert {(2, "mobile"), (2, "email"), (2, "hire_date"), (4, "employee_no"), (4, "mobile"), (5, "name")} <= found

    @pytest.mark.parametrize("data", [b"", b"name,mobile\n", HEADER.encode(), b"\xff\xfe\x00garbage\x00"])
    def test_unusable_files_are_rejected(self, data: bytes) -> None:
        with pytest.raises(RosterRejected):
            parse_roster(data)

    @pytest.mark.parametrize(("raw", "says"), [("2999-01-01", "more than a year ahead"), ("1800-01-01", "before 1950"),
                                               ("2024-13-01", "like 2024-03-01"), ("01.03.2024", "like 2024-03-01")])
    def test_a_bad_hire_date_says_what_is_wrong_with_it(self, raw: str, says: str) -> None:
        """Regression: 2999-01-01 was refused as "must be a date like 2024-03-01"."""
        with pytest.raises(RosterRejected) as info:
            parse_roster((HEADER + f"张三,13800138000,z@example.com,E001,研发部,{raw}\n").encode())
        [error] = info.value.errors
        assert error.field == "hire_date" and says in error.message, error.message

    @pytest.mark.parametrize("name", ["\u200b", "\u200b\u200b ", "\u3000"])
    def test_a_name_that_shows_nothing_is_refused(self, name: str) -> None:
        """Regression: a name of zero-width spaces was imported."""
        with pytest.raises(RosterRejected) as info:
            parse_roster((HEADER + f"{name},13800138000,z@example.com,E001,研发部,2024-03-01\n").encode())
        assert [(e.line, e.field) for e in info.value.errors] == [(2, "name")]

    @pytest.mark.parametrize(("header", "column"), [
        ("name,name,mobile,email,employee_no,department,hire_date", "name"),
        ("姓名,mobile,email,employee_no,department,hire_date,name", "name"),
        ("name,mobile,email,employee_no,department,hire_date,入职日期", "hire_date"),
    ])
    def test_a_duplicated_column_is_refused(self, header: str, column: str) -> None:
        """Regression: `name,name,mobile,...` was accepted and one of the two values silently dropped."""
        with pytest.raises(RosterRejected) as info:
            parse_roster(f"{header}\n张三,李四,13800138000,z@example.com,E001,研发部,2024-03-01\n".encode())
        [error] = info.value.errors
        assert (error.line, error.field) == (1, "header") and column in error.message, error.message

    def test_unknown_and_blank_columns_may_repeat(self) -> None:
        data = ("备注,name,mobile,email,employee_no,department,hire_date,备注,,\n"
                "x,张三,13800138000,z@example.com,E001,研发部,2024-03-01,y,,\n").encode()
        assert [r.name for r in parse_roster(data)] == ["张三"]

    def test_a_row_with_more_fields_than_the_header_is_refused(self) -> None:
        """Regression: values past the header's last column were silently dropped."""
        data = (HEADER + "张三,13800138000,z@example.com,E001,研发部,2024-03-01\n"
                         "李四,13900139000,l@example.com,E002,研发部,2024-03-01,oops,again\n").encode()
        with pytest.raises(RosterRejected) as info:
            parse_roster(data)
        [error] = info.value.errors
        assert error.line == 3 and "has 8 fields, the header has 6" in error.message, error.message

    def test_empty_trailing_fields_past_the_header_are_ignored(self) -> None:
        assert len(parse_roster((HEADER + "张三,13800138000,z@example.com,E001,研发部,2024-03-01,, \n").encode())) == 1

    @pytest.mark.parametrize(("raw", "expected"), [
        ("2023/3/15", "2023-03-15"), ("2023-3-5", "2023-03-05"), ("2023年3月15日", "2023-03-15"),
        ("2023/03/05", "2023-03-05"), ("2023-03-15", "2023-03-15"), ("2023年12月1日", "2023-12-01"),
    ])
    def test_year_first_dates_from_chinese_excel_are_read(self, raw: str, expected: str) -> None:
        """Regression: 2023/3/15, 2023-3-5 and 2023年3月15日 (Chinese Excel's forms) were refused."""
        rows = parse_roster((HEADER + f"张三,13800138000,z@example.com,E001,研发部,{raw}\n").encode())
        assert rows[0].hire_date.isoformat() == expected

    @pytest.mark.parametrize("raw", ["03/15/2023", "15/03/2023", "3/15/23", "2023-3/15", "2023年3月", "20230315",
                                     "2023-W11-3", "2023年2月30日", "2023/3/15/1"])
    def test_ambiguous_or_malformed_dates_are_refused_with_the_expected_form(self, raw: str) -> None:
        with pytest.raises(RosterRejected) as info:
            parse_roster((HEADER + f"张三,13800138000,z@example.com,E001,研发部,{raw}\n").encode())
        [error] = info.value.errors
        assert error.field == "hire_date" and "year first" in error.message and "2024-03-01" in error.message

    def test_old_mac_line_endings_are_read(self) -> None:
        """Regression: CR-only files were refused with Python's own csv error text."""
        data = (HEADER + "张三,13800138000,z@example.com,E001,研发部,2024-03-01\n").replace("\n", "\r").encode()
        assert [r.employee_no for r in parse_roster(data)] == ["E001"]

    def test_landline_is_not_a_mobile(self) -> None:
        with pytest.raises(InvalidContact):
            normalize_mobile("010 6552 9988")


class TestContactProperties:
    @given(st.integers(min_value=0, max_value=99_999_999), st.sampled_from(["138", "139", "150", "186", "177"]))
    def test_mainland_mobiles_normalise_to_e164_and_back(self, n: int, prefix: str) -> None:
        raw = f"{prefix}{n:08d}"
        assert normalize_mobile(raw) == f"+86{raw}"
        assert normalize_mobile(f"+86 {raw}") == f"+86{raw}"

    @given(st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=20))
    def test_emails_normalise_to_lower_case(self, local: str) -> None:
        assert normalize_email(f"{local.upper()}@Example.com") == f"{local}@example.com"

    @given(st.from_regex(r"\+861[3-9]\d{9}", fullmatch=True))
    def test_mask_hides_the_middle_of_a_mobile(self, mobile: str) -> None:
        masked = mask(mobile)
        assert masked == mobile[:-8] + "****" + mobile[-4:]
