"""Month and agenda views, and each person's iCalendar feed behind a secret address."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from libraries.models import hash_token
from production.models import CalendarFeed, Idea, RecordingDay
from tests.conftest import World, client_for
from tests.factories.libraries import LibraryFactory
from tests.factories.production import IdeaFactory, RecordingDayFactory, SignupFactory, SlotFactory

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")


def make_feed_url(client: Client) -> str:
    response = client.post(reverse("production:calendar_subscription"), {"action": "create"}, follow=True)
    match = re.search(r'value="http://testserver(/calendar/feed/[^"]+\.ics)"', response.text)
    assert match, response.text
    return match.group(1)


def events(body: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


def test_feed_holds_recording_days_and_the_slots_the_person_presents_in(world: World, librarian_client: Client) -> None:
    day = RecordingDayFactory(
        county=world.county,
        host_library=world.library,
        date=timezone.localdate() + timedelta(days=10),
        starts_at=time(9, 0),
        ends_at=time(15, 0),
        address="Langgata 48, Sandnes",
        notes="Ta med stativ.",
    )
    SignupFactory(recording_day=day, library=world.library, person=world.librarian)
    SlotFactory(recording_day=day, position=1, duration_minutes=60, title="Rigging")
    mine = SlotFactory(
        recording_day=day,
        position=2,
        duration_minutes=30,
        idea=IdeaFactory(library=world.library, title="Pappalesing", status=Idea.Status.PLANNED),
    )
    mine.presenters.add(world.librarian)
    RecordingDayFactory(
        county=world.county, host_library=world.library, status=RecordingDay.Status.DRAFT
    )  # not in feeds
    RecordingDayFactory(county=world.other_county, host_library=world.other_county_library)  # another county

    url = make_feed_url(librarian_client)
    response = Client().get(url)  # calendar apps do not log in
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"

    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Oslo"]  # Outlook needs the zone spelled out
    found = events(response.content)
    assert set(found) == {"Recording day at Sandnes bibliotek", "You present: Pappalesing"}

    day_event = found["Recording day at Sandnes bibliotek"]
    assert day_event.start == datetime.combine(day.date, time(9, 0), tzinfo=OSLO)
    assert day_event.end == datetime.combine(day.date, time(15, 0), tzinfo=OSLO)
    assert str(day_event["LOCATION"]) == "Langgata 48, Sandnes"
    assert "Ta med stativ." in str(day_event["DESCRIPTION"])
    assert str(day_event["UID"]) == f"recording-day-{day.pk}@testserver"
    assert "DTSTAMP" in day_event

    slot_event = found["You present: Pappalesing"]
    assert slot_event.start == datetime.combine(day.date, time(10, 0), tzinfo=OSLO)
    assert slot_event.end == datetime.combine(day.date, time(10, 30), tzinfo=OSLO)
    assert str(slot_event["UID"]) == f"run-sheet-slot-{mine.pk}@testserver"


def test_feed_token_is_stored_only_as_a_hash_and_can_be_revoked(world: World, librarian_client: Client) -> None:
    url = make_feed_url(librarian_client)
    token = url.removeprefix("/calendar/feed/").removesuffix(".ics")
    feed = CalendarFeed.objects.get(user=world.librarian)
    assert feed.token_hash == hash_token(token)
    assert token not in feed.token_hash
    # The address is shown once; the page does not show it again.
    assert token not in librarian_client.get(reverse("production:calendar_subscription")).text

    assert Client().get(url).status_code == 200
    librarian_client.post(reverse("production:calendar_subscription"), {"action": "revoke"})
    assert Client().get(url).status_code == 404
    assert not CalendarFeed.objects.exists()


def test_a_new_address_replaces_the_old_one(world: World, librarian_client: Client) -> None:
    old = make_feed_url(librarian_client)
    new = make_feed_url(librarian_client)
    assert old != new
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200


def test_unknown_token_is_404(db) -> None:  # type: ignore[no-untyped-def]
    assert Client().get(reverse("production:calendar_feed", args=["nope"])).status_code == 404


def test_feed_is_written_in_the_language_chosen_when_it_was_made(world: World) -> None:
    client = client_for(world.librarian)
    client.post(reverse("set_language"), {"language": "nb"})
    RecordingDayFactory(county=world.county, host_library=world.library)
    url = make_feed_url(client)
    summaries = list(events(Client().get(url).content))
    assert summaries == ["Opptaksdag på Sandnes bibliotek"]


def test_feed_query_count_does_not_grow(world: World, librarian_client: Client, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    url = make_feed_url(librarian_client)
    RecordingDayFactory(county=world.county, host_library=world.library)
    # the feed and its user, the days with host and county, their slots with ideas, the slots' presenters
    with django_assert_max_num_queries(5) as few:
        Client().get(url)
    for number in range(10):
        day = RecordingDayFactory(
            county=world.county,
            host_library=LibraryFactory(county=world.county),
            date=timezone.localdate() + timedelta(days=number),
        )
        slot = SlotFactory(recording_day=day, idea=IdeaFactory(library=world.library, status=Idea.Status.PLANNED))
        slot.presenters.add(world.librarian)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = Client().get(url).content
    assert len(events(body)) == 21


def test_month_view_shows_the_months_recording_days(world: World, librarian_client: Client) -> None:
    day = RecordingDayFactory(
        county=world.county, host_library=world.library, date=timezone.localdate().replace(day=15)
    )
    response = librarian_client.get(reverse("production:calendar_month"))
    assert response.status_code == 200
    assert reverse("production:recording_day_detail", args=[day.pk]) in response.text
    next_month = (day.date.replace(day=1) + timedelta(days=32)).strftime("%Y-%m")
    response = librarian_client.get(reverse("production:calendar_month"), {"month": next_month})
    assert reverse("production:recording_day_detail", args=[day.pk]) not in response.text
    # Nonsense falls back to this month.
    assert librarian_client.get(reverse("production:calendar_month"), {"month": "2026-13"}).status_code == 200


def test_agenda_lists_upcoming_days_with_their_run_sheets(world: World, librarian_client: Client) -> None:
    day = RecordingDayFactory(county=world.county, host_library=world.library)
    slot = SlotFactory(recording_day=day, title="Bokprat med Per")
    slot.presenters.add(world.librarian)
    RecordingDayFactory(county=world.county, host_library=world.library, date=timezone.localdate() - timedelta(days=3))
    response = librarian_client.get(reverse("production:calendar_agenda"))
    assert "Bokprat med Per" in response.text
    assert "you present" in response.text
    assert len(response.context["agenda"]) == 1


@pytest.mark.parametrize("page", ["production:calendar_month", "production:calendar_agenda"])
def test_calendar_query_counts_do_not_grow(
    world: World, librarian_client: Client, django_assert_max_num_queries, page: str
) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    SlotFactory(recording_day=RecordingDayFactory(county=world.county, host_library=world.library, date=today))
    # session, user, memberships (county access), days with host; the agenda adds slots with ideas and presenters
    with django_assert_max_num_queries(6) as few:
        librarian_client.get(reverse(page))
    for number in range(10):
        day = RecordingDayFactory(
            county=world.county,
            host_library=LibraryFactory(county=world.county),
            date=today + timedelta(days=number % 3),
        )
        SlotFactory(recording_day=day).presenters.add(world.librarian)
    with django_assert_max_num_queries(len(few.captured_queries)):
        librarian_client.get(reverse(page))


@pytest.mark.parametrize(
    ("language", "text"),
    [("nb", "fredag 4. desember 2026"), ("da", "fredag 4. december 2026"), ("en", "Friday 4 December 2026")],
)
def test_long_dates_follow_the_language(language: str, text: str) -> None:
    from datetime import date

    from django.utils import translation

    from production.templatetags.production_tags import long_date

    with translation.override(language):
        assert long_date(date(2026, 12, 4)) == text
