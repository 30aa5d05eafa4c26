"""The permission gate for production (libraries/access.py), page by page and role by role."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from libraries.access import county_accesses
from libraries.models import Role
from production.access import (
    get_concept_for_user,
    get_idea_for_user,
    get_recording_day_for_user,
    get_signup_for_user,
    get_slot_for_user,
    libraries_user_may_submit_for,
    memberships_user_may_sign_up,
)
from production.models import Idea, RecordingDay
from tests.conftest import World, client_for
from tests.factories.production import ConceptFactory, IdeaFactory, RecordingDayFactory, SignupFactory, SlotFactory

pytestmark = pytest.mark.django_db


def request_for(rf, user):  # type: ignore[no-untyped-def]
    request = rf.get("/")
    request.user = user
    request.session = SessionStore()
    return request


@pytest.fixture
def things(world: World) -> dict:
    """One of everything in Rogaland: an idea of Sandnes (the librarian's library), a day with a slot and a sign-up."""
    day = RecordingDayFactory(county=world.county, host_library=world.library)
    idea = IdeaFactory(library=world.library, submitted_by=world.librarian)
    return {
        "idea": idea,
        "other_idea": IdeaFactory(library=world.other_library, submitted_by=world.other_librarian),
        "concept": ConceptFactory(county=world.county),
        "day": day,
        "draft": RecordingDayFactory(county=world.county, host_library=world.library, status=RecordingDay.Status.DRAFT),
        "slot": SlotFactory(recording_day=day),
        "signup": SignupFactory(recording_day=day, library=world.other_library, person=world.other_librarian),
    }


def coordinator_pages(things: dict) -> list[tuple[str, str]]:
    day, slot, concept = things["day"], things["slot"], things["concept"]
    return [
        ("get", reverse("production:concept_create")),
        ("post", reverse("production:concept_create")),
        ("get", reverse("production:concept_edit", args=[concept.pk])),
        ("post", reverse("production:concept_edit", args=[concept.pk])),
        ("get", reverse("production:recording_day_create")),
        ("post", reverse("production:recording_day_create")),
        ("get", reverse("production:recording_day_edit", args=[day.pk])),
        ("post", reverse("production:recording_day_edit", args=[day.pk])),
        ("post", reverse("production:recording_day_announce", args=[day.pk])),
        ("post", reverse("production:recording_day_done", args=[day.pk])),
        ("post", reverse("production:slot_create", args=[day.pk])),
        ("get", reverse("production:slot_edit", args=[slot.pk])),
        ("post", reverse("production:slot_edit", args=[slot.pk])),
        ("post", reverse("production:slot_move", args=[slot.pk])),
        ("post", reverse("production:slot_recorded", args=[slot.pk])),
        ("post", reverse("production:slot_remove", args=[slot.pk])),
        ("post", reverse("production:idea_plan", args=[things["idea"].pk])),
        ("post", reverse("production:idea_mark_used", args=[things["idea"].pk])),
    ]


def review_pages(things: dict) -> list[tuple[str, str]]:
    return [
        ("post", reverse("production:idea_accept", args=[things["idea"].pk])),
        ("post", reverse("production:idea_decline", args=[things["idea"].pk])),
    ]


def everyones_pages(things: dict) -> list[tuple[str, str]]:
    return [
        ("get", reverse("production:idea_list")),
        ("get", reverse("production:idea_create")),
        ("get", reverse("production:idea_detail", args=[things["idea"].pk])),
        ("get", reverse("production:idea_detail", args=[things["other_idea"].pk])),
        ("post", reverse("production:idea_comment", args=[things["other_idea"].pk])),
        ("get", reverse("production:concept_list")),
        ("get", reverse("production:concept_detail", args=[things["concept"].pk])),
        ("get", reverse("production:recording_day_list")),
        ("get", reverse("production:recording_day_detail", args=[things["day"].pk])),
        ("get", reverse("production:recording_day_print", args=[things["day"].pk])),
        ("post", reverse("production:signup_create", args=[things["day"].pk])),
        ("get", reverse("production:calendar_month")),
        ("get", reverse("production:calendar_agenda")),
        ("get", reverse("production:calendar_subscription")),
    ]


@pytest.mark.parametrize("persona", ["editor", "librarian"])
def test_only_coordinators_manage_concepts_recording_days_and_run_sheets(
    world: World, things: dict, persona: str
) -> None:
    client = client_for(getattr(world, persona))
    for method, url in coordinator_pages(things):
        assert getattr(client, method)(url).status_code == 403, (persona, method, url)


def test_librarians_cannot_review_ideas(world: World, things: dict, librarian_client: Client) -> None:
    for method, url in review_pages(things):
        assert getattr(librarian_client, method)(url).status_code == 403, (method, url)
    assert Idea.objects.get(pk=things["idea"].pk).status == Idea.Status.SUBMITTED


@pytest.mark.parametrize("persona", ["coordinator", "editor", "librarian"])
def test_everyone_in_the_county_reaches_the_shared_pages(world: World, things: dict, persona: str) -> None:
    client = client_for(getattr(world, persona))
    for method, url in everyones_pages(things):
        response = getattr(client, method)(url)
        # Empty POSTs are rejected forms (400); never 403 or 404.
        assert response.status_code in {200, 400}, (persona, method, url, response.status_code)


def test_coordinator_reaches_every_coordinator_page(world: World, things: dict, coordinator_client: Client) -> None:
    for method, url in coordinator_pages(things) + review_pages(things):
        response = getattr(coordinator_client, method)(url)
        assert response.status_code in {200, 302, 400}, (method, url, response.status_code)


def test_anonymous_visitors_are_sent_to_login(world: World, things: dict) -> None:
    for method, url in everyones_pages(things) + coordinator_pages(things) + review_pages(things):
        response = getattr(Client(), method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("account_login"))


def test_another_countys_objects_are_404(world: World, things: dict, outsider_client: Client) -> None:
    """The Agder coordinator gets 404 for anything in Rogaland: not even its existence shows."""
    pages = [
        (method, url)
        for method, url in everyones_pages(things) + coordinator_pages(things) + review_pages(things)
        if any(ch.isdigit() for ch in url)
    ]
    assert len(pages) == 23
    for method, url in pages:
        assert getattr(outsider_client, method)(url).status_code == 404, (method, url)
    withdraw = reverse("production:signup_withdraw", args=[things["signup"].pk])
    assert outsider_client.post(withdraw).status_code == 404


def test_nothing_of_another_county_is_listed(world: World, things: dict, outsider_client: Client) -> None:
    agder_day = RecordingDayFactory(county=world.other_county, host_library=world.other_county_library)
    pages = [
        reverse("production:idea_list"),
        reverse("production:concept_list"),
        reverse("production:recording_day_list"),
        reverse("production:calendar_month") + f"?month={things['day'].date:%Y-%m}",
        reverse("production:calendar_agenda"),
        reverse("home"),
    ]
    for url in pages:
        text = outsider_client.get(url).text
        assert things["idea"].title not in text, url
        assert things["other_idea"].title not in text, url
        assert things["concept"].name not in text, url
        assert world.library.name not in text, url  # the Rogaland days' host
    days = outsider_client.get(reverse("production:recording_day_list")).text
    assert reverse("production:recording_day_detail", args=[agder_day.pk]) in days


def test_librarian_cannot_change_another_librarys_idea(world: World, things: dict, librarian_client: Client) -> None:
    other = things["other_idea"]
    edit = reverse("production:idea_edit", args=[other.pk])
    assert librarian_client.get(edit).status_code == 403
    response = librarian_client.post(
        edit, {"title": "Kapret", "pitch": "x", "content_type": "offers", "audiences": ["adults"]}
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.title != "Kapret"
    # The idea is visible, but its page offers no edit link.
    page = librarian_client.get(reverse("production:idea_detail", args=[other.pk])).text
    assert edit not in page


def test_librarian_changes_own_idea_only_while_it_waits_for_review(
    world: World, things: dict, librarian_client: Client
) -> None:
    idea = things["idea"]
    edit = reverse("production:idea_edit", args=[idea.pk])
    assert librarian_client.get(edit).status_code == 200
    Idea.objects.filter(pk=idea.pk).update(status=Idea.Status.ACCEPTED)
    assert librarian_client.get(edit).status_code == 403


def test_coordinator_changes_any_idea_in_the_county(world: World, things: dict, coordinator_client: Client) -> None:
    Idea.objects.filter(pk=things["other_idea"].pk).update(status=Idea.Status.ACCEPTED)
    assert coordinator_client.get(reverse("production:idea_edit", args=[things["other_idea"].pk])).status_code == 200


def test_draft_days_are_hidden_from_librarians(
    world: World, things: dict, librarian_client: Client, editor_client: Client
) -> None:
    draft = reverse("production:recording_day_detail", args=[things["draft"].pk])
    assert librarian_client.get(draft).status_code == 404
    assert editor_client.get(draft).status_code == 200


def test_librarian_withdraws_only_own_librarys_signups(world: World, things: dict, librarian_client: Client) -> None:
    other_signup = things["signup"]  # Sola's
    assert librarian_client.post(reverse("production:signup_withdraw", args=[other_signup.pk])).status_code == 403
    own = SignupFactory(recording_day=things["day"], library=world.library, person=world.librarian)
    assert librarian_client.post(reverse("production:signup_withdraw", args=[own.pk])).status_code == 302


def test_access_functions_scope_by_county_and_role(world: World, things: dict, rf) -> None:  # type: ignore[no-untyped-def]
    librarian, coordinator, outsider = (
        request_for(rf, u) for u in (world.librarian, world.coordinator, world.outsider)
    )
    idea, other = things["idea"], things["other_idea"]

    assert get_idea_for_user(librarian, other.pk) == other
    assert get_idea_for_user(librarian, idea.pk, for_change=True) == idea
    with pytest.raises(PermissionDenied):
        get_idea_for_user(librarian, other.pk, for_change=True)
    with pytest.raises(PermissionDenied):
        get_idea_for_user(librarian, idea.pk, role=Role.EDITOR)
    assert get_idea_for_user(coordinator, other.pk, for_change=True) == other
    with pytest.raises(Http404):
        get_idea_for_user(outsider, idea.pk)

    with pytest.raises(Http404):
        get_recording_day_for_user(librarian, things["draft"].pk)
    assert get_recording_day_for_user(coordinator, things["draft"].pk) == things["draft"]
    with pytest.raises(Http404):
        get_recording_day_for_user(outsider, things["day"].pk, role=Role.COORDINATOR)

    with pytest.raises(PermissionDenied):
        get_slot_for_user(librarian, things["slot"].pk)
    assert get_slot_for_user(coordinator, things["slot"].pk) == things["slot"]
    with pytest.raises(Http404):
        get_slot_for_user(outsider, things["slot"].pk)

    assert get_concept_for_user(librarian, things["concept"].pk, role=Role.LIBRARIAN) == things["concept"]
    with pytest.raises(PermissionDenied):
        get_concept_for_user(librarian, things["concept"].pk)
    with pytest.raises(Http404):
        get_concept_for_user(outsider, things["concept"].pk)

    with pytest.raises(PermissionDenied):
        get_signup_for_user(librarian, things["signup"].pk)
    assert get_signup_for_user(coordinator, things["signup"].pk) == things["signup"]
    with pytest.raises(Http404):
        get_signup_for_user(outsider, things["signup"].pk)


def test_who_may_be_signed_up_and_for_which_libraries_ideas_are_submitted(world: World) -> None:
    librarian = county_accesses(world.librarian)[0]
    coordinator = county_accesses(world.coordinator)[0]
    assert {m.user for m in memberships_user_may_sign_up(librarian)} == {world.librarian}
    assert {m.user for m in memberships_user_may_sign_up(coordinator)} == {
        world.coordinator,
        world.editor,
        world.librarian,
        world.other_librarian,
    }
    assert list(libraries_user_may_submit_for(librarian)) == [world.library]
    assert set(libraries_user_may_submit_for(coordinator)) == {
        world.county_library,
        world.library,
        world.other_library,
    }


def test_past_days_stay_visible(world: World, librarian_client: Client) -> None:
    past = RecordingDayFactory(
        county=world.county, host_library=world.library, date=timezone.localdate() - timedelta(days=30)
    )
    assert librarian_client.get(reverse("production:recording_day_detail", args=[past.pk])).status_code == 200
