"""The demo (make run) has a connected channel and posts in several states; loading it twice changes nothing."""

import pytest
from django.core.management import call_command

from publishing.models import Approval, ArchiveItem, Channel, Post, PostAsset, PostCollaborator

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Channel, Post, PostAsset, PostCollaborator, Approval, ArchiveItem)}


def test_demo_channel_is_connected_to_the_fake_and_posts_cover_the_review_states() -> None:
    call_command("load_demo", verbosity=0)

    channel = Channel.objects.get(county__slug="rogaland")
    assert (channel.status, channel.account_id, channel.access_token) == (
        Channel.Status.CONNECTED,
        "17841400000000001",
        "fake-token",
    )
    assert set(Post.objects.values_list("status", flat=True)) == {
        Post.Status.DRAFT,
        Post.Status.IN_REVIEW,
        Post.Status.APPROVED,
        Post.Status.SCHEDULED,
        Post.Status.PUBLISHED,
    }
    assert ArchiveItem.objects.filter(post__status=Post.Status.PUBLISHED).exists()

    before = counts()
    call_command("load_demo", verbosity=0)
    assert counts() == before
