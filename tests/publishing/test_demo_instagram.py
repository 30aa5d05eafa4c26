"""`make run`'s demo on the fake Graph API: its published posts and comments exist there, so replying,
reading insights and pulling comments work on them; and the fake's audience comments on new posts."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from libraries.models import User
from publishing.followup import comments
from publishing.instagram.client import Client
from publishing.models import InstagramComment, Post
from tests.publishing.conftest import MediaServer
from tests.publishing.fakegraph import IG_USER_ID, FakeGraph, wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_on_the_fake(settings, fake_graph: FakeGraph) -> FakeGraph:  # type: ignore[no-untyped-def]
    settings.GRAPH_API_URL = fake_graph.url
    call_command("load_demo", verbosity=0)
    call_command("demo_instagram", verbosity=0)
    return fake_graph


def test_the_demos_published_posts_and_their_threads_are_on_the_fake(demo_on_the_fake: FakeGraph) -> None:
    state = demo_on_the_fake.state()
    media = {m["id"]: m for m in state["media"]}
    fake_comments = {c["id"]: c for c in state["comments"]}
    published = list(Post.objects.filter(status=Post.Status.PUBLISHED, permalink__contains="/p/DEMO"))
    assert published
    for post in published:
        assert post.media_id in media
        assert post.permalink.rstrip("/").endswith(media[post.media_id]["shortcode"])
    stored = list(InstagramComment.objects.filter(post__in=published).select_related("parent"))
    assert stored
    for comment in stored:
        on_fake = fake_comments[comment.comment_id]
        assert (on_fake["text"], on_fake["username"]) == (comment.text, comment.username)
        assert on_fake["parent_id"] == (comment.parent.comment_id if comment.parent else None)

    # Again (every `make run`): nothing new while the fake remembers.
    call_command("demo_instagram", verbosity=0)
    assert len(demo_on_the_fake.state()["media"]) == len(media)


def test_a_demo_comment_can_be_answered_and_the_pull_agrees_with_the_demo(demo_on_the_fake: FakeGraph) -> None:
    waiting = InstagramComment.objects.from_followers().unanswered().select_related("post__channel").first()
    assert waiting is not None
    editor = User.objects.get(email="redaktor@rogaland.example")
    comments.reply_to_comment(by=editor, comment=waiting, text="Takk for spørsmålet!")
    waiting.refresh_from_db()
    assert waiting.status == InstagramComment.Status.REPLIED
    before = InstagramComment.objects.count()
    comments.pull_comments()
    # The fake holds the same threads: pulling them finds nothing the demo did not already have.
    assert InstagramComment.objects.count() == before


def test_the_fakes_audience_comments_on_a_new_post(
    fake_graph: FakeGraph, graph: Client, media_server: MediaServer
) -> None:
    fake_graph.configure(audience_after=0.05)
    container_id = graph.create_image_container(IG_USER_ID, image_url=media_server.url("square.jpg"), caption="Nytt!")
    media_id = graph.publish(IG_USER_ID, container_id)

    wait_until(lambda: bool(graph.list_comments(media_id).comments), what="a follower's comment")
    [comment] = graph.list_comments(media_id).comments
    assert comment.text
    assert comment.username
