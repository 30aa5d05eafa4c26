"""The post page follows the worker: while a post is scheduled or being published its status part asks
for itself again, and shows the new state (published with its link, failed with why, back to review,
what it waits for) without a reload; in a final state it stops asking. The same gate as the page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from publishing.models import Post
from tests.conftest import World, client_for
from tests.factories.publishing import ChannelFactory, make_post, second_editor

HTMX = {"HX-Request": "true"}


def _scheduled(world: World) -> Post:
    return make_post(
        county=world.county,
        author=world.editor,
        approved_by=second_editor(world.county_library),
        status=Post.Status.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(minutes=10),
        channel=ChannelFactory(county=world.county),
    )


def _poll_url(html: str) -> str:
    """The URL the status part asks next (htmx's hx-get on #post-status), or "" when it does not ask."""
    part = re.search(r'<div id="post-status"[^>]*>', html)
    assert part is not None
    asks = re.search(r'hx-get="([^"]+)" hx-trigger="every (\d)s"', part.group(0))
    if asks is None:
        return ""
    assert 2 <= int(asks.group(2)) <= 5
    return asks.group(1).replace("&amp;", "&")


def test_a_scheduled_post_page_asks_for_its_status_and_shows_it_published_with_the_link(world: World) -> None:
    post = _scheduled(world)
    client = client_for(world.editor)
    url = _poll_url(client.get(post.get_absolute_url()).text)
    assert url.startswith(reverse("publishing:post_status", args=[post.pk]))

    # Nothing changed: nothing to redraw, and the page keeps asking.
    unchanged = client.get(url, headers=HTMX)
    assert unchanged.status_code == 204

    Post.objects.filter(pk=post.pk).update(
        status=Post.Status.PUBLISHED,
        media_id="17900000000000001",
        permalink="https://www.instagram.com/p/ABC123/",
        published_at=timezone.now(),
        publish_step=Post.Step.NOTIFIED,
    )
    published = client.get(url, headers=HTMX)
    assert published.status_code == 200
    assert "<html" not in published.text
    assert "data-post-status>Published<" in published.text
    assert 'href="https://www.instagram.com/p/ABC123/"' in published.text
    assert 'hx-swap-oob="innerHTML:#post-status-announcer"' in published.text
    # The actions on the page were for a scheduled post: the person is offered a reload.
    assert "Reload the page to see what can be done now." in published.text
    # Published with its link: final, it stops asking.
    assert _poll_url(published.text) == ""


def test_the_status_part_shows_a_failure_and_stops_asking(world: World) -> None:
    post = _scheduled(world)
    client = client_for(world.editor)
    url = _poll_url(client.get(post.get_absolute_url()).text)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.FAILED, failure_reason="The token has expired.")
    failed = client.get(url, headers=HTMX).text
    assert "Publishing failed." in failed
    assert "The token has expired." in failed
    assert _poll_url(failed) == ""


def test_the_status_part_shows_what_a_publishing_post_waits_for_and_keeps_asking(world: World) -> None:
    post = _scheduled(world)
    client = client_for(world.editor)
    url = _poll_url(client.get(post.get_absolute_url()).text)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING, waiting_for=Post.Waiting.CONNECTION)
    waiting = client.get(url, headers=HTMX).text
    assert "data-post-status>Publishing<" in waiting
    assert "Waiting for the Instagram connection" in waiting
    again = _poll_url(waiting)
    assert again
    assert client.get(again, headers=HTMX).status_code == 204

    Post.objects.filter(pk=post.pk).update(status=Post.Status.IN_REVIEW, waiting_for="")
    back = client.get(again, headers=HTMX).text
    assert "data-post-status>Waiting for approval<" in back
    assert _poll_url(back) == ""


def test_a_published_post_without_its_link_yet_asks_until_the_link_is_there(world: World) -> None:
    post = _scheduled(world)
    Post.objects.filter(pk=post.pk).update(
        status=Post.Status.PUBLISHED, media_id="1790001", publish_step=Post.Step.PUBLISHED
    )
    client = client_for(world.editor)
    assert _poll_url(client.get(post.get_absolute_url()).text)


@pytest.mark.parametrize(
    "status", [Post.Status.DRAFT, Post.Status.IN_REVIEW, Post.Status.APPROVED, Post.Status.CANCELLED]
)
def test_a_post_nothing_moves_by_itself_does_not_ask_at_all(world: World, status: str) -> None:
    post = make_post(county=world.county, author=world.editor, status=status)
    page = client_for(world.editor).get(post.get_absolute_url()).text
    assert _poll_url(page) == ""
    assert 'hx-trigger="every' not in page


def test_the_status_part_is_cheap(world: World, editor_client: Client, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    post = _scheduled(world)
    url = reverse("publishing:post_status", args=[post.pk])
    # The session and its user, the memberships (the county access), the post with its county.
    with django_assert_max_num_queries(4):
        assert editor_client.get(url, headers=HTMX).status_code == 200


def test_a_librarian_follows_a_scheduled_post_too(world: World, librarian_client: Client) -> None:
    post = _scheduled(world)
    response = librarian_client.get(reverse("publishing:post_status", args=[post.pk]), headers=HTMX)
    assert response.status_code == 200
    assert "Scheduled" in response.text


def test_the_status_part_keeps_the_pages_gate(world: World, outsider_client: Client, client: Client) -> None:
    post = _scheduled(world)
    url = reverse("publishing:post_status", args=[post.pk])
    assert outsider_client.get(url, headers=HTMX).status_code == 404
    anonymous = client.get(url, headers=HTMX)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("account_login"))
    # A librarian sees only the plan: a draft is not theirs to see, here as on the page.
    draft = make_post(county=world.county, author=world.editor, title="Utkast")
    librarian = client_for(world.librarian)
    assert librarian.get(draft.get_absolute_url()).status_code == 404
    assert librarian.get(reverse("publishing:post_status", args=[draft.pk]), headers=HTMX).status_code == 404
