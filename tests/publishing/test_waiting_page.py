"""A post the worker holds, on its page: what it waits for and when; the editor cannot take it back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import formats, timezone

from publishing.models import Post
from publishing.posts import services
from tests.conftest import World, client_for
from tests.factories.publishing import ChannelFactory, make_post, second_editor


def _held(world: World, **fields: object) -> Post:
    post = make_post(
        county=world.county,
        author=world.editor,
        approved_by=second_editor(world.county_library),
        status=Post.Status.SCHEDULED,
        scheduled_at=timezone.now() - timedelta(minutes=5),
        channel=ChannelFactory(county=world.county),
    )
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING, **fields)
    post.refresh_from_db()
    return post


@pytest.mark.parametrize("days", [0, 1, 2])
def test_the_daily_limit_note_says_when_the_next_try_is_in_the_languages_format(world: World, days: int) -> None:
    later = timezone.localtime().replace(hour=14, minute=5, second=0, microsecond=0) + timedelta(days=days)
    post = _held(world, waiting_for=Post.Waiting.QUOTA, next_attempt_at=later)

    page = client_for(world.editor).get(f"/posts/{post.pk}/").content.decode()

    when = {0: "14:05", 1: "tomorrow 14:05", 2: formats.date_format(later, "SHORT_DATETIME_FORMAT")}[days]
    assert f"Waiting for Instagram&#x27;s daily limit — next try {when}" in page
    assert "goes out by itself when the wait above is over" in page
    assert "The post is being published now." not in page


def test_an_editor_cannot_send_a_post_being_published_back_for_approval(world: World) -> None:
    post = _held(world, waiting_for=Post.Waiting.QUOTA, next_attempt_at=timezone.now() + timedelta(hours=1))
    client = client_for(world.editor)

    assert "Ask for approval" not in client.get(f"/posts/{post.pk}/").content.decode()
    client.post(f"/posts/{post.pk}/submit/")

    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHING
    with pytest.raises(ValidationError):
        services.submit_post(by=world.editor, post=post)
