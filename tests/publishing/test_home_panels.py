"""What the home's cards show, and that what it keeps in the cache follows every write at once.

The user's libraries come with their access (libraries.access), the county's member libraries and pending
invitations from libraries.overview; the editor's three lists of posts are read in one query.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from libraries.models import Invitation, Library, Membership, Role
from libraries.overview import county_libraries
from production.models import Idea
from publishing.models import Post
from tests.conftest import World, client_for, enable_mfa
from tests.factories.libraries import InvitationFactory, LibraryFactory
from tests.factories.production import IdeaFactory
from tests.factories.publishing import make_post

pytestmark = pytest.mark.django_db


def card(page: str, heading_id: str) -> str:
    """The text of the home's card (or section) with this heading."""
    match = re.search(rf'aria-labelledby="{heading_id}">(.*?)</section>', page, re.S)
    assert match, f"no card {heading_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def test_your_libraries_are_listed_with_your_role_in_each_and_follow_a_role_change(
    world: World, coordinator_client: Client
) -> None:
    Membership.objects.create(user=world.librarian, library=world.other_library, role=Role.EDITOR)
    enable_mfa(world.librarian)  # an editor must have a second factor
    librarian = client_for(world.librarian)

    mine = card(librarian.get(reverse("home")).text, "my-libraries-heading")
    assert "Sandnes bibliotek Librarian" in mine
    assert "Sola bibliotek Editor" in mine
    assert mine.index("Sandnes") < mine.index("Sola")

    membership = world.librarian.memberships.get(library=world.library)
    coordinator_client.post(reverse("libraries:membership_role", args=[membership.pk]), {"role": Role.EDITOR})

    assert "Sandnes bibliotek Editor" in card(librarian.get(reverse("home")).text, "my-libraries-heading")


def test_the_coordinators_cards_show_each_invitation_and_library_change_at_once(
    world: World, coordinator_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    def invitations() -> str:
        return card(coordinator_client.get(reverse("home")).text, "pending-heading")

    def libraries() -> str:
        return card(coordinator_client.get(reverse("home")).text, "instagram-heading")

    assert "Everyone you invited has joined." in invitations()
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(
            reverse("libraries:invitations"),
            {"email": "ny@sandnes.example", "name": "Nina", "library": world.library.pk, "role": Role.LIBRARIAN},
        )
    assert "ny@sandnes.example · Sandnes bibliotek" in invitations()
    coordinator_client.post(reverse("libraries:invitation_revoke", args=[Invitation.objects.get().pk]))
    assert "ny@sandnes.example" not in invitations()  # revoked by an UPDATE

    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(
            reverse("libraries:invitations"),
            {"email": "per@sola.example", "name": "Per", "library": world.other_library.pk, "role": Role.LIBRARIAN},
        )
    assert "per@sola.example" in invitations()
    link = re.search(r"http://testserver(/invitation/[^/\s]+/)", mail.outbox[-1].body).group(1)  # type: ignore[union-attr]
    Client().post(link, {"name": "Per", "password1": "en-god-frase-42", "password2": "en-god-frase-42"})
    assert "per@sola.example" not in invitations()  # accepted by an UPDATE

    assert "0 of 2 member libraries" in libraries()
    coordinator_client.post(
        reverse("libraries:create"),
        {"name": "Klepp bibliotek", "municipality": "Klepp", "instagram_username": "", "is_active": "on"},
    )
    assert "1 of 3 member libraries" in libraries()
    assert "Klepp bibliotek" in libraries()
    klepp = Library.objects.get(name="Klepp bibliotek")
    klepp.instagram_username = "kleppbibliotek"
    klepp.save()
    assert "0 of 3 member libraries" in libraries()


def test_an_invitation_leaves_the_card_when_it_expires_without_a_write(
    world: World, coordinator_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    soon = InvitationFactory(library=world.library, email="snart@sandnes.example")
    later = InvitationFactory(
        library=world.library, email="seinere@sandnes.example", expires_at=soon.expires_at + timedelta(days=1)
    )
    assert [i.email for i in county_libraries(world.county).invitations] == [later.email, soon.email]

    after = soon.expires_at + timedelta(seconds=1)
    monkeypatch.setattr("libraries.overview.timezone.now", lambda: after)

    assert [i.email for i in county_libraries(world.county).invitations] == [later.email]


def test_the_home_lists_the_newest_ten_pending_invitations(world: World, coordinator_client: Client) -> None:
    now = timezone.now()
    for n in range(12):
        InvitationFactory(library=world.library, email=f"ny{n}@sandnes.example", sent_at=now - timedelta(hours=n))

    shown = card(coordinator_client.get(reverse("home")).text, "pending-heading")

    assert all(f"ny{n}@" in shown for n in range(10))
    assert "ny10@" not in shown
    assert "ny11@" not in shown


def test_the_editors_lists_show_the_first_eight_in_order_and_how_many_there_are(world: World) -> None:
    now = timezone.now()

    def post(title: str, status: str, changed_minutes_ago: int, **fields: object) -> None:
        made = make_post(county=world.county, author=world.editor, title=title, status=status, **fields)
        Post.objects.filter(pk=made.pk).update(status_changed_at=now - timedelta(minutes=changed_minutes_ago))

    for n in range(10):
        post(f"Til godkjenning {n}", Post.Status.IN_REVIEW, 100 - n)  # 0 has waited longest
        post(f"Feilet {n}", Post.Status.FAILED, 100 - n)  # 9 failed last
    for n in range(3):
        post(
            f"Holdt {n}",
            Post.Status.PUBLISHING,
            1,
            scheduled_at=now - timedelta(minutes=30 - n),
            waiting_for=Post.Waiting.QUOTA,
            next_attempt_at=now + timedelta(hours=1),
        )
    post("Holdt uten grunn", Post.Status.PUBLISHING, 1, scheduled_at=now, waiting_for=Post.Waiting.NOTHING)
    make_post(county=world.other_county, author=world.outsider, title="Annet fylke", status=Post.Status.IN_REVIEW)

    context = client_for(world.editor).get(reverse("home")).context

    assert [p.title for p in context["posts_awaiting_approval"]] == [f"Til godkjenning {n}" for n in range(8)]
    assert context["posts_awaiting_approval_count"] == 10
    assert [p.title for p in context["failed_posts"]] == [f"Feilet {n}" for n in range(9, 1, -1)]
    assert [p.title for p in context["waiting_posts"]] == ["Holdt 0", "Holdt 1", "Holdt 2"]
    assert context["waiting_posts_count"] == 3
    assert all(p.created_by == world.editor for p in context["posts_awaiting_approval"])


def test_editors_and_librarians_see_the_soonest_eight_posts_coming_up(world: World) -> None:
    """For an editor they come with the editor's other lists (one query); the coordinator's home has none."""
    now = timezone.now()
    for n in (5, 2, 9, 1, 7, 3, 8, 4, 6, 10):
        make_post(
            county=world.county,
            author=world.editor,
            title=f"Kommer {n}",
            status=Post.Status.SCHEDULED,
            scheduled_at=now + timedelta(hours=n),
        )
    make_post(
        county=world.county,
        author=world.editor,
        title="Forbi",
        status=Post.Status.SCHEDULED,
        scheduled_at=now - timedelta(minutes=5),
    )
    make_post(county=world.county, author=world.editor, title="Utkast", scheduled_at=now + timedelta(minutes=5))
    make_post(
        county=world.other_county,
        author=world.outsider,
        title="Annet fylke",
        status=Post.Status.SCHEDULED,
        scheduled_at=now + timedelta(minutes=5),
    )

    for user in (world.editor, world.librarian):
        page = client_for(user).get(reverse("home"))
        assert [post.title for post in page.context["upcoming_posts"]] == [f"Kommer {n}" for n in range(1, 9)]
        assert "Kommer 8" in card(page.text, "upcoming-posts-heading")
    assert "upcoming_posts" not in client_for(world.coordinator).get(reverse("home")).context


def test_a_librarys_ideas_are_counted_per_status_beside_the_newest_ten(world: World) -> None:
    statuses = [Idea.Status.SUBMITTED] * 7 + [Idea.Status.ACCEPTED] * 4 + [Idea.Status.USED]
    for n, status in enumerate(statuses):
        IdeaFactory(library=world.library, title=f"Idé {n}", status=status)
    IdeaFactory(library=world.other_library, title="Solas idé", status=Idea.Status.DECLINED)

    page = client_for(world.librarian).get(reverse("home"))

    assert len(page.context["my_ideas"]) == 10
    assert page.context["my_idea_counts"] == [("Submitted", 7), ("Accepted", 4), ("Used", 1)]
    assert "Submitted: 7" in card(page.text, "my-ideas-heading")
    assert "Solas idé" not in page.text


def test_the_editors_lists_are_empty_when_nothing_waits(world: World) -> None:
    LibraryFactory(county=world.county)
    context = client_for(world.editor).get(reverse("home")).context

    assert (context["posts_awaiting_approval"], context["posts_awaiting_approval_count"]) == ([], 0)
    assert (context["failed_posts"], context["waiting_posts"], context["waiting_posts_count"]) == ([], [], 0)
