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


def follow_up_counts() -> dict[str, int]:
    from libraries.models import AuditEntry
    from publishing.models import AccountSnapshot, ArchiveReuse, InsightSnapshot, InstagramComment, Outcome

    models = (InsightSnapshot, AccountSnapshot, InstagramComment, Outcome, ArchiveReuse, AuditEntry)
    return {m.__name__: m.objects.count() for m in models}


def test_demo_has_months_of_follow_up_for_the_archive_the_inbox_and_the_report(
    django_capture_on_commit_callbacks,
) -> None:
    from datetime import timedelta

    from django.core import mail
    from django.utils import timezone

    from libraries.models import County
    from publishing.followup import reports
    from publishing.models import AccountSnapshot, ArchiveReuse, InsightSnapshot, InstagramComment

    # What the demo would do after its commit runs too: it must not e-mail anyone.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", verbosity=0)
    rogaland = County.objects.get(slug="rogaland")

    # Last month's report (the page's default) has posts with insights, libraries, followers, outcomes.
    report = reports.build_report(county=rogaland, month=reports.Month.last())
    assert report.posts_published >= 2
    assert report.reach.value
    assert report.engagement.value
    assert len(report.libraries_taking_part) >= 2
    assert report.followers.change is not None
    assert report.replies.comments
    assert report.outcomes
    # Insights were read in rounds; the newest post has none yet (the report says so).
    assert InsightSnapshot.objects.values("round").distinct().count() == 4
    assert Post.objects.filter(status=Post.Status.PUBLISHED, insight_snapshots__isnull=True).exists()
    assert AccountSnapshot.objects.filter(channel__county=rogaland).count() >= 60
    # The inbox: answered comments with the account's reply, and some waiting for hours or for days.
    waiting = InstagramComment.objects.for_county(rogaland).from_followers().unanswered()
    ages = [comment.age() for comment in waiting]
    assert min(ages) < timedelta(hours=1).total_seconds()
    assert max(ages) > timedelta(days=7).total_seconds()
    assert InstagramComment.objects.filter(from_account=True, parent__first_reply_at__isnull=False).exists()
    # The archive: varied, searchable items, one blocked by a withdrawn consent, reuses recorded.
    items = ArchiveItem.objects.for_county(rogaland)
    assert items.count() >= 8
    assert not items.filter(search_document__isnull=True).exists()
    assert items.blocked().exists()
    assert len({kind for kind in items.values_list("content_type", flat=True) if kind}) == 3
    assert ArchiveReuse.objects.filter(item__county=rogaland).count() >= 2
    assert items.filter(reuse_count__gt=0).exists()
    assert ArchiveReuse.objects.filter(at__lt=timezone.now() - timedelta(days=1)).exists()  # dated, not "now"
    # Nothing was e-mailed.
    assert mail.outbox == []

    before = follow_up_counts() | counts()
    call_command("load_demo", verbosity=0)
    assert follow_up_counts() | counts() == before


def test_demo_pool_shows_agder_rogalands_photos_whose_people_allow_sharing_and_loading_again_keeps_them() -> None:
    from libraries.models import County
    from publishing.archive.network import search_pool
    from publishing.archive.search import ArchiveFilters
    from publishing.models import SharedItem

    call_command("load_demo", verbosity=0)
    agder = County.objects.get(slug="agder")
    found = search_pool(agder, ArchiveFilters(), page=1)
    assert found.items, "the pool's photos tab is not empty"
    assert all(item.county.slug == "rogaland" and not item.sharing_blocked for item in found.items)
    shared = SharedItem.objects.filter(item__isnull=False).count()
    call_command("load_demo", verbosity=0)
    assert SharedItem.objects.filter(item__isnull=False).count() == shared == found.facets.total
