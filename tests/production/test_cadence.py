"""Concept cadences: RFC 5545 rules built from a few choices, and the dates they fall on."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from libraries.models import County
from production import cadence
from production.models import Concept

OSLO = ZoneInfo("Europe/Oslo")
LAST_TUESDAY = "FREQ=MONTHLY;BYDAY=-1TU"


def test_last_tuesday_of_the_month_across_a_year_end() -> None:
    dates = cadence.occurrences(LAST_TUESDAY, anchor=date(2025, 1, 1), start=date(2025, 11, 1), end=date(2026, 2, 28))
    assert dates == [date(2025, 11, 25), date(2025, 12, 30), date(2026, 1, 27), date(2026, 2, 24)]


def test_window_starting_after_decembers_last_tuesday_continues_in_january() -> None:
    dates = cadence.occurrences(LAST_TUESDAY, anchor=date(2025, 1, 1), start=date(2025, 12, 31), end=date(2026, 1, 31))
    assert dates == [date(2026, 1, 27)]


def test_last_tuesday_in_a_leap_february_and_a_month_with_five_tuesdays() -> None:
    dates = cadence.occurrences(LAST_TUESDAY, anchor=date(2028, 1, 1), start=date(2028, 2, 1), end=date(2028, 2, 29))
    assert dates == [date(2028, 2, 29)]  # a leap day that is the last Tuesday
    dates = cadence.occurrences(LAST_TUESDAY, anchor=date(2026, 1, 1), start=date(2026, 9, 1), end=date(2026, 9, 30))
    assert dates == [date(2026, 9, 29)]  # September 2026 has five Tuesdays


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Summer time starts on 29 March 2026; the last Tuesday (31 March) is after it.
        ((2026, 2, 1), (2026, 4, 30), [(2026, 2, 24, 1), (2026, 3, 31, 2), (2026, 4, 28, 2)]),
        # Summer time ends on 25 October 2026; the last Tuesday (27 October) is after it.
        ((2026, 9, 1), (2026, 11, 30), [(2026, 9, 29, 2), (2026, 10, 27, 1), (2026, 11, 24, 1)]),
        # In 2025 the last Tuesday of March (25th) is before the change on the 30th.
        ((2025, 3, 1), (2025, 4, 30), [(2025, 3, 25, 1), (2025, 4, 29, 2)]),
    ],
)
def test_last_tuesday_keeps_its_wall_clock_time_across_daylight_saving_changes(
    start: tuple[int, int, int], end: tuple[int, int, int], expected: list[tuple[int, int, int, int]]
) -> None:
    moments = cadence.occurrence_times(
        LAST_TUESDAY, anchor=date(2025, 1, 1), at=time(12, 0), zone=OSLO, start=date(*start), end=date(*end)
    )
    assert [(m.year, m.month, m.day, m.hour, m.minute) for m in moments] == [
        (y, mo, d, 12, 0) for y, mo, d, _ in expected
    ]
    assert [m.utcoffset() for m in moments] == [timedelta(hours=offset) for *_, offset in expected]
    # 12:00 local is 11:00 UTC in winter and 10:00 UTC in summer.
    assert [m.astimezone(ZoneInfo("UTC")).hour for m in moments] == [12 - offset for *_, offset in expected]


def test_a_time_inside_the_spring_forward_gap_moves_forward() -> None:
    # 29 March 2026 is a Sunday: 02:30 does not exist in Oslo that night.
    moments = cadence.occurrence_times(
        "FREQ=WEEKLY;BYDAY=SU",
        anchor=date(2026, 1, 1),
        at=time(2, 30),
        zone=OSLO,
        start=date(2026, 3, 29),
        end=date(2026, 3, 29),
    )
    assert moments == [datetime(2026, 3, 29, 3, 30, tzinfo=OSLO)]
    assert moments[0].utcoffset() == timedelta(hours=2)


def test_weekly_on_friday() -> None:
    dates = cadence.occurrences(
        "FREQ=WEEKLY;BYDAY=FR", anchor=date(2026, 1, 1), start=date(2026, 12, 20), end=date(2027, 1, 10)
    )
    assert dates == [date(2026, 12, 25), date(2027, 1, 1), date(2027, 1, 8)]


def test_second_monday_of_the_month() -> None:
    dates = cadence.occurrences(
        "FREQ=MONTHLY;BYDAY=2MO", anchor=date(2026, 1, 1), start=date(2026, 1, 1), end=date(2026, 3, 31)
    )
    assert dates == [date(2026, 1, 12), date(2026, 2, 9), date(2026, 3, 9)]


def test_no_dates_before_the_concept_starts_and_none_when_ad_hoc() -> None:
    assert cadence.occurrences(
        "FREQ=WEEKLY;BYDAY=FR", anchor=date(2026, 3, 1), start=date(2026, 2, 1), end=date(2026, 3, 10)
    ) == [date(2026, 3, 6)]
    assert cadence.occurrences("", anchor=date(2026, 1, 1), start=date(2026, 1, 1), end=date(2026, 12, 31)) == []


@pytest.mark.parametrize(
    ("choice", "rule"),
    [
        (cadence.Cadence(cadence.WEEKLY, "FR"), "FREQ=WEEKLY;BYDAY=FR"),
        (cadence.Cadence(cadence.MONTHLY, "TU", -1), "FREQ=MONTHLY;BYDAY=-1TU"),
        (cadence.Cadence(cadence.MONTHLY, "MO", 2), "FREQ=MONTHLY;BYDAY=2MO"),
        (cadence.Cadence(cadence.AD_HOC), ""),
    ],
)
def test_choices_build_a_rule_and_read_back_from_it(choice: cadence.Cadence, rule: str) -> None:
    assert choice.rule == rule
    assert cadence.parse(rule) == choice


@pytest.mark.parametrize(
    "rule", ["FREQ=DAILY", "FREQ=MONTHLY;BYDAY=5TU", "FREQ=WEEKLY;BYDAY=FR;INTERVAL=2", "nonsense"]
)
def test_rules_the_forms_cannot_build_are_refused(rule: str) -> None:
    with pytest.raises(ValueError, match="Unsupported"):
        cadence.parse(rule)


@pytest.mark.parametrize(
    ("language", "rule", "text"),
    [
        ("en", LAST_TUESDAY, "Last Tuesday of the month"),
        ("en", "FREQ=WEEKLY;BYDAY=FR", "Every Friday"),
        ("en", "", "Ad hoc"),
        ("nb", LAST_TUESDAY, "Siste tirsdag i måneden"),
        ("nb", "FREQ=WEEKLY;BYDAY=FR", "Hver fredag"),
        ("da", LAST_TUESDAY, "Sidste tirsdag i måneden"),
    ],
)
def test_cadence_is_described_in_words(language: str, rule: str, text: str) -> None:
    with translation.override(language):
        assert cadence.describe(rule) == text


def test_concept_occurrences_use_its_start_and_stop_when_inactive() -> None:
    concept = Concept(
        county=County(country=County.Country.NORWAY),
        cadence_rule=LAST_TUESDAY,
        starts_on=date(2026, 1, 1),
        time_of_day=time(18, 0),
    )
    assert concept.occurrences(date(2025, 12, 1), date(2026, 1, 31)) == [date(2026, 1, 27)]
    assert concept.occurrence_times(date(2026, 1, 1), date(2026, 1, 31)) == [datetime(2026, 1, 27, 18, 0, tzinfo=OSLO)]
    concept.is_active = False
    assert concept.occurrences(date(2025, 12, 1), date(2026, 1, 31)) == []
