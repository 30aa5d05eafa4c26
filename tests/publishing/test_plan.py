"""The publishing plan: month and week, concept slots as gaps, moving posts, filters, the feed, homes, query counts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from libraries.models import AuditEntry
from production.models import ContentType
from production.services.planning import create_calendar_feed
from publishing.instagram import channels
from publishing.models import Channel, Post
from publishing.posts import plan
from tests.conftest import World, client_for
from tests.factories.libraries import LibraryFactory
from tests.factories.production import ConceptFactory
from tests.factories.publishing import ChannelFactory, make_asset, make_post, show_person

OSLO = ZoneInfo("Europe/Oslo")


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=OSLO)


def next_weekday(weekday: int, *, after: date | None = None) -> date:
    start = (after or timezone.localdate()) + timedelta(days=1)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def test_month_shows_posts_on_their_oslo_day_and_open_concept_slots_as_gaps(world: World) -> None:
    friday = next_weekday(4)
    concept = ConceptFactory(county=world.county, name="Fredagstipset", cadence_rule="FREQ=WEEKLY;BYDAY=FR")
    filled = make_post(
        county=world.county, author=world.editor, title="Fylt fredag", concept=concept, scheduled_at=at(friday)
    )
    # 23:30 in Oslo is the next day in UTC in winter and summer alike: the plan shows Oslo's day.
    late = make_post(county=world.county, author=world.editor, title="Sent", scheduled_at=at(friday, 23, 30))

    response = client_for(world.editor).get(f"/plan/?month={friday:%Y-%m}")

    days = {day.date: day for week in response.context["weeks"] for day in week}
    assert [post.pk for post in days[friday].posts] == [filled.pk, late.pk]
    next_friday = friday + timedelta(days=7)
    if next_friday.month == friday.month:
        assert [gap.concept for gap in days[next_friday].gaps] == [concept]
    assert days[friday].gaps == []
    html = response.content.decode()
    assert f"/posts/new/?concept={concept.pk}&amp;at=" in html or days[friday].gaps == []


def test_week_lists_seven_days_with_posts_and_gaps(world: World) -> None:
    monday = next_weekday(0)
    ConceptFactory(county=world.county, name="Onsdagsquiz", cadence_rule="FREQ=WEEKLY;BYDAY=WE")
    post = make_post(
        county=world.county, author=world.editor, title="Tirsdag", scheduled_at=at(monday + timedelta(days=1))
    )

    response = client_for(world.editor).get(f"/plan/week/?week={monday + timedelta(days=3)}")

    days = response.context["days"]
    assert [day.date for day in days] == [monday + timedelta(days=n) for n in range(7)]
    assert [p.pk for p in days[1].posts] == [post.pk]
    assert [gap.concept.name for gap in days[2].gaps] == ["Onsdagsquiz"]
    assert f'data-plan-date="{(monday + timedelta(days=1)).isoformat()}"' in response.content.decode()


def test_gaps_are_computed_on_every_post_of_the_county(world: World) -> None:
    wednesday = next_weekday(2)
    concept = ConceptFactory(county=world.county, cadence_rule="FREQ=WEEKLY;BYDAY=WE")
    make_post(county=world.county, author=world.editor, concept=concept, scheduled_at=at(wednesday, 8))
    make_post(
        county=world.other_county, author=world.outsider, concept=concept, scheduled_at=at(wednesday + timedelta(7))
    )

    gaps = plan.concept_gaps(world.county, wednesday, wednesday + timedelta(days=7))

    assert [gap.at.date() for gap in gaps] == [wednesday + timedelta(days=7)]


def test_keyboard_buttons_move_a_post_a_day_and_keep_its_oslo_time(world: World) -> None:
    # The night the clocks go back in Norway: 12:00 stays 12:00 on the wall.
    post = make_post(county=world.county, author=world.editor, scheduled_at=at(date(2031, 10, 25)))

    response = client_for(world.editor).post(
        f"/posts/{post.pk}/move/", {"days": "1", "at": "2031-10-25T12:00", "next": "/plan/?month=2031-10"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/plan/?month=2031-10"
    post.refresh_from_db()
    assert timezone.localtime(post.scheduled_at) == at(date(2031, 10, 26))
    assert AuditEntry.objects.filter(action="post.moved").exists()


def test_drag_and_drop_sends_the_day_and_the_time_of_day_stays(world: World) -> None:
    post = make_post(county=world.county, author=world.editor, scheduled_at=at(date(2031, 5, 5), 9, 30))

    client_for(world.editor).post(f"/posts/{post.pk}/move/", {"date": "2031-05-08", "at": ""})

    post.refresh_from_db()
    assert timezone.localtime(post.scheduled_at) == at(date(2031, 5, 8), 9, 30)


def test_the_move_form_sets_an_exact_time(world: World) -> None:
    post = make_post(county=world.county, author=world.editor, scheduled_at=at(date(2031, 5, 5), 9, 30))

    client_for(world.editor).post(f"/posts/{post.pk}/move/", {"at": "2031-05-06T18:15"})

    post.refresh_from_db()
    assert timezone.localtime(post.scheduled_at) == at(date(2031, 5, 6), 18, 15)


def test_published_posts_and_librarians_cannot_move_posts(world: World) -> None:
    published = make_post(
        county=world.county, author=world.editor, status=Post.Status.PUBLISHED, scheduled_at=at(date(2031, 5, 5))
    )

    client_for(world.editor).post(f"/posts/{published.pk}/move/", {"days": "1"})
    assert client_for(world.librarian).post(f"/posts/{published.pk}/move/", {"days": "1"}).status_code == 403

    published.refresh_from_db()
    assert timezone.localtime(published.scheduled_at) == at(date(2031, 5, 5))


def test_filters_by_library_content_type_concept_and_status(world: World) -> None:
    day = next_weekday(1)
    concept = ConceptFactory(county=world.county, cadence_rule="")
    sandnes = make_post(county=world.county, author=world.editor, title="Sandnes", scheduled_at=at(day, 9))
    sandnes.post_collaborators.create(library=world.library)
    make_post(
        county=world.county,
        author=world.editor,
        title="Litteratur",
        content_type=ContentType.LITERATURE,
        concept=concept,
        status=Post.Status.SCHEDULED,
        scheduled_at=at(day, 10),
    )
    editor = client_for(world.editor)

    def titles(query: str) -> list[str]:
        response = editor.get(f"/plan/week/?week={day}&{query}")
        return [post.title for plan_day in response.context["days"] for post in plan_day.posts]

    assert titles(f"library={world.library.pk}") == ["Sandnes"]
    assert titles("content_type=literature") == ["Litteratur"]
    assert titles(f"concept={concept.pk}") == ["Litteratur"]
    assert titles("status=scheduled") == ["Litteratur"]
    assert titles("") == ["Sandnes", "Litteratur"]


def test_librarians_see_the_plan_but_not_drafts(world: World, librarian_client: Client) -> None:
    day = next_weekday(3)
    make_post(county=world.county, author=world.editor, title="Utkast", scheduled_at=at(day, 9))
    make_post(
        county=world.county, author=world.editor, title="Planlagt", status=Post.Status.SCHEDULED, scheduled_at=at(day)
    )

    response = librarian_client.get(f"/plan/week/?week={day}")

    assert [p.title for d in response.context["days"] for p in d.posts] == ["Planlagt"]
    assert "Move" not in response.content.decode()
    assert librarian_client.get("/posts/new/").status_code == 403


def test_the_plan_is_in_the_calendar_feed_with_the_same_secret_address(world: World) -> None:
    day = next_weekday(4)
    post = make_post(
        county=world.county,
        author=world.editor,
        title="Fredagstips",
        status=Post.Status.SCHEDULED,
        scheduled_at=at(day),
    )
    make_post(county=world.county, author=world.editor, title="Hemmelig utkast", scheduled_at=at(day))
    make_post(
        county=world.other_county,
        author=world.outsider,
        title="Agder",
        status=Post.Status.SCHEDULED,
        scheduled_at=at(day),
    )
    token = create_calendar_feed(by=world.librarian, county=world.county)

    response = Client().get(f"/plan/feed/{token}.ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Instagram: Fredagstips"
    assert event["UID"] == f"post-{post.pk}@testserver"
    assert event.decoded("DTSTART") == at(day)
    assert Client().get("/plan/feed/wrong-token.ics").status_code == 404


def test_plan_subscription_shows_both_addresses_once(world: World, librarian_client: Client) -> None:
    librarian_client.post("/plan/subscription/")
    page = librarian_client.get("/plan/subscription/").content.decode()

    assert "/plan/feed/" in page
    assert "/calendar/feed/" in page
    assert "/plan/feed/" not in librarian_client.get("/plan/subscription/").content.decode()


def test_coordinator_home_shows_posts_awaiting_approval_and_gaps_in_the_plan(world: World) -> None:
    concept = ConceptFactory(county=world.county, name="Fredagstipset", cadence_rule="FREQ=WEEKLY;BYDAY=FR")
    friday = next_weekday(4, after=timezone.localdate() - timedelta(days=1))
    make_post(county=world.county, author=world.editor, title="Venter på godkjenning", status=Post.Status.IN_REVIEW)
    # A post on the first Friday fills that slot; the other three Fridays of the four weeks are gaps.
    make_post(county=world.county, author=world.editor, title="Fylt", concept=concept, scheduled_at=at(friday))

    response = client_for(world.coordinator).get("/")
    page = response.content.decode()

    assert "Posts awaiting approval" in page
    assert "Venter på godkjenning" in page
    assert [gap.date for gap in response.context["concept_gaps"]] == [friday + timedelta(days=7 * n) for n in (1, 2, 3)]
    assert f"/posts/new/?concept={concept.pk}&amp;at={friday + timedelta(days=7):%Y-%m-%d}T12:00" in page
    assert "Connect Instagram" in page  # no channel yet


def test_a_gap_on_the_home_page_opens_a_post_for_that_slot(world: World) -> None:
    concept = ConceptFactory(county=world.county, name="Fredagstipset", content_type=ContentType.LITERATURE)

    form = client_for(world.editor).get(f"/posts/new/?concept={concept.pk}&at=2031-05-09T12:00").context["form"]

    assert form.initial["concept"] == concept.pk
    assert form.initial["content_type"] == ContentType.LITERATURE
    assert form.initial["title"] == "Fredagstipset"
    assert timezone.localtime(form.initial["scheduled_at"]) == at(date(2031, 5, 9))


def test_librarian_home_shows_what_is_coming_up(world: World, librarian_client: Client) -> None:
    make_post(
        county=world.county,
        author=world.editor,
        title="Snart på Instagram",
        status=Post.Status.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(days=2),
    )

    page = librarian_client.get("/").content.decode()

    assert "Coming up on Instagram" in page
    assert "Snart på Instagram" in page
    assert "Posts awaiting approval" not in page


# --- Query counts: constant as rows grow ---


def _posts(world: World, count: int, day: date) -> None:
    libraries = [world.library, world.other_library, LibraryFactory(county=world.county)]
    for n in range(count):
        asset = make_asset(county=world.county, library=world.library, title=f"Bilde {n}")
        show_person(asset, name=f"Person {n}")
        post = make_post(
            county=world.county,
            author=world.editor,
            assets=[asset],
            title=f"Post {n}",
            concept=ConceptFactory(county=world.county, name=f"Konsept {n}", cadence_rule=""),
            scheduled_at=at(day, 8 + n % 10),
        )
        post.post_collaborators.create(library=libraries[n % 3])


@pytest.mark.parametrize("count", [1, 12])
def test_the_post_list_costs_the_same_queries_for_1_or_12_posts(
    world: World, django_assert_num_queries, count: int
) -> None:  # type: ignore[no-untyped-def]
    ChannelFactory(county=world.county)
    _posts(world, count, next_weekday(2))
    editor = client_for(world.editor)
    editor.get("/posts/")  # the session is in Redis once this has run

    # The user (1: their county access with the MFA check is cached, libraries.access, and the channel,
    # publishing.instagram.channels.shown_channel); the count and the page of posts with county, people,
    # concept and idea (2); their media, the people shown, their consents, collaborators and standing
    # approvals (5); the filters' libraries and concepts (2).
    with django_assert_num_queries(10):
        response = editor.get("/posts/")
    assert len(response.context["rows"]) == count


@pytest.mark.parametrize("count", [1, 12])
def test_the_plan_costs_the_same_queries_for_1_or_12_posts(world: World, django_assert_num_queries, count: int) -> None:  # type: ignore[no-untyped-def]
    day = next_weekday(2)
    _posts(world, count, day)
    ConceptFactory(county=world.county, name="Ukentlig", cadence_rule="FREQ=WEEKLY;BYDAY=MO")
    editor = client_for(world.editor)
    editor.get("/plan/")

    # The user (1: their county access with the MFA check is cached, libraries.access, and the county's
    # channel, publishing.instagram.channels.shown_channel); the filters' libraries and concepts (2), which the
    # gaps reuse; the posts with their channel (1: a chip shows no collaborators, so they are not read); the
    # taken concept slots (1); the days over Instagram's daily limit (1).
    with django_assert_num_queries(6):
        response = editor.get(f"/plan/?month={day:%Y-%m}")
    assert sum(len(d.posts) for week in response.context["weeks"] for d in week) == count
    with django_assert_num_queries(6):
        editor.get(f"/plan/week/?week={day}")


@pytest.mark.parametrize("count", [1, 6])
def test_a_stopped_channels_due_posts_cost_no_query_each(world: World, django_assert_num_queries, count: int) -> None:  # type: ignore[no-untyped-def]
    channel = ChannelFactory(county=world.county, status=Channel.Status.RECONNECT_REQUIRED)
    due = timezone.now() - timedelta(hours=1)
    for n in range(count):
        make_post(county=world.county, author=world.editor, status=Post.Status.SCHEDULED, channel=channel,
                  title=f"Post {n}", scheduled_at=due - timedelta(minutes=n))  # fmt: skip
    editor = client_for(world.editor)
    week = f"/plan/week/?week={timezone.localdate(due)}"
    editor.get(week)
    with django_assert_num_queries(6):  # as for posts on time (above)
        page = editor.get(week)
    assert page.text.count("Waiting for the Instagram connection") == count


def test_a_day_with_more_posts_than_instagrams_daily_limit_is_flagged_before_it_comes(world: World) -> None:
    ChannelFactory(county=world.county, publish_quota=2)
    tuesday = next_weekday(1)
    posts = [
        make_post(
            county=world.county,
            author=world.editor,
            title=f"Tirsdag {hour}",
            status=Post.Status.SCHEDULED,
            scheduled_at=at(tuesday, hour),
        )
        for hour in (9, 12, 15)
    ]
    make_post(county=world.county, author=world.editor, title="Onsdag", scheduled_at=at(tuesday + timedelta(days=1)))
    editor = client_for(world.editor)

    response = editor.get(f"/plan/week/?week={tuesday}")

    by_day = {day.date: day for day in response.context["days"]}
    assert by_day[tuesday].over_limit == (3, 2)
    assert by_day[tuesday + timedelta(days=1)].over_limit is None
    assert "3 posts: Instagram publishes at most 2 a day; the last ones wait." in response.content.decode()
    month = editor.get(f"/plan/?month={tuesday:%Y-%m}").content.decode()
    assert "3 posts: Instagram publishes at most 2 a day" in month
    page = editor.get(f"/posts/{posts[0].pk}/").content.decode()
    assert "This day has 3 posts, more than the 2 Instagram publishes in a day" in page


def test_a_day_on_the_plan_escapes_what_people_wrote_and_keeps_the_move_form_working(world: World) -> None:
    """The plan's day is a Jinja2 partial (config/jinja2.py): it escapes a title and a concept name as the
    Django templates do, writes the request's CSRF token into each Move form, and speaks the page's language."""
    day = next_weekday(2)
    ConceptFactory(county=world.county, name="Fredag & <i>fest</i>", cadence_rule="FREQ=WEEKLY;BYDAY=TH")
    post = make_post(
        county=world.county,
        author=world.editor,
        assets=[make_asset(county=world.county, library=world.library)],
        title="<script>alert(1)</script> Bøker",
        status=Post.Status.SCHEDULED,
        scheduled_at=at(day, 10),
    )
    editor = Client(enforce_csrf_checks=True)
    editor.force_login(world.editor)
    page = editor.get(f"/plan/week/?week={day}", headers={"accept-language": "nb"})
    html = page.text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Bøker" in html
    assert "Fredag &amp; &lt;i&gt;fest&lt;/i&gt;" in html
    assert "Flytt" in html  # Norwegian, from the catalogue
    assert "Ledig plass" in html
    token = html.split('name="csrfmiddlewaretoken" value="', 2)[2].split('"', 1)[0]
    moved = editor.post(
        f"/posts/{post.pk}/move/",
        {"csrfmiddlewaretoken": token, "at": f"{day + timedelta(days=1)}T11:00", "next": "/plan/week/"},
    )
    assert moved.status_code == 302
    post.refresh_from_db()
    assert timezone.localtime(post.scheduled_at).hour == 11


# --- The channel the plan shows is kept, and follows every write at once ---


def test_the_plan_shows_a_channel_stopped_by_the_worker_at_once(world: World, coordinator_client: Client) -> None:
    channel = ChannelFactory(county=world.county, status=Channel.Status.CONNECTED)
    notice = "The county's Instagram connection must be renewed"
    assert notice not in coordinator_client.get("/plan/").content.decode()  # and kept in the cache

    channels.stop_channel(channel_id=channel.pk, reason="Error validating access token")  # an UPDATE

    assert notice in coordinator_client.get("/plan/").content.decode()
    channel.refresh_from_db()
    channel.status = Channel.Status.CONNECTED
    channel.save()  # connected again
    assert notice not in coordinator_client.get("/plan/week/").content.decode()


def test_the_posts_of_a_day_are_counted_by_the_local_day_across_a_change_of_summer_time(world: World) -> None:
    """`with_posts_that_day` (the post page's daily-limit note) counts a post's local day in PostgreSQL: the
    last Sunday of October in Oslo is 25 hours long."""
    oslo = ZoneInfo("Europe/Oslo")
    moments = [
        datetime(2026, 10, 25, 0, 30, tzinfo=oslo),
        datetime(2026, 10, 25, 23, 30, tzinfo=oslo),
        datetime(2026, 10, 26, 0, 30, tzinfo=oslo),
    ]
    made = [
        make_post(county=world.county, author=world.editor, status=Post.Status.SCHEDULED, scheduled_at=moment)
        for moment in moments
    ]
    make_post(county=world.county, author=world.editor, status=Post.Status.DRAFT, scheduled_at=moments[0])
    make_post(county=world.other_county, author=world.outsider, status=Post.Status.SCHEDULED, scheduled_at=moments[0])

    counted = dict(
        Post.objects.filter(pk__in=[p.pk for p in made]).with_posts_that_day().values_list("pk", "posts_that_day")
    )

    assert [counted[p.pk] for p in made] == [2, 2, 1]
