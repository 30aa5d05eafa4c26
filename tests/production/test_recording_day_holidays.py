"""A recording day on a public holiday: allowed, but the coordinator is warned, and the pages say so."""

from __future__ import annotations

from datetime import date

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from production.models import RecordingDay
from tests.conftest import World
from tests.factories.production import RecordingDayFactory


def next_constitution_day() -> date:
    today = timezone.localdate()
    this_year = date(today.year, 5, 17)
    return this_year if this_year > today else date(today.year + 1, 5, 17)


def day_data(world: World, day: date) -> dict[str, object]:
    return {
        "date": day.isoformat(),
        "starts_at": "09:30",
        "ends_at": "15:00",
        "host_library": world.library.pk,
        "responsible": [world.coordinator.pk],
        "capacity": 6,
    }


def warnings(response) -> list[str]:  # type: ignore[no-untyped-def]
    """The warnings shown on the page the POST led to (followed, so that they are read and gone)."""
    assert response.redirect_chain
    return [str(message) for message in response.context["messages"] if message.level_tag == "warning"]


def test_planning_a_day_on_a_holiday_warns_but_saves_it(world: World, coordinator_client: Client) -> None:
    holiday = next_constitution_day()

    response = coordinator_client.post(
        reverse("production:recording_day_create"), day_data(world, holiday), follow=True
    )

    assert response.status_code == 200
    assert RecordingDay.objects.get().date == holiday
    [warning] = warnings(response)
    assert "is a public holiday (" in warning
    assert "Constitution Day" in warning  # (in 2027 together with Whit Monday)


def test_moving_a_day_onto_a_holiday_warns_and_other_changes_do_not(world: World, coordinator_client: Client) -> None:
    holiday = next_constitution_day()
    day = RecordingDayFactory(county=world.county, host_library=world.library, date=date(holiday.year, 5, 12))
    edit = reverse("production:recording_day_edit", args=[day.pk])

    assert warnings(coordinator_client.post(edit, day_data(world, day.date), follow=True)) == []
    moved = coordinator_client.post(edit, day_data(world, holiday), follow=True)

    day.refresh_from_db()
    assert day.date == holiday
    assert ["Constitution Day" in text for text in warnings(moved)] == [True]
    # Changing something else on a day that is already on the holiday does not say it again.
    again = {**day_data(world, holiday), "capacity": 7}
    assert warnings(coordinator_client.post(edit, again, follow=True)) == []


def test_the_list_and_the_day_page_mark_a_holiday(world: World, librarian_client: Client) -> None:
    holiday = next_constitution_day()
    day = RecordingDayFactory(county=world.county, host_library=world.library, date=holiday)
    ordinary = RecordingDayFactory(county=world.county, host_library=world.library, date=date(holiday.year, 5, 19))
    librarian_client.post(reverse("set_language"), {"language": "nb"})

    listing = librarian_client.get(reverse("production:recording_day_list")).content.decode()
    page = librarian_client.get(day.get_absolute_url()).content.decode()
    other = librarian_client.get(ordinary.get_absolute_url()).content.decode()

    assert listing.count("data-holiday") == 1
    assert "Helligdag: " in listing
    assert "Grunnlovsdag" in listing
    assert "Grunnlovsdag" in page
    assert "data-holiday" in page
    assert "data-holiday" not in other
