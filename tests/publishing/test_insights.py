"""Insights about 1 hour, 1 day, 7 and 28 days after publishing, and the followers daily, read from the fake."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.test import Client as DjangoClient
from django.utils import timezone

from publishing import tasks
from publishing.followup import insights
from publishing.instagram.client import Client, media_insight_metrics
from publishing.models import AccountSnapshot, Channel, InsightSnapshot, Post
from tests.conftest import World
from tests.factories.followup import comment_on, media_on_fake, published_post
from tests.factories.publishing import ChannelFactory
from tests.publishing.conftest import MediaServer
from tests.publishing.fakegraph import TOKEN, FakeGraph

METRICS = ["reach", "likes", "comments", "saved", "shares", "total_interactions", "views"]


@pytest.fixture
def media_id(graph: Client, media_server: MediaServer) -> str:
    return media_on_fake(graph, media_server)


def readings(post: Post) -> list[tuple[str, int | None]]:
    return list(post.insight_snapshots.order_by("taken_at", "pk").values_list("round", "reach"))


@pytest.mark.parametrize(
    ("version", "product_type", "expected"),
    [
        ("v25.0", "FEED", "views"),
        ("v22.0", "REELS", "views"),
        ("v21.0", "FEED", "impressions"),
        ("v21.0", "REELS", "plays"),
    ],
)
def test_the_metrics_asked_for_follow_the_graph_version_and_the_product_type(
    version: str, product_type: str, expected: str
) -> None:
    metrics = media_insight_metrics(version, product_type)

    assert expected in metrics
    assert {"reach", "likes", "comments", "saved", "shares", "total_interactions"} <= set(metrics)
    assert not {"views", "impressions", "plays"} - {expected} & set(metrics)


@pytest.mark.django_db
def test_the_due_reading_is_read_from_instagram_and_stored_once_however_often_the_task_runs(
    world: World, channel: Channel, fake_graph: FakeGraph, graph: Client, media_id: str
) -> None:
    post = published_post(world, channel, media_id=media_id)
    fake_graph.advance_clock(2 * 3600)  # Instagram has data an hour after publishing
    on_instagram = graph.get_insights(media_id, METRICS)

    assert tasks.read_due_insights.apply().get() == 1
    assert tasks.read_due_insights.apply().get() == 0

    [reading] = post.insight_snapshots.all()
    assert reading.round == InsightSnapshot.Round.HOUR
    assert reading.values == on_instagram
    assert (reading.reach, reading.views, reading.likes, reading.saved) == (
        on_instagram["reach"],
        on_instagram["views"],
        on_instagram["likes"],
        on_instagram["saved"],
    )
    post.refresh_from_db()
    assert post.insights == on_instagram
    assert post.insights_read_at == reading.taken_at
    assert post.insights_round == 1
    assert post.insights_due_at == post.published_at + timedelta(days=1)
    assert fake_graph.state()["calls"]["insights"] == 2  # ours, and the one above


@pytest.mark.django_db
def test_readings_go_hour_day_week_month_and_end_after_four_weeks(
    world: World, channel: Channel, fake_graph: FakeGraph, media_id: str
) -> None:
    post = published_post(world, channel, media_id=media_id)
    fake_graph.advance_clock(2 * 3600)
    assert post.published_at is not None

    for after in (timedelta(hours=1), timedelta(days=1), timedelta(days=7), timedelta(days=28)):
        now = post.published_at + after + timedelta(minutes=5)
        insights.read_due_insights(now=now)
        insights.read_due_insights(now=now)  # twice: nothing more

    assert [r for r, _reach in readings(post)] == ["hour", "day", "week", "month"]
    post.refresh_from_db()
    assert (post.insights_round, post.insights_due_at) == (4, None)
    assert insights.read_due_insights(now=post.published_at + timedelta(days=60)) == 0


@pytest.mark.django_db
def test_readings_missed_while_the_worker_was_down_are_skipped_not_mislabelled(
    world: World, channel: Channel, fake_graph: FakeGraph, media_id: str
) -> None:
    published_at = timezone.now() - timedelta(days=10)
    post = published_post(world, channel, media_id=media_id, published_at=published_at)
    fake_graph.advance_clock(2 * 3600)

    insights.read_due_insights()

    assert [r for r, _reach in readings(post)] == ["week"]
    post.refresh_from_db()
    assert post.insights_due_at == published_at + timedelta(days=28)


@pytest.mark.django_db
def test_no_data_yet_is_stored_as_missing_not_as_zero(world: World, channel: Channel, media_id: str) -> None:
    post = published_post(world, channel, media_id=media_id)  # the fake has no data in its first hour

    insights.read_due_insights()

    [reading] = post.insight_snapshots.all()
    assert reading.values == {}
    assert [getattr(reading, name) for name in insights.INSIGHT_COLUMNS] == [None] * 7
    assert reading.engagement is None
    post.refresh_from_db()
    assert (post.insights, post.insights_read_at, post.insights_round) == ({}, None, 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "error", "code": 2, "message": "Service temporarily unavailable", "is_transient": True},
        {"kind": "error", "code": 80002, "message": "There have been too many calls.", "regain_minutes": 30},
        {"kind": "status", "status": 502},
    ],
    ids=["transient", "throttled", "bad-gateway"],
)
def test_a_failed_reading_is_tried_again_later_and_the_round_is_kept(
    world: World, channel: Channel, fake_graph: FakeGraph, media_id: str, fault: dict[str, object]
) -> None:
    post = published_post(world, channel, media_id=media_id)
    fake_graph.advance_clock(2 * 3600)
    fake_graph.fault("insights", **fault)  # type: ignore[arg-type]
    before = timezone.now()

    assert insights.read_due_insights() == 0

    post.refresh_from_db()
    assert post.insight_snapshots.count() == 0
    assert post.insights_round == 0
    assert post.insights_due_at is not None
    assert before + timedelta(minutes=4) < post.insights_due_at < before + timedelta(hours=6, minutes=1)

    insights.read_due_insights(now=post.insights_due_at)

    assert [r for r, _reach in readings(post)] == ["hour"]


@pytest.mark.django_db
def test_an_invalid_token_stops_the_channel_and_the_reading_waits_for_it(
    world: World, channel: Channel, fake_graph: FakeGraph, media_id: str
) -> None:
    post = published_post(world, channel, media_id=media_id)
    fake_graph.token(TOKEN, state="invalid", subcode=460)

    insights.read_due_insights()

    channel.refresh_from_db()
    assert channel.status == Channel.Status.RECONNECT_REQUIRED
    post.refresh_from_db()
    assert post.insight_snapshots.count() == 0
    assert post.insights_round == 0
    assert post.insights_due_at is not None
    assert post.insights_due_at <= timezone.now()
    assert insights.read_due_insights() == 0  # not claimed while the channel is stopped


@pytest.mark.django_db
def test_a_media_deleted_on_instagram_ends_the_readings_with_a_log_line(
    world: World, channel: Channel, fake_graph: FakeGraph, media_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    post = published_post(world, channel, media_id=media_id)
    fake_graph.delete(media_id)

    with caplog.at_level(logging.INFO, logger="publishing.followup.insights"):
        insights.read_due_insights()

    post.refresh_from_db()
    assert (post.insights_due_at, post.insight_snapshots.count()) == (None, 0)
    assert f"media {media_id} is gone from Instagram" in caplog.text


@pytest.mark.django_db
def test_an_editor_reads_the_insights_now_from_the_post_page(
    world: World, channel: Channel, fake_graph: FakeGraph, media_id: str, editor_client: DjangoClient
) -> None:
    post = published_post(world, channel, media_id=media_id)
    fake_graph.set_insights(media_id, {"reach": 321, "likes": 12})

    response = editor_client.post(f"/posts/{post.pk}/insights/", follow=True)

    assert "The insights were read from Instagram just now." in response.content.decode()
    [reading] = post.insight_snapshots.all()
    assert (reading.round, reading.reach, reading.likes, reading.views) == ("manual", 321, 12, None)
    post.refresh_from_db()
    assert post.insights == {"reach": 321, "likes": 12}
    assert (post.insights_round, post.insights_due_at) == (0, post.published_at + timedelta(hours=1))

    again = editor_client.post(f"/posts/{post.pk}/insights/", follow=True)

    assert "read less than five minutes ago" in again.content.decode()
    assert post.insight_snapshots.count() == 1


@pytest.mark.django_db
def test_reading_insights_now_says_why_when_instagram_fails(
    world: World, channel: Channel, fake_graph: FakeGraph, media_id: str, editor_client: DjangoClient
) -> None:
    post = published_post(world, channel, media_id=media_id)
    fake_graph.fault("insights", "error", code=80002, message="There have been too many calls.")

    response = editor_client.post(f"/posts/{post.pk}/insights/", follow=True)

    assert "Instagram asks us to slow down. Try again in a few minutes." in response.content.decode()
    assert post.insight_snapshots.count() == 0


@pytest.mark.django_db
def test_librarians_and_other_counties_cannot_read_insights_now(
    world: World, channel: Channel, librarian_client: DjangoClient, outsider_client: DjangoClient
) -> None:
    post = published_post(world, channel)

    assert librarian_client.post(f"/posts/{post.pk}/insights/").status_code == 403
    assert outsider_client.post(f"/posts/{post.pk}/insights/").status_code == 404
    assert post.insight_snapshots.count() == 0


@pytest.mark.django_db
def test_the_post_page_shows_the_readings_as_a_table_and_the_comment_counts(
    world: World, channel: Channel, editor_client: DjangoClient, librarian_client: DjangoClient
) -> None:
    post = published_post(world, channel)
    InsightSnapshot.objects.create(post=post, round="hour", reach=40, likes=3, values={"reach": 40, "likes": 3})
    InsightSnapshot.objects.create(post=post, round="day", reach=250, likes=21, views=600)
    comment_on(post)
    comment_on(post, status="replied")

    page = editor_client.get(f"/posts/{post.pk}/").content.decode()

    assert "What Instagram reported at each reading" in page
    assert '<th scope="col" class="numeric">Reach</th>' in page
    assert "After an hour" in page
    assert "After a day" in page
    assert '<td class="numeric">250</td>' in page
    assert '<span class="visually-hidden">no data</span>' in page  # the hour's views
    assert "2 comments from others" in page
    assert "1 not answered yet" in page
    assert f'href="/inbox/?show=all&amp;post={post.pk}"' in page
    assert "Read insights now" in page

    seen_by_librarian = librarian_client.get(f"/posts/{post.pk}/").content.decode()
    assert '<td class="numeric">250</td>' in seen_by_librarian
    assert "Read insights now" not in seen_by_librarian
    assert "/inbox/" not in seen_by_librarian


@pytest.mark.django_db
def test_followers_are_read_once_a_day_per_connected_channel(
    world: World, channel: Channel, fake_graph: FakeGraph, media_id: str
) -> None:
    fake_graph.set_followers(1500)
    ChannelFactory(county=world.other_county, status=Channel.Status.DISCONNECTED)

    assert tasks.read_followers.apply().get() == 1
    assert tasks.read_followers.apply().get() == 0
    fake_graph.set_followers(1600)
    assert insights.read_followers() == 0  # the same day: still the morning's reading

    [reading] = AccountSnapshot.objects.all()
    assert (reading.channel, reading.day, reading.followers_count, reading.media_count) == (
        channel,
        timezone.localdate(),
        1500,
        1,
    )

    assert insights.read_followers(now=timezone.now() + timedelta(days=1)) == 1
    assert list(AccountSnapshot.objects.order_by("day").values_list("followers_count", flat=True)) == [1500, 1600]


@pytest.mark.django_db
def test_reading_followers_with_a_dead_token_stops_the_channel(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    fake_graph.token(TOKEN, state="invalid", subcode=460)

    assert insights.read_followers() == 0

    channel.refresh_from_db()
    assert channel.status == Channel.Status.RECONNECT_REQUIRED
    assert not AccountSnapshot.objects.exists()
