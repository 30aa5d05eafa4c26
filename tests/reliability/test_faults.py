"""Faults with real processes: Celery workers killed, Redis gone, PostgreSQL connections cut, Instagram misbehaving,
ticks running at once. After each: no post lost, none published twice (media counted on the fake), every state right.

The processes come from tests/publishing/workers.py (a redis-server per
test, `celery worker --pool solo` on the test database), the fake Graph API
from tests/publishing/conftest.py; nothing of our own is mocked. Leases are
3 seconds here (instead of 7 minutes) so that a post a dead worker held is
taken up again within the test.
"""

from __future__ import annotations

import os
import signal
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
import redis
from django.core.files import File
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from libraries.models import AuditEntry, OutboxMessage
from production.models import Asset, Idea
from production.processing import inspection
from production.services import media as asset_services
from publishing.models import Channel, Post
from publishing.posts import services
from tests.conftest import World, client_for
from tests.factories.production import IdeaFactory
from tests.factories.publishing import make_post
from tests.production.test_decoding import write_large_png
from tests.publishing.fakegraph import FakeGraph, wait_until
from tests.publishing.workers import (
    RedisServer,
    Workers,
    _database_url,
    compose_approve_and_schedule,
    published,
    published_notices,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SHORT_LEASE = {"PUBLISH_LEASE_SECONDS": "3", "PUBLISH_TASK_TIME_LIMIT": "2"}
WORKER_DB_NAME = "innspill-test-worker"


@pytest.fixture
def short_lease(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The tick in this process and the workers agree on a 3 s lease."""
    settings.PUBLISH_LEASE_SECONDS = 3
    return SHORT_LEASE


def fault_taken(fake: FakeGraph, route: str) -> Any:
    """True once the fake has used up the fault queued for `route` (the worker is inside that call)."""
    return lambda: route not in {fault["route"] for fault in fake.state()["faults"]}


def lease_run_out(post: Post) -> Any:
    def check() -> bool:
        post.refresh_from_db()
        held_until = post.lease_expires_at or (
            post.next_attempt_at + timedelta(seconds=3) if post.next_attempt_at else None
        )
        return held_until is not None and held_until < timezone.now()

    return check


def assert_published_once(post: Post, fake: FakeGraph) -> None:
    """One media on Instagram with this caption, the post knows it, one audit entry, one e-mail per library."""
    post.refresh_from_db()
    assert (post.status, post.publish_step) == (Post.Status.PUBLISHED, Post.Step.NOTIFIED)
    mine = [media for media in fake.media() if media["caption"] == post.full_caption]
    assert [media["id"] for media in mine] == [post.media_id]
    assert AuditEntry.objects.filter(action="post.published", object_id=str(post.pk)).count() == 1
    wait_until(lambda: published_notices(post).exists(), what="the libraries' e-mail")
    assert published_notices(post).count() == 1


def terminate_worker_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            [WORKER_DB_NAME],
        )
        return int(cursor.fetchone()[0])


# --- A worker dies ---


@pytest.mark.parametrize(
    ("route", "what"),
    [
        ("create_container", "Instagram made the container, the worker never stored its id"),
        ("container_status", "the worker was reading whether Instagram had processed the media"),
        ("media", "the post was live and stored; the worker was reading its permalink"),
    ],
)
def test_a_worker_killed_at_any_step_is_replaced_and_the_post_appears_once(
    route: str,
    what: str,
    world: World,
    ready_to_compose: dict[str, Any],
    workers: Workers,
    fake_graph: FakeGraph,
    short_lease: dict[str, str],
) -> None:
    first = workers.start(**short_lease)
    post = compose_approve_and_schedule(world, ready_to_compose["reviewer"], ready_to_compose["asset"])
    # The call takes its time, and Instagram carries it out; the worker is killed while it waits.
    fake_graph.fault(route, "hang", seconds=2, apply=True)

    services.enqueue_due_posts()
    wait_until(fault_taken(fake_graph, route), timeout=60, what=f"the worker to call {route}")
    workers.kill(first)
    post.refresh_from_db()
    assert post.publish_step != Post.Step.NOTIFIED, what
    assert post.status == (Post.Status.PUBLISHED if route == "media" else Post.Status.PUBLISHING), what

    workers.start(**short_lease)
    wait_until(lease_run_out(post), timeout=20, what="the dead worker's lease to run out")
    assert services.enqueue_due_posts() == [post.pk]  # the tick takes the stranded post up again
    wait_until(published(post), timeout=60, what="the new worker to finish the post")

    assert_published_once(post, fake_graph)
    assert fake_graph.state()["calls"]["publish"] == 1


# --- PostgreSQL drops the worker's connection ---


def test_the_database_dropping_the_workers_connection_mid_publish_loses_nothing_and_publishes_once(
    world: World,
    ready_to_compose: dict[str, Any],
    workers: Workers,
    fake_graph: FakeGraph,
    short_lease: dict[str, str],
) -> None:
    database_url = f"{_database_url()}?application_name={WORKER_DB_NAME}"
    worker = workers.start(**short_lease, DATABASE_URL=database_url)
    post = compose_approve_and_schedule(world, ready_to_compose["reviewer"], ready_to_compose["asset"])
    fake_graph.fault("publish", "hang", seconds=2, apply=True)

    services.enqueue_due_posts()
    wait_until(fault_taken(fake_graph, "publish"), timeout=60, what="the worker to call media_publish")
    # While Instagram publishes, PostgreSQL ends the worker's session (a failover, an administrator, a restart).
    assert terminate_worker_backends() >= 1
    wait_until(lambda: len(fake_graph.media()) == 1, timeout=20, what="Instagram to finish publishing")
    # The worker could not store the media id: the post is still publishing, held by a lease that runs out.
    post.refresh_from_db()
    assert (post.status, post.media_id) == (Post.Status.PUBLISHING, "")

    wait_until(lease_run_out(post), timeout=20, what="the lease to run out")
    assert services.enqueue_due_posts() == [post.pk]
    # The same worker process carries on with a new connection, asks Instagram, and finds the media.
    wait_until(published(post), timeout=60, what="the worker to recover the post on a new connection")
    assert worker.poll() is None
    assert_published_once(post, fake_graph)
    assert fake_graph.state()["calls"]["publish"] == 1
    assert "recovered" in workers.logs()


# --- Redis ---


def test_redis_down_when_the_tick_hands_posts_over_strands_nothing(
    world: World,
    ready_to_compose: dict[str, Any],
    workers: Workers,
    fake_graph: FakeGraph,
    broker: RedisServer,
    short_lease: dict[str, str],
) -> None:
    """The tick commits "publishing", then cannot enqueue: the post waits, and a later tick hands it over again."""
    post = compose_approve_and_schedule(world, ready_to_compose["reviewer"], ready_to_compose["asset"])
    broker.stop()

    with pytest.raises(Exception, match=r"(?i)connect|refused|redis"):
        services.enqueue_due_posts()
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHING  # committed: the post is not lost with the task
    assert not fake_graph.media()

    broker.start()
    workers.start(**short_lease)
    wait_until(lease_run_out(post), timeout=20, what="the grace period of the lost task")
    assert services.enqueue_due_posts() == [post.pk]
    wait_until(published(post), timeout=60, what="the worker to publish the post")
    assert_published_once(post, fake_graph)


# --- Instagram misbehaves ---


def test_instagram_timeouts_errors_and_throttles_each_cost_a_retry_not_the_post(
    world: World, ready_to_compose: dict[str, Any], workers: Workers, fake_graph: FakeGraph
) -> None:
    workers.start(GRAPH_API_TIMEOUT="2")
    post = compose_approve_and_schedule(world, ready_to_compose["reviewer"], ready_to_compose["asset"])
    faults = [
        ("create_container", {"kind": "status", "status": 500}),  # a bare 500
        ("create_container", {"kind": "drop"}),  # the connection closed without an answer
        ("container_status", {"kind": "hang", "seconds": 4}),  # longer than GRAPH_API_TIMEOUT
        ("container_status", {"kind": "status", "status": 503, "body": "<html>Service Unavailable</html>"}),
        ("publishing_limit", {"kind": "error", "code": 4, "message": "Application request limit reached"}),
        ("publish", {"kind": "error", "code": 2, "message": "Service temporarily unavailable", "is_transient": True}),
        ("media", {"kind": "status", "status": 502}),  # after publishing: the permalink is read again
    ]
    for route, spec in faults:
        fake_graph.fault(route, **spec)

    services.enqueue_due_posts()
    wait_until(published(post), timeout=90, what="the worker to publish through every fault")

    assert not fake_graph.state()["faults"]  # every fault was met
    assert_published_once(post, fake_graph)
    assert fake_graph.state()["calls"]["publish"] == 1
    assert post.rate_limit_waits == 1  # the application limit waited; the rest were retries
    assert post.attempts == 0


def test_instagram_failing_for_good_fails_the_post_with_a_reason_and_it_publishes_once_when_scheduled_again(
    world: World, ready_to_compose: dict[str, Any], workers: Workers, fake_graph: FakeGraph
) -> None:
    workers.start(PUBLISH_MAX_ATTEMPTS="3")
    post = compose_approve_and_schedule(world, ready_to_compose["reviewer"], ready_to_compose["asset"])
    fake_graph.fault("create_container", "status", status=502, times=3)

    services.enqueue_due_posts()

    def failed() -> bool:
        post.refresh_from_db()
        return post.status == Post.Status.FAILED

    wait_until(failed, timeout=60, what="the post to fail")
    assert "502" in post.failure_reason  # the reason, in words, with what Instagram answered
    assert not fake_graph.media()
    # The editor is told why, in the e-mail (the worker writes in the site's language: match the reason).
    wait_until(
        lambda: OutboxMessage.objects.filter(body__contains=post.failure_reason).exists(),
        what="the e-mail to the editor",
    )
    [mail] = OutboxMessage.objects.filter(body__contains=post.failure_reason)
    assert mail.to == [world.editor.email]

    # Instagram is well again; the editor schedules the post once more.
    editor = client_for(world.editor)
    when = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    assert editor.post(f"/posts/{post.pk}/schedule/", {"at": when}).status_code == 302
    assert services.enqueue_due_posts() == [post.pk]
    wait_until(published(post), timeout=60, what="the post to publish after being scheduled again")
    assert_published_once(post, fake_graph)


# --- Two beats (or a slow tick and the next) at once ---


def tick_in_a_thread() -> None:
    try:
        services.enqueue_due_posts()
    finally:
        connection.close()  # the thread's own connection


def test_ticks_running_at_once_hand_each_post_to_the_worker_exactly_once(
    world: World, ready_to_compose: dict[str, Any], workers: Workers, fake_graph: FakeGraph
) -> None:
    """Two beats by mistake send the tick twice a minute: two workers run them at once while this process ticks
    too, and part of the posts is locked by a transaction elsewhere. SKIP LOCKED and the leases must give each post
    to exactly one worker, and every post must be published exactly once."""
    channel = Channel.objects.for_county(world.county).get()  # ready_to_compose connected it
    reviewer, asset = ready_to_compose["reviewer"], ready_to_compose["asset"]
    due = timezone.now() - timedelta(minutes=1)
    posts = [
        make_post(
            county=world.county,
            author=world.editor,
            approved_by=reviewer,
            assets=[asset],
            status=Post.Status.SCHEDULED,
            scheduled_at=due,
            channel=channel,
            title=f"Tips {n}",
            caption=f"Boktips nummer {n} #boktips",
        )
        for n in range(1, 13)
    ]
    locked = sorted(post.pk for post in posts[:4])
    workers.start()
    workers.start()

    from publishing.tasks import enqueue_due_posts

    # Someone else's transaction holds four of the posts (an editor moving them, a slow tick).
    with psycopg.connect(_database_url(), autocommit=False) as other:
        other.execute("SELECT id FROM publishing_post WHERE id = ANY(%s) FOR UPDATE", [locked])
        # Two beats' ticks go to the two workers, and this process ticks at the same moment.
        enqueue_due_posts.delay()
        enqueue_due_posts.delay()
        tick = threading.Thread(target=tick_in_a_thread)
        tick.start()
        tick.join(30)

        def others_taken() -> bool:
            return Post.objects.filter(pk__in=[p.pk for p in posts], status=Post.Status.SCHEDULED).count() == 4

        wait_until(others_taken, timeout=60, what="the ticks to take every post that is not locked")
        # Both queued ticks must have run before the lock goes: one a worker picks up late would take the
        # four posts the moment they are free, before the tick below.
        wait_until(
            lambda: workers.ran("publishing.enqueue_due_posts") == 2, timeout=60, what="both queued ticks to run"
        )
        assert sorted(Post.objects.filter(status=Post.Status.SCHEDULED).values_list("pk", flat=True)) == locked
        other.rollback()

    assert sorted(services.enqueue_due_posts()) == locked  # the next tick takes the rest
    for post in posts:
        wait_until(published(post), timeout=120, what=f"post {post.pk} to be published")
    for post in posts:
        assert AuditEntry.objects.filter(action="post.publishing", object_id=str(post.pk)).count() == 1
        assert_published_once(post, fake_graph)
    assert fake_graph.state()["calls"]["publish"] == len(posts)
    assert len(fake_graph.media()) == len(posts)


# --- Media processing: a file that kills the worker, and a long one beside publishing ---


@pytest.fixture
def slow_photo(world: World, tmp_path: Path) -> Any:
    """Adds a 64-megapixel PNG to an idea (a few seconds of work for the worker), enqueued after the commit."""

    def add() -> Asset:
        source = write_large_png(tmp_path / "poster.png", (8_000, 8_000))
        idea = IdeaFactory(library=world.library, status=Idea.Status.ACCEPTED)
        with source.open("rb") as handle:
            return asset_services.add_asset(
                by=world.editor,
                target=idea,
                source=File(handle, name="poster.png"),
                original_name="poster.png",
                info=inspection.inspect_upload(source),
            )

    return add


def processing_crashes(asset: Asset, count: int) -> Any:
    return lambda: Asset.objects.filter(pk=asset.pk, processing_crashes=count).exists()


def test_a_file_that_kills_the_worker_every_time_fails_after_three_deliveries_instead_of_looping(
    world: World, workers: Workers, broker: RedisServer, slow_photo: Any
) -> None:
    """The worker's task process dies in the middle of the file each time (as when the kernel kills it for its
    memory). The task is acknowledged late and rejected when its worker is lost, so Redis hands it out again at
    once: without a count in the database this went on for ever."""
    worker = workers.start(queues=("media",), pool="prefork")
    asset = slow_photo()

    for crash in (1, 2, 3):
        wait_until(processing_crashes(asset, crash), timeout=120, what=f"delivery {crash} to start the file")
        (child,) = psutil.Process(worker.pid).children()  # the pool process running the task
        child.kill()

    def failed() -> bool:
        asset.refresh_from_db()
        return asset.status == Asset.Status.FAILED

    wait_until(failed, timeout=120, what="the fourth delivery to fail the asset")
    assert asset.processing_error.startswith("This file stopped the worker 3 times"), asset.processing_error
    assert asset.processing_crashes == 0
    # Acknowledged and gone: nothing waits in the queue or unacknowledged for another round.
    queue = redis.Redis.from_url(broker.url)
    wait_until(lambda: queue.llen("media") == 0 and queue.hlen("unacked") == 0, what="the task to be acknowledged")
    page = client_for(world.editor).get(reverse("production:asset_detail", args=[asset.pk]))
    assert "This file stopped the worker 3 times" in page.content.decode()
    assert worker.poll() is None  # the worker itself lives on and takes other work


def test_publishing_goes_on_while_a_media_task_runs(
    world: World, ready_to_compose: dict[str, Any], workers: Workers, fake_graph: FakeGraph, slow_photo: Any
) -> None:
    """Each queue has its worker (as `make run` and docker-compose start them): while the media worker is in
    the middle of a long file (held still here with SIGSTOP, so that it cannot finish first), a due post goes
    out through the publishing worker."""
    media_worker = workers.start(queues=("celery", "media"))
    workers.start(queues=("publish",))
    asset = slow_photo()
    wait_until(processing_crashes(asset, 1), timeout=120, what="the media worker to start the file")
    os.killpg(media_worker.pid, signal.SIGSTOP)
    try:
        post = compose_approve_and_schedule(world, ready_to_compose["reviewer"], ready_to_compose["asset"])
        services.enqueue_due_posts()
        wait_until(published(post), timeout=60, what="the post to publish beside the media task")
        assert_published_once(post, fake_graph)
        asset.refresh_from_db()
        assert asset.status == Asset.Status.PROCESSING
    finally:
        os.killpg(media_worker.pid, signal.SIGCONT)

    def ready() -> bool:
        asset.refresh_from_db()
        return asset.status == Asset.Status.READY

    wait_until(ready, timeout=120, what="the media task to finish once it may go on")
