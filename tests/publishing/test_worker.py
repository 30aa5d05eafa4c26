"""The whole pipeline with real processes: Celery workers on a Redis of their own, the fake Graph API, the app.

The processes (a redis-server per test, Celery workers with the test
database's environment) come from tests/publishing/workers.py. Instagram (the
fake) downloads the renditions from the live server. Nothing sleeps for a
fixed time: every wait is for a condition, with a deadline.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from libraries.models import AuditEntry
from publishing.models import ArchiveItem, Channel, Post
from publishing.posts import services
from tests.conftest import World
from tests.factories.publishing import make_post
from tests.publishing.fakegraph import TOKEN, FakeGraph, wait_until
from tests.publishing.workers import (
    RedisServer,
    Workers,
    compose_approve_and_schedule,
    published,
    published_notices,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_compose_approve_schedule_tick_and_a_real_worker_publishes_archives_and_notifies(
    world: World, ready_to_compose: dict[str, Any], workers: Workers, fake_graph: FakeGraph, librarian_client: Client
) -> None:
    workers.start()
    post = compose_approve_and_schedule(world, ready_to_compose["reviewer"], ready_to_compose["asset"])

    assert services.enqueue_due_posts() == [post.pk]
    wait_until(published(post), timeout=60, what="the worker to publish the post")

    [media] = fake_graph.media()
    assert (post.media_id, post.permalink) == (media["id"], media["permalink"])
    assert media["caption"].endswith("\n\nInspired by @deichman")
    [item] = ArchiveItem.objects.all()
    assert (item.asset, item.post, item.content_type, item.permalink) == (
        ready_to_compose["asset"],
        post,
        "literature",
        post.permalink,
    )
    wait_until(lambda: published_notices(post).exists(), what="the libraries' e-mail")
    [notice] = published_notices(post)
    assert notice.to == [world.librarian.email]
    assert post.permalink in notice.body
    # A second tick finds nothing due; the fake has one post.
    assert services.enqueue_due_posts() == []
    assert fake_graph.state()["calls"]["publish"] == 1
    # The library follows it from the plan to Instagram.
    assert "Høstens lesetips" in librarian_client.get("/plan/week/").content.decode()
    assert post.permalink in librarian_client.get(f"/posts/{post.pk}/").content.decode()


def test_throttled_then_published_with_celerys_retry(
    world: World, ready_to_compose: dict[str, Any], workers: Workers, fake_graph: FakeGraph
) -> None:
    workers.start()
    post = compose_approve_and_schedule(world, ready_to_compose["reviewer"], ready_to_compose["asset"])
    fake_graph.fault(
        "publish", "error", code=80002, message="There have been too many calls to this Instagram account."
    )

    services.enqueue_due_posts()
    wait_until(published(post), timeout=60, what="the worker to publish after the throttle")

    assert post.rate_limit_waits == 1
    assert len(fake_graph.media()) == 1
    assert fake_graph.state()["calls"]["publish"] == 1  # the throttled call never reached the publishing


def test_a_worker_killed_while_instagram_publishes_is_replaced_and_the_post_appears_once(
    world: World, ready_to_compose: dict[str, Any], workers: Workers, fake_graph: FakeGraph, settings
) -> None:  # type: ignore[no-untyped-def]
    # A short lease, so that the post is taken up again soon after its worker died.
    short_lease = {"PUBLISH_LEASE_SECONDS": "3", "PUBLISH_TASK_TIME_LIMIT": "2"}
    first = workers.start(**short_lease)
    post = compose_approve_and_schedule(world, ready_to_compose["reviewer"], ready_to_compose["asset"])
    # Instagram takes its time over media_publish, then publishes: the answer never reaches the dead worker.
    fake_graph.fault("publish", "hang", seconds=3, apply=True)

    services.enqueue_due_posts()
    wait_until(
        lambda: "publish" not in {f["route"] for f in fake_graph.state()["faults"]},
        timeout=60,
        what="the worker to call media_publish",
    )
    workers.kill(first)
    wait_until(lambda: len(fake_graph.media()) == 1, timeout=20, what="Instagram to finish publishing")
    post.refresh_from_db()
    assert (post.status, post.media_id) == (Post.Status.PUBLISHING, "")  # we never heard back

    workers.start(**short_lease)
    settings.PUBLISH_LEASE_SECONDS = 3

    def taken_up_again() -> bool:
        post.refresh_from_db()
        return post.lease_expires_at is not None and post.lease_expires_at < timezone.now()

    wait_until(taken_up_again, timeout=20, what="the dead worker's lease to run out")
    assert services.enqueue_due_posts() == [post.pk]  # the tick takes up the stranded post
    wait_until(published(post), timeout=60, what="the new worker to finish the post")

    [media] = fake_graph.media()
    assert post.media_id == media["id"]
    assert fake_graph.state()["calls"]["publish"] == 1  # asked for the container's status, not published again
    assert AuditEntry.objects.filter(action="post.published", object_id=str(post.pk)).count() == 1
    wait_until(lambda: published_notices(post).exists(), what="the libraries' e-mail")
    assert published_notices(post).count() == 1


def test_redis_restarting_during_a_run_still_publishes_once(
    world: World, ready_to_compose: dict[str, Any], workers: Workers, fake_graph: FakeGraph, broker: RedisServer
) -> None:
    workers.start()
    post = compose_approve_and_schedule(world, ready_to_compose["reviewer"], ready_to_compose["asset"])
    fake_graph.fault("publish", "hang", seconds=2, apply=True)

    services.enqueue_due_posts()
    wait_until(
        lambda: "publish" not in {f["route"] for f in fake_graph.state()["faults"]},
        timeout=60,
        what="the worker to call media_publish",
    )
    broker.stop()  # Redis goes away while the worker waits for Instagram …
    broker.start()  # … and comes back on the same port with the same data.

    wait_until(published(post), timeout=90, what="the worker to finish the post after Redis came back")
    assert len(fake_graph.media()) == 1
    assert services.enqueue_due_posts() == []
    assert fake_graph.state()["calls"]["publish"] == 1


def due_posts(world: World, asset: Any, reviewer: Any, count: int) -> list[Post]:
    """`count` posts due now, one a second apart in the plan (their order), each with its own caption."""
    start = timezone.now() - timedelta(minutes=5)
    return [
        make_post(
            county=world.county,
            author=world.editor,
            assets=[asset],
            status=Post.Status.SCHEDULED,
            approved_by=reviewer,
            channel=Channel.objects.get(county=world.county),
            title=f"Post {n}",
            caption=f"Boktips nummer {n} #bibliotek",
            scheduled_at=start + timedelta(seconds=n),
        )
        for n in range(count)
    ]


def test_fifty_five_due_with_a_limit_of_fifty_the_last_five_wait_for_the_window_and_none_fails(
    world: World, ready_to_compose: dict[str, Any], workers: Workers, fake_graph: FakeGraph
) -> None:
    window = 60  # Instagram's moving window, shortened (Meta's is 24 hours)
    fake_graph.configure(publish_quota=50, publish_window=window)
    workers.start(PUBLISH_QUOTA_MARGIN_SECONDS="1")
    posts = due_posts(world, ready_to_compose["asset"], ready_to_compose["reviewer"], 55)

    assert services.enqueue_due_posts() == [post.pk for post in posts]

    def quota_waits() -> int:  # handed back by the worker (it writes the wait, then gives the post back with its time)
        return Post.objects.filter(waiting_for=Post.Waiting.QUOTA, lease_token__isnull=True).count()

    wait_until(lambda: quota_waits() == 5 or len(fake_graph.media()) == 55, timeout=120, what="the limit to be met")
    held = list(Post.objects.filter(waiting_for=Post.Waiting.QUOTA).order_by("scheduled_at"))
    assert [post.pk for post in held] == [post.pk for post in posts[50:]]  # the last five in the plan
    assert all(post.next_attempt_at is not None for post in held)
    assert len(fake_graph.media()) == 50

    wait_until(
        lambda: Post.objects.filter(status=Post.Status.PUBLISHED).count() == 55,
        timeout=window * 3,
        what="the held posts to go out as the window moves on",
    )
    assert not Post.objects.filter(status=Post.Status.FAILED).exists()
    media = sorted(fake_graph.media(), key=lambda m: m["published_at"])
    assert len(media) == 55
    # Never more than fifty in any window: the 51st publish came a window after the first.
    assert all(
        later["published_at"] - earlier["published_at"] >= window
        for earlier, later in zip(media, media[50:], strict=False)
    )
    # The held five went out in the plan's order.
    assert [m["caption"] for m in media[50:]] == [post.caption for post in posts[50:]]
    assert fake_graph.state()["calls"]["publish"] == 55  # no media_publish was refused or repeated


def test_a_token_expiring_with_posts_due_holds_them_all_until_the_reconnect_then_they_go_out_in_order(
    world: World, ready_to_compose: dict[str, Any], workers: Workers, fake_graph: FakeGraph
) -> None:
    workers.start()
    posts = due_posts(world, ready_to_compose["asset"], ready_to_compose["reviewer"], 3)
    fake_graph.token(TOKEN, state="expired")

    services.enqueue_due_posts()

    def all_waiting() -> bool:
        return Post.objects.filter(waiting_for=Post.Waiting.CONNECTION).count() == 3

    wait_until(all_waiting, timeout=60, what="every post to wait for the connection")
    channel = Channel.objects.get(county=world.county)
    assert channel.status == Channel.Status.RECONNECT_REQUIRED
    assert not Post.objects.filter(status=Post.Status.FAILED).exists()
    assert services.enqueue_due_posts() == []  # nothing is handed over while the channel is stopped

    fake_graph.token(TOKEN, state="valid", expires_in=None)  # the coordinator connects Instagram again
    Channel.objects.filter(pk=channel.pk).update(status=Channel.Status.CONNECTED, connected_at=timezone.now())
    assert services.enqueue_due_posts() == [post.pk for post in posts]
    for post in posts:
        wait_until(published(post), timeout=60, what=f"{post.title} to go out after the reconnect")

    media = sorted(fake_graph.media(), key=lambda m: (m["published_at"], m["id"]))
    assert [m["caption"] for m in media] == [post.caption for post in posts]
    assert not AuditEntry.objects.filter(action="post.failed").exists()


def test_a_lost_answer_and_a_failing_media_list_never_fail_a_published_post(
    world: World, ready_to_compose: dict[str, Any], workers: Workers, fake_graph: FakeGraph
) -> None:
    workers.start(PUBLISH_MAX_ATTEMPTS="2")
    [post] = due_posts(world, ready_to_compose["asset"], ready_to_compose["reviewer"], 1)
    fake_graph.fault("publish", "drop", apply=True)  # Instagram publishes; the answer never arrives
    # Then listing the account's media, to find it, fails again and again (Meta's transient error).
    fake_graph.fault("list_media", "error", code=2, message="An unexpected error has occurred.", times=4)

    services.enqueue_due_posts()
    wait_until(published(post), timeout=90, what="the post to be found and finished")

    [media] = fake_graph.media()
    assert post.media_id == media["id"]
    assert int(post.published_at.timestamp()) == int(media["published_at"])  # Instagram's time
    assert fake_graph.state()["calls"]["publish"] == 1
    assert "list_media" not in {f["route"] for f in fake_graph.state()["faults"]}  # all four failures were met
    assert not AuditEntry.objects.filter(action="post.failed").exists()
