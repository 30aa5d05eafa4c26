"""Public holidays: which days they are in Norway and Denmark, and what the reader sees them called."""

from datetime import date

import pytest
from django.utils import translation

from libraries import holidays
from libraries.models import County


@pytest.mark.parametrize(
    ("language", "constitution_day", "christmas_day"),
    [("nb", "Grunnlovsdag", "Første juledag"), ("en", "Constitution Day", "Christmas Day"),
     # The package has no Danish names for Norway's holidays: Norway's own are shown.
     ("da", "Grunnlovsdag", "Første juledag")],
)  # fmt: skip
def test_norways_holidays_in_the_readers_language(language: str, constitution_day: str, christmas_day: str) -> None:
    with translation.override(language):
        found = holidays.holidays_between(County.Country.NORWAY, date(2026, 1, 1), date(2026, 12, 31))
    assert found[date(2026, 5, 17)] == constitution_day
    assert found[date(2026, 12, 25)] == christmas_day
    assert date(2026, 12, 26) in found
    assert date(2026, 4, 6) in found  # Easter Monday: Easter Sunday 2026 is 5 April
    assert date(2026, 12, 24) not in found  # Christmas Eve is not a public holiday in Norway
    assert date(2026, 6, 5) not in found


def test_two_holidays_on_one_day_are_both_named() -> None:
    # In 2027 Whit Monday falls on 17 May.
    with translation.override("en"):
        name = holidays.holiday_name(County.Country.NORWAY, date(2027, 5, 17))
    assert "Constitution Day" in name
    assert "Whit Monday" in name or "Pentecost" in name


@pytest.mark.parametrize(
    ("language", "grundlovsdag"), [("da", "Grundlovsdag"), ("en", "Constitution Day"), ("nb", "Grundlovsdag")]
)
def test_denmarks_holidays_include_grundlovsdag_and_follow_the_abolition_of_store_bededag(
    language: str, grundlovsdag: str
) -> None:
    with translation.override(language):
        assert holidays.holiday_name(County.Country.DENMARK, date(2026, 6, 5)) == grundlovsdag
        # Store bededag (the fourth Friday after Easter) was a holiday until 2023 and abolished from 2024.
        assert holidays.holiday_name(County.Country.DENMARK, date(2023, 5, 5))
        assert holidays.holiday_name(County.Country.DENMARK, date(2024, 4, 26)) == ""
    assert holidays.holiday_name(County.Country.DENMARK, date(2026, 5, 17)) == ""


def test_a_range_across_the_new_year_holds_both_years_holidays_in_order() -> None:
    found = holidays.holidays_between(County.Country.NORWAY, date(2026, 12, 20), date(2027, 1, 5))
    assert list(found) == [date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)]


def test_the_next_working_day_passes_holidays_and_weekends() -> None:
    # Friday 25 December 2026, Saturday 26 (a holiday too), Sunday 27: Monday 28.
    assert holidays.next_working_day(County.Country.NORWAY, date(2026, 12, 25)) == date(2026, 12, 28)
    # Maundy Thursday 2027 (25 March) to Easter Monday (29 March): Tuesday 30 March.
    assert holidays.next_working_day(County.Country.NORWAY, date(2027, 3, 25)) == date(2027, 3, 30)
    assert holidays.is_working_day(County.Country.NORWAY, date(2026, 6, 5))
    assert not holidays.is_working_day(County.Country.DENMARK, date(2026, 6, 5))
