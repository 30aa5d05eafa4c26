"""Outcomes beyond likes: logged on a published post's page; who logs, changes and deletes which; what is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from libraries.access import require_role
from libraries.models import AuditEntry, Library, Role, User
from publishing.access import get_outcome_for_user, outcome_libraries_for
from publishing.models import Outcome, Post
from tests.conftest import World, client_for
from tests.factories.libraries import LibraryFactory, MembershipFactory, UserFactory
from tests.factories.publishing import make_post
from tests.factories.reports import outcome, published_post

pytestmark = pytest.mark.django_db

Kind = Outcome.Kind


@pytest.fixture
def post(world: World) -> Post:
    return published_post(
        county=world.county,
        author=world.editor,
        title="Påskekrim",
        at=timezone.now() - timedelta(days=5),
        collaborators=[world.library],
    )


def log_url(post: Post) -> str:
    return reverse("publishing:outcome_create", args=[post.pk])


def today(days: int = 0) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def form(library: Library, **fields: object) -> dict[str, object]:
    return {"kind": Kind.LOANS, "quantity": "7", "note": "", "library": library.pk, "happened_on": today(-1)} | fields


# --- The gate ---


def request_for(rf: RequestFactory, user: User):  # type: ignore[no-untyped-def]
    request = rf.get("/")
    request.user = user
    request.session = SessionStore()
    return request


def test_librarians_log_for_their_own_libraries_and_editors_for_any(world: World, rf: RequestFactory) -> None:
    librarian = require_role(request_for(rf, world.librarian))
    assert list(outcome_libraries_for(librarian)) == [world.library]
    for staff in (world.editor, world.coordinator):
        county_access = require_role(request_for(rf, staff))
        assert set(outcome_libraries_for(county_access)) == {
            world.county_library,
            world.library,
            world.other_library,
        }
    outsider = require_role(request_for(rf, world.outsider))
    assert list(outcome_libraries_for(outsider)) == [world.other_county_library]


def test_outcome_gate_lets_librarians_change_only_their_own_librarys(
    world: World, post: Post, rf: RequestFactory
) -> None:
    own = outcome(post, library=world.library, kind=Kind.LOANS, on=timezone.localdate(), quantity=3)
    other = outcome(post, library=world.other_library, kind=Kind.LOANS, on=timezone.localdate(), quantity=3)

    assert get_outcome_for_user(request_for(rf, world.librarian), own.pk)[1] == own
    with pytest.raises(PermissionDenied):
        get_outcome_for_user(request_for(rf, world.librarian), other.pk)
    for staff in (world.editor, world.coordinator):
        assert get_outcome_for_user(request_for(rf, staff), other.pk)[1] == other
    with pytest.raises(Http404):
        get_outcome_for_user(request_for(rf, world.outsider), own.pk)


# --- Logging ---


def test_librarian_logs_an_outcome_for_their_library(world: World, post: Post, librarian_client: Client) -> None:
    response = librarian_client.post(log_url(post), form(world.library, note="Sju lån første uke"))

    assert response.status_code == 302
    assert response["Location"] == reverse("publishing:post_detail", args=[post.pk]) + "#outcomes"
    logged = Outcome.objects.get()
    assert (logged.post, logged.library, logged.kind, logged.quantity, logged.note, logged.logged_by) == (
        post,
        world.library,
        Kind.LOANS,
        7,
        "Sju lån første uke",
        world.librarian,
    )
    entry = AuditEntry.objects.get(action="outcome.logged")
    assert (entry.actor, entry.object_id, entry.data["post"]) == (world.librarian, str(logged.pk), post.pk)


def test_librarian_cannot_log_for_another_library(world: World, post: Post, librarian_client: Client) -> None:
    response = librarian_client.post(log_url(post), form(world.other_library))

    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    assert not Outcome.objects.exists()


def test_editor_logs_for_any_library_of_the_county_but_not_another_countys(
    world: World, post: Post, editor_client: Client
) -> None:
    assert editor_client.post(log_url(post), form(world.other_library)).status_code == 302
    foreign = LibraryFactory(county=world.other_county)
    assert editor_client.post(log_url(post), form(foreign)).status_code == 400
    assert list(Outcome.objects.values_list("library", flat=True)) == [world.other_library.pk]


def test_another_countys_post_does_not_exist(world: World, post: Post, outsider_client: Client) -> None:
    assert outsider_client.get(log_url(post)).status_code == 404
    assert outsider_client.post(log_url(post), form(world.other_county_library)).status_code == 404
    assert not Outcome.objects.exists()


def test_outcomes_are_logged_for_published_posts_only(world: World, editor_client: Client) -> None:
    scheduled = make_post(county=world.county, author=world.editor, status=Post.Status.SCHEDULED)
    response = editor_client.post(log_url(scheduled), form(world.library))
    assert response.status_code == 400
    assert "Outcomes are logged for published posts." in response.text
    assert not Outcome.objects.exists()


def test_librarians_cannot_reach_drafts_at_all(world: World, librarian_client: Client) -> None:
    draft = make_post(county=world.county, author=world.editor)
    assert librarian_client.post(log_url(draft), form(world.library)).status_code == 404


# --- Validation: clear messages, nothing typed is lost ---


def test_a_number_or_a_note_is_needed_and_what_was_typed_stays(
    world: World, post: Post, librarian_client: Client
) -> None:
    response = librarian_client.post(
        log_url(post), form(world.library, kind=Kind.ATTENDANCE, quantity="", happened_on=today(-2))
    )

    assert response.status_code == 400
    form_shown = response.context["form"]
    assert form_shown.errors["quantity"] == ["Give a number or write a note."]
    assert "Give a number or write a note." in response.text
    assert f'value="{today(-2)}"' in response.text  # the day typed
    assert '<option value="attendance" selected>' in response.text
    assert not Outcome.objects.exists()


def test_a_note_alone_is_enough(world: World, post: Post, librarian_client: Client) -> None:
    response = librarian_client.post(log_url(post), form(world.library, quantity="", note="Rektor ringte"))
    assert response.status_code == 302
    assert Outcome.objects.get().quantity is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"quantity": "-3"}, "quantity", "Ensure this value is greater than or equal to 0."),
        ({"quantity": "mange"}, "quantity", "Enter a whole number."),
        ({"happened_on": "1"}, "happened_on", "Log what has happened: choose today or an earlier day."),
        ({"happened_on": "-30"}, "happened_on", "The post was published on"),
        ({"happened_on": "ikke en dato"}, "happened_on", "Enter a valid date."),
        ({"kind": "likes"}, "kind", "Select a valid choice."),
    ],
)
def test_bad_input_gets_a_clear_message_on_its_field(
    world: World, post: Post, librarian_client: Client, fields: dict[str, str], field: str, message: str
) -> None:
    if fields.get("happened_on", "").lstrip("-").isdigit():
        fields = {**fields, "happened_on": today(int(fields["happened_on"]))}
    response = librarian_client.post(log_url(post), form(world.library, note="Noe skjedde", **fields))

    assert response.status_code == 400
    assert any(error.startswith(message) for error in response.context["form"].errors[field])
    assert "Noe skjedde" in response.text  # the note typed is still there
    assert not Outcome.objects.exists()


# --- Changing and deleting ---


def test_librarian_changes_and_deletes_their_own_librarys_outcome(
    world: World, post: Post, librarian_client: Client
) -> None:
    logged = outcome(post, library=world.library, kind=Kind.LOANS, on=timezone.localdate(), quantity=3)

    edit = reverse("publishing:outcome_edit", args=[logged.pk])
    assert librarian_client.get(edit).status_code == 200
    response = librarian_client.post(
        edit, form(world.library, quantity="9", happened_on=logged.happened_on.isoformat())
    )
    assert response.status_code == 302
    logged.refresh_from_db()
    assert logged.quantity == 9
    assert AuditEntry.objects.get(action="outcome.changed").data["fields"] == ["quantity"]

    response = librarian_client.post(reverse("publishing:outcome_delete", args=[logged.pk]))
    assert response.status_code == 302
    assert not Outcome.objects.exists()
    assert AuditEntry.objects.get(action="outcome.deleted").data["quantity"] == 9


def test_librarian_cannot_change_or_delete_another_librarys_outcome(
    world: World, post: Post, librarian_client: Client
) -> None:
    others = outcome(post, library=world.other_library, kind=Kind.LOANS, on=timezone.localdate(), quantity=3)

    assert librarian_client.get(reverse("publishing:outcome_edit", args=[others.pk])).status_code == 403
    assert (
        librarian_client.post(reverse("publishing:outcome_edit", args=[others.pk]), form(world.library)).status_code
        == 403
    )
    assert librarian_client.post(reverse("publishing:outcome_delete", args=[others.pk])).status_code == 403
    others.refresh_from_db()
    assert (others.library, others.quantity) == (world.other_library, 3)


def test_editors_change_and_delete_any_outcome_and_outsiders_none(
    world: World, post: Post, editor_client: Client, outsider_client: Client
) -> None:
    others = outcome(post, library=world.other_library, kind=Kind.LOANS, on=timezone.localdate(), quantity=3)

    assert outsider_client.post(reverse("publishing:outcome_delete", args=[others.pk])).status_code == 404
    assert outsider_client.get(reverse("publishing:outcome_edit", args=[others.pk])).status_code == 404
    assert editor_client.post(reverse("publishing:outcome_delete", args=[others.pk])).status_code == 302
    assert not Outcome.objects.exists()


def test_a_librarian_of_two_libraries_logs_for_either(world: World, post: Post) -> None:
    both = UserFactory(email="begge@example.org")
    MembershipFactory(user=both, library=world.library, role=Role.LIBRARIAN)
    MembershipFactory(user=both, library=world.other_library, role=Role.LIBRARIAN)
    client = client_for(both)
    assert client.post(log_url(post), form(world.library)).status_code == 302
    assert client.post(log_url(post), form(world.other_library)).status_code == 302
    assert Outcome.objects.count() == 2


# --- On the post page ---


def test_the_post_page_lists_outcomes_with_changes_only_where_allowed(
    world: World, post: Post, librarian_client: Client
) -> None:
    own = outcome(post, library=world.library, kind=Kind.LOANS, on=timezone.localdate(), quantity=3, note="Tre lån")
    others = outcome(post, library=world.other_library, kind=Kind.ATTENDANCE, on=timezone.localdate(), quantity=40)

    page = librarian_client.get(post.get_absolute_url()).text

    assert 'id="outcomes"' in page
    assert "Tre lån" in page
    assert "Attendance" in page
    assert reverse("publishing:outcome_edit", args=[own.pk]) in page
    assert reverse("publishing:outcome_edit", args=[others.pk]) not in page
    assert f'action="{log_url(post)}"' in page
    # The librarian's one library is chosen already.
    assert f'<option value="{world.library.pk}" selected>' in page


def test_posts_not_yet_published_show_no_outcomes(world: World, librarian_client: Client) -> None:
    scheduled = make_post(county=world.county, author=world.editor, status=Post.Status.SCHEDULED)
    assert 'id="outcomes"' not in librarian_client.get(scheduled.get_absolute_url()).text
