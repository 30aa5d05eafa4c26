"""Concepts (fixed formats), and what each role's home shows from production."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from production.models import Concept, ContentType, Idea, RecordingDay
from publishing.posts.plan import uncovered_concept_gaps as concept_gaps
from tests.conftest import World
from tests.factories.libraries import LibraryFactory, UserFactory
from tests.factories.production import ConceptFactory, IdeaFactory, RecordingDayFactory, SignupFactory, SlotFactory

pytestmark = pytest.mark.django_db


def concept_data(**overrides: object) -> dict:
    data = {
        "name": "Pappatreff",
        "description": "Fast treff for pappaer.",
        "content_type": ContentType.OFFERS,
        "cadence_kind": "monthly",
        "weekday": "TU",
        "ordinal": "-1",
        "starts_on": "2026-01-01",
        "time_of_day": "18:00",
        "holiday_rule": "publish",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_coordinator_adds_a_concept_on_the_last_tuesday_of_the_month(world: World, coordinator_client: Client) -> None:
    response = coordinator_client.post(reverse("production:concept_create"), concept_data(owner=world.editor.pk))
    concept = Concept.objects.get()
    assert response.status_code == 302
    assert concept.cadence_rule == "FREQ=MONTHLY;BYDAY=-1TU"
    assert concept.county == world.county
    assert concept.occurrences(date(2026, 12, 1), date(2027, 1, 31)) == [date(2026, 12, 29), date(2027, 1, 26)]
    page = coordinator_client.get(concept.get_absolute_url()).text
    assert "Last Tuesday of the month" in page


def test_concept_cadence_is_changed_and_can_become_ad_hoc(world: World, coordinator_client: Client) -> None:
    concept = ConceptFactory(county=world.county, name="Fredagstips", cadence_rule="FREQ=WEEKLY;BYDAY=FR")
    edit = reverse("production:concept_edit", args=[concept.pk])
    form = coordinator_client.get(edit).context["form"]
    assert (form.initial["cadence_kind"], form.initial["weekday"]) == ("weekly", "FR")
    coordinator_client.post(edit, concept_data(name="Fredagstips", cadence_kind="weekly", weekday="TH", ordinal=""))
    concept.refresh_from_db()
    assert concept.cadence_rule == "FREQ=WEEKLY;BYDAY=TH"
    coordinator_client.post(edit, concept_data(name="Fredagstips", cadence_kind="adhoc", weekday="", ordinal=""))
    concept.refresh_from_db()
    assert concept.cadence_rule == ""


def test_monthly_cadence_needs_a_weekday_and_which_one(world: World, coordinator_client: Client) -> None:
    response = coordinator_client.post(reverse("production:concept_create"), concept_data(weekday="", ordinal=""))
    assert response.status_code == 400
    assert "Choose the weekday." in response.text
    assert "Choose which weekday of the month" in response.text
    assert not Concept.objects.exists()


def test_concept_names_are_unique_in_the_county(world: World, coordinator_client: Client) -> None:
    ConceptFactory(county=world.county, name="Pappatreff")
    response = coordinator_client.post(reverse("production:concept_create"), concept_data(name="pappatreff"))
    assert response.status_code == 400
    assert "already has a concept with this name" in response.text


def test_concept_list_query_count_does_not_grow(
    world: World, librarian_client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    ConceptFactory(county=world.county, owner=world.coordinator)
    # session, user, memberships (county access), concepts with owners
    with django_assert_max_num_queries(4) as few:
        librarian_client.get(reverse("production:concept_list"))
    for _ in range(15):
        ConceptFactory(county=world.county, owner=UserFactory(), cadence_rule="FREQ=MONTHLY;BYDAY=-1TU")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = librarian_client.get(reverse("production:concept_list"))
    assert len(response.context["rows"]) == 16


def test_concept_gaps_are_occurrences_without_planned_or_recorded_content(world: World) -> None:
    concept = ConceptFactory(county=world.county, cadence_rule="FREQ=WEEKLY;BYDAY=FR", starts_on=date(2026, 1, 1))
    ConceptFactory(county=world.county, cadence_rule="")  # ad hoc: no slots
    ConceptFactory(county=world.county, is_active=False)  # inactive: no slots
    start, end = date(2026, 3, 1), date(2026, 3, 28)  # four Fridays: 6, 13, 20, 27
    assert [gap.date for gap in concept_gaps(world.county, start, end)] == [
        date(2026, 3, 6),
        date(2026, 3, 13),
        date(2026, 3, 20),
        date(2026, 3, 27),
    ]
    IdeaFactory(library=world.library, concept=concept, status=Idea.Status.RECORDED)
    IdeaFactory(library=world.library, concept=concept, status=Idea.Status.PLANNED)
    IdeaFactory(library=world.library, concept=concept, status=Idea.Status.SUBMITTED)  # not content yet
    assert [gap.date for gap in concept_gaps(world.county, start, end)] == [date(2026, 3, 20), date(2026, 3, 27)]


def test_librarian_home_shows_their_librarys_ideas_and_the_next_day_with_sign_up(
    world: World, librarian_client: Client
) -> None:
    IdeaFactory(library=world.library, title="Vår egen idé", status=Idea.Status.ACCEPTED)
    IdeaFactory(library=world.other_library, title="Solas idé")
    day = RecordingDayFactory(county=world.county, host_library=world.other_library)
    RecordingDayFactory(  # a draft is not shown to libraries
        county=world.county,
        host_library=world.library,
        status=RecordingDay.Status.DRAFT,
        date=timezone.localdate() + timedelta(days=1),
    )
    page = librarian_client.get(reverse("home")).text
    assert "Vår egen idé" in page
    assert "Accepted" in page
    assert "Solas idé" not in page
    assert reverse("production:recording_day_detail", args=[day.pk]) in page
    assert reverse("production:signup_create", args=[day.pk]) in page

    # Signing up from the home page comes back to it.
    response = librarian_client.post(
        reverse("production:signup_create", args=[day.pk]),
        {"membership": world.librarian.memberships.get().pk, "next": reverse("home")},
    )
    assert response["Location"] == reverse("home")
    assert "Signed up from your library" in librarian_client.get(reverse("home")).text


def test_coordinator_home_shows_reviews_open_days_and_concept_gaps(world: World, coordinator_client: Client) -> None:
    IdeaFactory(library=world.library, title="Venter på svar")
    day = RecordingDayFactory(county=world.county, host_library=world.library, capacity=2)
    SlotFactory(recording_day=day, idea=IdeaFactory(library=world.library, status=Idea.Status.PLANNED))
    full = RecordingDayFactory(county=world.county, host_library=world.other_library, capacity=1)
    SlotFactory(recording_day=full, idea=IdeaFactory(library=world.library, status=Idea.Status.PLANNED))
    ConceptFactory(county=world.county, name="Fredagstipset", cadence_rule="FREQ=WEEKLY;BYDAY=FR")
    page = coordinator_client.get(reverse("home")).text
    assert "Venter på svar" in page
    assert reverse("production:recording_day_detail", args=[day.pk]) in page
    assert "1 of 2 recordings planned" in page
    assert reverse("production:recording_day_detail", args=[full.pk]) not in page
    assert page.count("Fredagstipset") == 4  # every Friday in the next four weeks


def test_editor_home_shows_ideas_waiting_for_review(world: World, editor_client: Client) -> None:
    IdeaFactory(library=world.library, title="Venter på svar")
    assert "Venter på svar" in editor_client.get(reverse("home")).text


def test_editor_home_lists_the_ten_oldest_ideas_waiting_and_counts_them_all(
    world: World, editor_client: Client
) -> None:
    now = timezone.now()
    for n in range(12):
        idea = IdeaFactory(library=world.library, title=f"Idé nummer {n:02}")
        Idea.objects.filter(pk=idea.pk).update(created_at=now - timedelta(days=20 - n))  # 00 is the oldest
    IdeaFactory(library=world.library, title="Allerede godtatt", status=Idea.Status.ACCEPTED)
    IdeaFactory(library=LibraryFactory(county=world.other_county), title="Annet fylke")

    page = editor_client.get(reverse("home")).text

    assert "12 ideas wait for review, oldest first:" in page
    shown = [f"Idé nummer {n:02}" for n in range(12) if f"Idé nummer {n:02}" in page]
    assert shown == [f"Idé nummer {n:02}" for n in range(10)]
    assert page.index("Idé nummer 00") < page.index("Idé nummer 09")
    assert world.library.name in page
    assert "Allerede godtatt" not in page
    assert "Annet fylke" not in page


@pytest.mark.parametrize("persona", ["coordinator", "editor", "librarian"])
def test_home_query_count_does_not_grow(world: World, persona: str, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import client_for

    client = client_for(getattr(world, persona))

    def more() -> None:
        library = LibraryFactory(county=world.county)
        IdeaFactory(library=world.library, concept=ConceptFactory(county=world.county))
        IdeaFactory(library=library)
        day = RecordingDayFactory(county=world.county, host_library=library)
        SlotFactory(recording_day=day, idea=IdeaFactory(library=world.library, status=Idea.Status.PLANNED))
        SignupFactory(recording_day=day, library=world.library, person=UserFactory())

    more()
    client.get(reverse("home"))  # the first visit keeps the user's access and the county's libraries in the cache
    # The user (the memberships and MFA check come with the cached access); the coordinator's ideas waiting,
    # days with open slots, concept gaps, expiring consents, lists of posts, comments and the channel (the
    # libraries and invitations are cached: tests/publishing/test_home_queries.py); an editor's ideas
    # waiting, their library's ideas (with the counts per status), the next day, its sign-ups, the sign-up
    # form's people, the lists of posts (with those coming up) and comments; a librarian's the same but the
    # ideas waiting and the comments, and the posts coming up on their own. 20 allowed before issue 18.
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("home"))
    queries = len(few.captured_queries)  # a request empties the log they are read from
    for _ in range(8):
        more()
    client.get(reverse("home"))  # a new library moves the county's access: read again once
    with django_assert_max_num_queries(queries):
        assert client.get(reverse("home")).status_code == 200
