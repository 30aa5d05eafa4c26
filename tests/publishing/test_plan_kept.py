"""The publishing plan is rendered once for everyone of a role in the county at the same address and kept
until the next write (publishing.views.plan._kept_plan, libraries.http.kept_part).

Committed writes here, so that what is kept is what everyone sees.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from libraries.models import Role
from publishing.models import Channel, Post
from tests.conftest import World, client_for
from tests.factories.publishing import ChannelFactory, make_post
from tests.kept import colleague, form_token, kept_page
from tests.publishing.test_plan import at

pytestmark = pytest.mark.django_db(transaction=True)

MAY = "/plan/?month=2031-05"


def test_a_second_editor_gets_the_kept_plan_and_moves_a_post_with_their_own_token(world: World) -> None:
    post = make_post(
        county=world.county,
        author=world.editor,
        title="Maitips",
        status=Post.Status.SCHEDULED,
        scheduled_at=at(date(2031, 5, 5), 9, 30),
    )
    assert "Maitips" in client_for(world.editor).get(MAY).text
    other = colleague(world, Role.EDITOR, "Eva Redaktør")
    page = kept_page(other, MAY)  # the plan's queries (posts, slots, the day's limits, the filters' choices)
    assert "Maitips" in page
    token = form_token(page)

    moved = other.post(f"/posts/{post.pk}/move/", {"at": "2031-05-06T18:15", "csrfmiddlewaretoken": token})

    assert moved.status_code == 302  # the reader's own token, not the one the plan was rendered with
    post.refresh_from_db()
    assert timezone.localtime(post.scheduled_at) == at(date(2031, 5, 6), 18, 15)
    days = other.get(MAY).text.split('data-plan-date="2031-05-06"')[1].split("data-plan-date")[0]
    assert "Maitips" in days  # the move is shown at once


def test_librarians_and_editors_each_see_their_own_kept_plan(world: World) -> None:
    make_post(county=world.county, author=world.editor, title="Utkast i mai", scheduled_at=at(date(2031, 5, 7)))
    editor, librarian = client_for(world.editor), client_for(world.librarian)
    for client in (editor, librarian, editor, librarian):
        page = client.get(MAY).text

    assert "Utkast i mai" in editor.get(MAY).text
    assert "Utkast i mai" not in page  # a librarian sees the plan, not the drafts
    assert "Utkast i mai" not in librarian.get(f"{MAY}&status=draft").text

    Post.objects.filter(title="Utkast i mai").update(status=Post.Status.SCHEDULED)  # no signal

    assert "Utkast i mai" in librarian.get(MAY).text


def test_a_kept_plan_says_a_post_waits_for_instagram_once_its_time_has_come_without_a_write(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = ChannelFactory(county=world.county, status=Channel.Status.RECONNECT_REQUIRED)
    due = timezone.now() + timedelta(minutes=2)
    make_post(
        county=world.county,
        author=world.editor,
        title="Snart",
        status=Post.Status.SCHEDULED,
        scheduled_at=due,
        channel=channel,
    )
    editor = client_for(world.editor)
    month = f"/plan/?month={timezone.localtime(due):%Y-%m}"
    assert "Waiting for the Instagram connection" not in editor.get(month).text  # kept now

    monkeypatch.setattr(timezone, "now", lambda: due + timedelta(minutes=1))  # nothing written meanwhile

    assert "Waiting for the Instagram connection" in editor.get(month).text
