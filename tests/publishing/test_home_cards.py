"""The home's county cards are rendered once for everyone of a role in the county and follow every write.

publishing.home.county_cards keeps them under libraries.versions' data version: committed writes here, so
that what is kept is what everyone sees (a test in one transaction never keeps anything).
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from libraries.access import county_accesses
from libraries.models import Membership, Role
from publishing.home import county_cards
from publishing.models import Post
from tests.conftest import World, client_for
from tests.factories.production import IdeaFactory, RecordingDayFactory
from tests.factories.publishing import make_post
from tests.kept import colleague, form_token, kept_page
from tests.publishing.test_home_panels import card

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_coordinator_gets_the_cards_kept_and_sees_a_write_of_any_kind_at_once(world: World) -> None:
    post = make_post(county=world.county, author=world.editor, title="Til godkjenning", status=Post.Status.IN_REVIEW)
    first = client_for(world.coordinator).get(reverse("home"))
    assert "Til godkjenning" in card(first.text, "posts-waiting-heading")

    kari = colleague(world, Role.COORDINATOR, "Kari Koordinator")
    page = kept_page(kari, reverse("home"))  # none of the cards' dozen queries
    assert card(page, "posts-waiting-heading") == card(first.text, "posts-waiting-heading")
    assert "Welcome, Kari" in page  # the page around them is the reader's own

    Post.objects.filter(pk=post.pk).update(title="Nytt navn")  # the worker's kind of write: no signal

    assert "Nytt navn" in card(kari.get(reverse("home")).text, "posts-waiting-heading")


def test_each_role_and_language_has_cards_of_its_own(world: World) -> None:
    make_post(county=world.county, author=world.editor, title="Til godkjenning", status=Post.Status.IN_REVIEW)
    coordinator, editor, librarian = (client_for(user) for user in (world.coordinator, world.editor, world.librarian))
    for client in (coordinator, editor, librarian):
        client.get(reverse("home"))  # rendered and kept for each role

    coordinators = coordinator.get(reverse("home")).text
    editors = editor.get(reverse("home")).text
    librarians = librarian.get(reverse("home")).text

    assert "Invitations not yet accepted" in coordinators
    assert "Invitations not yet accepted" not in editors
    assert "Til godkjenning" in card(editors, "posts-waiting-heading")
    assert "Coming up on Instagram" in editors  # everyone's but the coordinator's
    assert "Coming up on Instagram" not in coordinators
    assert "Posts awaiting approval" not in librarians
    assert "Coming up on Instagram" in librarians

    coordinator.post(reverse("set_language"), {"language": "nb"})
    assert "Innlegg som venter på godkjenning" in coordinator.get(reverse("home")).text
    assert "Posts awaiting approval" in editor.get(reverse("home")).text


def test_a_librarian_gets_their_librarys_cards_kept_and_signs_up_with_their_own_token(world: World) -> None:
    IdeaFactory(library=world.library, title="Vår egen idé")
    IdeaFactory(library=world.other_library, title="Solas idé")
    day = RecordingDayFactory(county=world.county, host_library=world.other_library)
    assert "Vår egen idé" in client_for(world.librarian).get(reverse("home")).text
    client = colleague(world, Role.LIBRARIAN, "Siri Sandnes", library=world.library)
    membership = Membership.objects.get(user__name="Siri Sandnes")
    sola = client_for(world.other_librarian)  # logged in before: a login writes

    page = kept_page(client, reverse("home"))  # the ideas, the next day, its sign-ups and who may sign up

    assert "Welcome, Siri" in page
    assert "Vår egen idé" in page
    assert "Solas idé" not in page
    other_library = sola.get(reverse("home")).text  # nothing written since
    assert "Solas idé" in other_library
    assert "Vår egen idé" not in other_library
    signed_up = client.post(
        reverse("production:signup_create", args=[day.pk]),
        {"membership": membership.pk, "next": reverse("home"), "csrfmiddlewaretoken": form_token(page)},
    )
    assert signed_up.status_code == 302  # the reader's own token, not the one the cards were rendered with
    assert "Signed up from your library: Siri Sandnes" in client.get(reverse("home")).text  # at once
    assert "Signed up from your library" not in sola.get(reverse("home")).text


def test_a_request_that_writes_renders_the_cards_from_its_own_rows_and_keeps_them_for_no_one(world: World) -> None:
    [access] = county_accesses(world.coordinator)
    with transaction.atomic():
        make_post(county=world.county, author=world.editor, title="Ikke lagret", status=Post.Status.IN_REVIEW)
        assert "Ikke lagret" in county_cards(access).cards
        transaction.set_rollback(True)

    assert "Ikke lagret" not in client_for(world.coordinator).get(reverse("home")).text
