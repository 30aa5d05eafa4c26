"""After publishing: posts that are live on the fake Instagram, and their comments."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from django.utils import timezone

from libraries.models import County
from publishing.instagram.client import Client
from publishing.models import Channel, InstagramComment, Post
from tests.conftest import World
from tests.factories.publishing import make_asset, make_post
from tests.publishing.conftest import MediaServer
from tests.publishing.fakegraph import IG_USER_ID

_comment_ids = itertools.count(18000000000000001)


def media_on_fake(graph: Client, media_server: MediaServer, *, reel: bool = False) -> str:
    """A media published on the fake Instagram (an image, or a reel), so that it has insights and comments."""
    if reel:
        container = graph.create_video_container(IG_USER_ID, video_url=media_server.url("reel.mp4"))
    else:
        container = graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"))
    return graph.publish(IG_USER_ID, container)


def published_post(
    world: World,
    channel: Channel,
    *,
    media_id: str | None = None,
    published_at: datetime | None = None,
    title: str = "Nye bøker",
    with_picture: bool = False,
    **fields: object,
) -> Post:
    """A post as the worker leaves it once published: media id (made up unless given; "" for none, as the
    demo's), time, the first insights reading an hour on."""
    published_at = published_at or timezone.now() - timedelta(minutes=61)
    assets = [make_asset(county=world.county, library=world.library)] if with_picture else []
    return make_post(
        county=world.county,
        author=world.editor,
        assets=assets,
        status=Post.Status.PUBLISHED,
        approved_by=world.coordinator,
        channel=channel,
        title=title,
        scheduled_at=published_at,
        media_id=str(next(_comment_ids)) if media_id is None else media_id,
        permalink="https://www.instagram.com/p/fake/",
        published_at=published_at,
        publish_step=Post.Step.NOTIFIED,
        **{"insights_due_at": published_at + timedelta(hours=1), **fields},  # type: ignore[arg-type]
    )


def comment_on(
    post: Post,
    *,
    text: str = "Når åpner dere på lørdag?",
    username: str = "reader",
    ago: timedelta = timedelta(hours=3),
    at: datetime | None = None,
    county: County | None = None,
    **fields: object,
) -> InstagramComment:
    """A follower's comment as a pull would have stored it, written `ago` (or `at`)."""
    return InstagramComment.objects.create(
        county=county or post.county,
        post=post,
        comment_id=str(next(_comment_ids)),
        username=username,
        text=text,
        commented_at=at or timezone.now() - ago,
        **fields,  # type: ignore[arg-type]
    )
