"""The permission gate for publishing (libraries/access.py): posts and the channel, role by role, county by county."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse

from libraries.models import Role, User
from publishing.access import get_channel_for_user, get_post_for_user, posts_for_user
from publishing.models import Post
from tests.conftest import World, client_for
from tests.factories.publishing import ChannelFactory, make_post

pytestmark = pytest.mark.django_db


def request_for(rf: RequestFactory, user: User):  # type: ignore[no-untyped-def]
    request = rf.get("/")
    request.user = user
    request.session = SessionStore()
    return request


@pytest.fixture
def posts(world: World) -> dict[str, Post]:
    return {
        "draft": make_post(county=world.county, author=world.editor, title="Utkast"),
        "scheduled": make_post(county=world.county, author=world.editor, status=Post.Status.SCHEDULED),
        "foreign": make_post(county=world.other_county, author=world.outsider, status=Post.Status.SCHEDULED),
    }


def test_editors_get_every_post_of_their_county(world: World, posts: dict[str, Post], rf: RequestFactory) -> None:
    for user in (world.editor, world.coordinator):
        request = request_for(rf, user)
        assert get_post_for_user(request, posts["draft"].pk, role=Role.EDITOR) == posts["draft"]
        assert get_post_for_user(request, posts["scheduled"].pk) == posts["scheduled"]


def test_librarians_get_only_the_plan_and_nothing_to_change(
    world: World, posts: dict[str, Post], rf: RequestFactory
) -> None:
    request = request_for(rf, world.librarian)

    assert get_post_for_user(request, posts["scheduled"].pk) == posts["scheduled"]
    with pytest.raises(Http404):
        get_post_for_user(request, posts["draft"].pk)
    with pytest.raises(PermissionDenied):
        get_post_for_user(request, posts["scheduled"].pk, role=Role.EDITOR)
    _access, visible = posts_for_user(request)
    assert list(visible) == [posts["scheduled"]]


def test_another_countys_post_does_not_exist(world: World, posts: dict[str, Post], rf: RequestFactory) -> None:
    for user in (world.coordinator, world.editor, world.librarian):
        with pytest.raises(Http404):
            get_post_for_user(request_for(rf, user), posts["foreign"].pk)


def test_channel_is_the_coordinators_and_of_their_own_county(world: World, rf: RequestFactory) -> None:
    ours = ChannelFactory(county=world.county)
    ChannelFactory(county=world.other_county)

    assert get_channel_for_user(request_for(rf, world.coordinator))[1] == ours
    for user in (world.editor, world.librarian):
        with pytest.raises(PermissionDenied):
            get_channel_for_user(request_for(rf, user))
    # An editor may read it where a page needs to know whether Instagram is connected.
    assert get_channel_for_user(request_for(rf, world.editor), role=Role.EDITOR)[1] == ours


def test_every_editor_page_refuses_librarians_and_hides_other_counties(world: World, posts: dict[str, Post]) -> None:
    post = posts["scheduled"]
    pages = [
        ("get", reverse("publishing:post_create")),
        ("get", reverse("publishing:post_edit", args=[post.pk])),
        ("post", reverse("publishing:post_submit", args=[post.pk])),
        ("post", reverse("publishing:post_approve", args=[post.pk])),
        ("post", reverse("publishing:post_approve_alone", args=[post.pk])),
        ("post", reverse("publishing:post_mark_reviewed", args=[post.pk])),
        ("post", reverse("publishing:post_return", args=[post.pk])),
        ("post", reverse("publishing:post_schedule", args=[post.pk])),
        ("post", reverse("publishing:post_unschedule", args=[post.pk])),
        ("post", reverse("publishing:post_cancel", args=[post.pk])),
        ("post", reverse("publishing:post_move", args=[post.pk])),
    ]
    librarian, outsider = client_for(world.librarian), client_for(world.outsider)
    for method, url in pages:
        assert getattr(librarian, method)(url).status_code == 403, url
        if "/posts/new/" not in url:
            assert getattr(outsider, method)(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_log_in(posts: dict[str, Post], client) -> None:  # type: ignore[no-untyped-def]
    for url in ("/posts/", "/plan/", "/plan/week/", "/channel/", f"/posts/{posts['scheduled'].pk}/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"], url
