"""Concept slots on public holidays: published anyway, skipped or moved, and the plan marks the holidays."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from libraries import holidays
from libraries.models import County
from production import cadence
from production.models import Concept, Idea
from publishing.posts import plan
from tests.conftest import World, client_for
from tests.factories.production import ConceptFactory, IdeaFactory
from tests.factories.publishing import make_post

OSLO = ZoneInfo("Europe/Oslo")
FRIDAYS = "FREQ=WEEKLY;BYDAY=FR"
CHRISTMAS_WEEKS = (date(2026, 12, 21), date(2027, 1, 10))  # Christmas Day 2026 and New Year's Day 2027 are Fridays


def gap_days(gaps: list[plan.Gap]) -> list[date]:
    return [gap.date for gap in gaps]


def fridays_concept(county: County, rule: str) -> Concept:
    return ConceptFactory(county=county, name="Fredagstipset", cadence_rule=FRIDAYS, holiday_rule=rule)


def test_a_concept_publishes_on_holidays_unless_told_otherwise_and_the_slot_says_which_holiday(world: World) -> None:
    concept = ConceptFactory(county=world.county, cadence_rule=FRIDAYS)
    assert concept.holiday_rule == Concept.HolidayRule.PUBLISH_ANYWAY

    with translation.override("en"):
        gaps = plan.concept_gaps(world.county, *CHRISTMAS_WEEKS)

    assert gap_days(gaps) == [date(2026, 12, 25), date(2027, 1, 1), date(2027, 1, 8)]
    assert [(gap.holiday, gap.moved_from) for gap in gaps[:2]] == [("Christmas Day", None), ("New Year's Day", None)]
    assert gaps[2].holiday == ""


def test_skipped_holiday_slots_are_not_gaps_on_the_plan_nor_on_the_home(world: World) -> None:
    concept = fridays_concept(world.county, Concept.HolidayRule.SKIP)
    IdeaFactory(library=world.library, concept=concept, status=Idea.Status.PLANNED)  # covers one gap

    assert gap_days(plan.concept_gaps(world.county, *CHRISTMAS_WEEKS)) == [date(2027, 1, 8)]
    assert plan.uncovered_concept_gaps(world.county, *CHRISTMAS_WEEKS) == []
    [skipped, *_rest] = concept.dates(*CHRISTMAS_WEEKS)
    assert (skipped.date, skipped.skipped) == (date(2026, 12, 25), True)
    assert concept.occurrences(*CHRISTMAS_WEEKS) == [date(2027, 1, 8)]


def test_a_moved_slot_passes_a_holiday_saturday_and_the_sunday_to_monday(world: World) -> None:
    # Christmas Day 2026 is a Friday, the Saturday is Boxing Day: the slot moves to Monday 28 December.
    concept = fridays_concept(world.county, Concept.HolidayRule.MOVE)

    gaps = plan.concept_gaps(world.county, *CHRISTMAS_WEEKS)

    assert gap_days(gaps) == [date(2026, 12, 28), date(2027, 1, 4), date(2027, 1, 8)]
    assert gaps[0].moved_from == date(2026, 12, 25)
    assert gaps[0].at == datetime.combine(date(2026, 12, 28), concept.time_of_day, tzinfo=OSLO)
    assert gaps[1].moved_from == date(2027, 1, 1)
    assert gaps[2].moved_from is None


def test_a_slot_moved_into_the_window_counts_and_a_post_on_either_day_fills_it(world: World) -> None:
    concept = fridays_concept(world.county, Concept.HolidayRule.MOVE)
    # The window starts after Christmas Day: the slot it moved to Monday is in it.
    assert gap_days(plan.concept_gaps(world.county, date(2026, 12, 27), date(2026, 12, 31))) == [date(2026, 12, 28)]
    # Whoever published on Christmas Day all the same filled the slot.
    make_post(
        county=world.county,
        author=world.editor,
        concept=concept,
        scheduled_at=datetime.combine(date(2026, 12, 25), time(10), tzinfo=OSLO),
    )
    assert plan.concept_gaps(world.county, date(2026, 12, 27), date(2026, 12, 31)) == []


def test_the_countys_country_decides_which_days_move(world: World) -> None:
    # Grundlovsdag, Friday 5 June 2026, is a Danish holiday and an ordinary Friday in Norway.
    world.other_county.country = County.Country.DENMARK
    world.other_county.save(update_fields=["country"])
    fridays_concept(world.county, Concept.HolidayRule.MOVE)
    fridays_concept(world.other_county, Concept.HolidayRule.MOVE)
    june = (date(2026, 6, 1), date(2026, 6, 9))

    assert gap_days(plan.concept_gaps(world.county, *june)) == [date(2026, 6, 5)]
    assert gap_days(plan.concept_gaps(world.other_county, *june)) == [date(2026, 6, 8)]


def test_a_move_never_doubles_a_date_the_cadence_has_anyway() -> None:
    # A Monday concept: Easter Monday 2027 (29 March) moves to Tuesday; the next Monday is its own.
    dates = cadence.concept_dates(
        "FREQ=WEEKLY;BYDAY=MO",
        anchor=date(2027, 1, 1),
        start=date(2027, 3, 22),
        end=date(2027, 4, 5),
        country=County.Country.NORWAY,
        holiday_rule=cadence.MOVE,
    )
    assert [(entry.original, entry.date) for entry in dates] == [
        (date(2027, 3, 22), date(2027, 3, 22)),
        (date(2027, 3, 29), date(2027, 3, 30)),
        (date(2027, 4, 5), date(2027, 4, 5)),
    ]


@pytest.mark.parametrize(
    ("language", "label", "name"),
    [("nb", "Helligdag:", "Grunnlovsdag"), ("en", "Public holiday:", "Constitution Day"),
     ("da", "Helligdag:", "Grunnlovsdag")],
)  # fmt: skip
def test_the_month_and_the_week_mark_a_holiday_by_name_in_the_readers_language(
    world: World, language: str, label: str, name: str
) -> None:
    client = client_for(world.librarian)
    client.post(reverse("set_language"), {"language": language})

    month = client.get("/plan/?month=2026-05")
    week = client.get("/plan/week/?week=2026-05-17")

    days = {day.date: day for row in month.context["weeks"] for day in row}
    assert days[date(2026, 5, 17)].holiday == name
    assert days[date(2026, 5, 18)].holiday == ""
    for response in (month, week):
        html = response.content.decode()
        assert f'<span class="day-holiday__label">{label}</span> {name}</p>' in html
    cell = month.content.decode().split('data-plan-date="2026-05-17"')[0].rsplit("<td", 1)[1]
    assert "month__day--holiday" in cell
    assert "month__day--empty" not in cell  # a phone's agenda keeps the day


def test_the_plan_says_a_slot_was_moved_off_a_holiday(world: World) -> None:
    today = timezone.localdate()
    christmas = date(today.year if today < date(today.year, 12, 20) else today.year + 1, 12, 25)
    ConceptFactory(
        county=world.county,
        name="Juletipset",
        cadence_rule=f"FREQ=WEEKLY;BYDAY={cadence.WEEKDAY_CODES[christmas.weekday()]}",
        holiday_rule=Concept.HolidayRule.MOVE,
    )
    moved_to = holidays.next_working_day(County.Country.NORWAY, christmas)

    response = client_for(world.editor).get(f"/plan/week/?week={moved_to}")

    [day] = [day for day in response.context["days"] if day.date == moved_to]
    assert [gap.moved_from for gap in day.gaps] == [christmas]
    with translation.override("en"):
        moved_from = date_format(christmas, "MONTH_DAY_FORMAT")
    assert f"Moved from {moved_from} (Christmas Day)" in response.content.decode()


def test_the_concept_form_and_page_show_the_holiday_rule(world: World, coordinator_client: Client) -> None:
    concept = fridays_concept(world.county, Concept.HolidayRule.SKIP)
    coordinator_client.post(reverse("set_language"), {"language": "nb"})

    form = coordinator_client.get(reverse("production:concept_edit", args=[concept.pk])).content.decode()
    page = coordinator_client.get(reverse("production:concept_detail", args=[concept.pk])).content.decode()

    assert "Flytt til neste arbeidsdag" in form
    assert "Hopp over datoen" in page
