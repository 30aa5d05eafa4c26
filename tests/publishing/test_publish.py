"""The publishing worker's state machine against the fake Graph API, in this process.

Instagram (the fake, a real process) downloads each rendition from the live
server at its signed address, as Meta does. Runs are driven by hand with
`publish.run` (one run = one delivery of the task), or through the tick with
Celery eager, so that every step, retry and recovery can be watched.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg
import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from libraries.models import AuditEntry
from production.models import Asset
from publishing import tasks
from publishing.models import ArchiveItem, Channel, Post, PostCollaborator
from publishing.posts import publish, services
from tests.conftest import World, client_for
from tests.factories.libraries import LibraryFactory
from tests.factories.publishing import ChannelFactory, make_asset, make_post, show_person
from tests.publishing.fakegraph import IG_USER_ID, TOKEN, FakeGraph

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def channel(world: World, publishing_setup: FakeGraph) -> Channel:
    return ChannelFactory(county=world.county)


def due_post(world: World, channel: Channel, *, kind: str = "image", count: int = 1, **fields: object) -> Post:
    """A scheduled post whose time has come, that passed every gate."""
    if kind == "reel":
        assets = [make_asset(county=world.county, library=world.library, kind=Asset.Kind.VIDEO)]
    else:
        assets = [make_asset(county=world.county, library=world.library, title=f"Bilde {n}") for n in range(count)]
    for asset in assets:
        show_person(asset)
    return make_post(
        county=world.county,
        author=world.editor,
        assets=assets,
        collaborators=[world.library],
        status=Post.Status.SCHEDULED,
        approved_by=world.coordinator,
        channel=channel,
        **{"scheduled_at": timezone.now() - timedelta(minutes=1), "credit": "Inspired by @deichman", **fields},  # type: ignore[arg-type]
    )


def run_until_settled(post: Post, *, limit: int = 10) -> publish.RunResult:
    """Deliver the task again and again (as Celery's retries would) until it stops asking to."""
    outcome = publish.run(post.pk)
    for _ in range(limit):
        if outcome.retry_in is None:
            return outcome
        outcome = publish.run(post.pk)
    raise AssertionError(f"still retrying after {limit} runs: {outcome}")


def test_tick_hands_the_due_post_to_the_worker_which_publishes_archives_and_notifies_once(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    post = due_post(world, channel)
    later = due_post(world, channel, scheduled_at=timezone.now() + timedelta(hours=2), title="Senere")

    assert services.enqueue_due_posts() == [post.pk]  # eager Celery: the task ran at the commit

    post.refresh_from_db()
    assert (post.status, post.publish_step) == (Post.Status.PUBLISHED, Post.Step.NOTIFIED)
    [media] = fake_graph.media()
    assert post.media_id == media["id"]
    assert post.permalink == media["permalink"]
    assert media["caption"] == "Nye bøker i hylla! #bibliotek #lesetips\n\nInspired by @deichman"
    assert [invite["username"] for invite in media["collaborators"]] == [world.library.instagram_username]
    container = next(c for c in fake_graph.state()["containers"] if c["id"] == post.container_id)
    assert container["alt_text"] == "Fem bøker stablet på et bord i biblioteket."
    assert PostCollaborator.objects.get(post=post).invite_status == PostCollaborator.Invite.PENDING
    [item] = ArchiveItem.objects.all()
    assert (item.post, item.county, item.permalink, item.published_at) == (
        post,
        world.county,
        post.permalink,
        post.published_at,
    )
    assert list(item.libraries.all()) == [world.library]
    [notice] = [m for m in mail.outbox if "On Instagram now" in m.subject]
    assert notice.to == [world.librarian.email]
    assert post.permalink in notice.body
    assert list(
        AuditEntry.objects.filter(object_id=str(post.pk), object_type="publishing.post")
        .order_by("at", "pk")
        .values_list("action", flat=True)
    ) == ["post.publishing", "post.published", "post.libraries_notified"]

    # The tick and the task again: nothing is due, nothing is published twice, nobody is told twice.
    assert services.enqueue_due_posts() == []
    assert tasks.publish_post.apply(args=[post.pk]).get() == "skipped"
    assert publish.run(post.pk).state == "skipped"
    assert len(fake_graph.media()) == 1
    assert fake_graph.state()["calls"]["publish"] == 1
    assert len([m for m in mail.outbox if "On Instagram now" in m.subject]) == 1
    assert ArchiveItem.objects.count() == 1
    later.refresh_from_db()
    assert later.status == Post.Status.SCHEDULED


def test_carousel_items_are_made_in_order_and_published_as_one_album(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    post = due_post(world, channel, count=3)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)

    assert run_until_settled(post).state == "done"

    post.refresh_from_db()
    containers = {c["id"]: c for c in fake_graph.state()["containers"]}
    parent = containers[post.container_id]
    assert parent["media_type"] == "CAROUSEL"
    assert parent["children"] == post.child_container_ids
    assert [containers[child]["is_carousel_item"] for child in post.child_container_ids] == [True] * 3
    [media] = fake_graph.media()
    assert media["media_type"] == "CAROUSEL_ALBUM"
    assert ArchiveItem.objects.filter(post=post).count() == 3


def test_reel_waits_while_instagram_processes_the_video(world: World, channel: Channel, fake_graph: FakeGraph) -> None:
    fake_graph.configure(video_polls=2)
    post = due_post(world, channel, kind="reel")
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)

    first = publish.run(post.pk)
    assert first.state == "retry"
    post.refresh_from_db()
    assert (post.publish_step, post.status_polls) == (Post.Step.CONTAINERS_CREATED, 1)

    assert run_until_settled(post).state == "done"
    [media] = fake_graph.media()
    assert media["media_product_type"] == "REELS"


def test_throttled_publish_backs_off_and_then_succeeds(world: World, channel: Channel, fake_graph: FakeGraph) -> None:
    post = due_post(world, channel)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)
    fake_graph.fault("publish", "error", code=4, message="(#4) Application request limit reached", regain_minutes=2)

    first = publish.run(post.pk)

    assert first.state == "retry"
    assert first.retry_in is not None
    assert 60 <= first.retry_in <= 120
    post.refresh_from_db()
    assert (post.status, post.rate_limit_waits, post.media_id) == (Post.Status.PUBLISHING, 1, "")
    assert post.next_attempt_at is not None

    assert publish.run(post.pk).state == "done"
    assert len(fake_graph.media()) == 1


@pytest.mark.parametrize("code", [17, 32, 613, 80002])
def test_every_throttle_code_is_waited_out(world: World, channel: Channel, fake_graph: FakeGraph, code: int) -> None:
    post = due_post(world, channel)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)
    fake_graph.fault("create_container", "error", code=code, message="Throttled")

    assert publish.run(post.pk).state == "retry"
    assert run_until_settled(post).state == "done"
    assert len(fake_graph.media()) == 1


def test_daily_publishing_quota_is_read_first_and_waited_out(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    fake_graph.configure(publish_quota=1)
    earlier = due_post(world, channel, title="Først")
    post = due_post(world, channel, title="Så", caption="Enda flere bøker")
    Post.objects.update(status=Post.Status.PUBLISHING)
    assert run_until_settled(earlier).state == "done"

    waiting = publish.run(post.pk)

    assert waiting.state == "retry"
    assert waiting.retry_in is not None
    assert waiting.retry_in >= 1800
    assert fake_graph.state()["calls"]["publish"] == 1  # the quota was read; media_publish was not called
    fake_graph.advance_clock(24 * 60 * 60)
    assert publish.run(post.pk).state == "done"
    assert len(fake_graph.media()) == 2


def test_transient_errors_are_retried_and_then_fail_the_post_with_the_reason(
    world: World, channel: Channel, fake_graph: FakeGraph, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLISH_MAX_ATTEMPTS = 3
    post = due_post(world, channel)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)
    fake_graph.fault("create_container", "status", status=503, times=5)

    assert publish.run(post.pk).state == "retry"
    assert publish.run(post.pk).state == "retry"
    assert publish.run(post.pk).state == "failed"

    post.refresh_from_db()
    assert post.status == Post.Status.FAILED
    assert post.failure_reason.startswith("Instagram did not answer properly after 3 tries")
    assert not fake_graph.media()


def test_instagram_refusing_the_media_fails_the_post_with_instagrams_words(
    world: World, channel: Channel, fake_graph: FakeGraph, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    post = due_post(world, channel)
    Asset.objects.update(rendition="")  # made again below, too wide for the feed
    wide = make_asset(county=world.county, library=world.library, size=(2000, 1000), title="Panorama")
    post.post_assets.update(asset=wide)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)

    assert publish.run(post.pk).state == "failed"

    post.refresh_from_db()
    assert post.status == Post.Status.FAILED
    assert post.failure_reason == (
        "Instagram refused the post: The submitted image with aspect ratio ('2000/1000') cannot be published. "
        "Please submit an image with a valid aspect ratio."
    )
    [failure] = [m for m in mail.outbox if "Not published" in m.subject]
    assert failure.to == [world.editor.email]
    page = client_for(world.editor).get(f"/posts/{post.pk}/").content.decode()
    assert "Please submit an image with a valid aspect ratio." in page


def test_an_expired_container_is_replaced_by_a_new_one(world: World, channel: Channel, fake_graph: FakeGraph) -> None:
    post = due_post(world, channel)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)
    fake_graph.fault(
        "publish",
        "error",
        code=-2,
        subcode=2207020,
        message="The media has expired.",
        user_msg="The media you are trying to access has expired. Please try to upload again.",
    )

    assert run_until_settled(post).state == "done"

    post.refresh_from_db()
    assert post.container_rounds == 1
    assert len([c for c in fake_graph.state()["containers"] if not c["is_carousel_item"]]) == 2
    assert len(fake_graph.media()) == 1


def test_expired_token_stops_the_channel_and_tells_the_coordinator(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    post = due_post(world, channel)
    other = due_post(world, channel, title="Også klar")
    fake_graph.token(TOKEN, state="expired")

    services.enqueue_due_posts()  # the first post runs into the dead token (eager Celery)

    channel.refresh_from_db()
    assert channel.status == Channel.Status.RECONNECT_REQUIRED
    post.refresh_from_db()
    other.refresh_from_db()
    statuses = sorted([post.status, other.status])
    assert Post.Status.FAILED in statuses
    [told] = [m for m in mail.outbox if m.subject == "Instagram must be connected again"]
    assert told.to == [world.coordinator.email]
    assert "/channel/" in told.body
    # Nothing more goes out on the channel until it is connected again.
    Post.objects.filter(status=Post.Status.FAILED).update(status=Post.Status.SCHEDULED)
    assert services.enqueue_due_posts() == []
    assert not fake_graph.media()
    page = client_for(world.coordinator).get("/channel/").content.decode()
    assert "Instagram must be connected again." in page


def test_a_publish_whose_answer_was_lost_is_found_and_never_repeated(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    post = due_post(world, channel)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)
    # Instagram publishes, but the answer never arrives.
    fake_graph.fault("publish", "drop", apply=True)

    lost = publish.run(post.pk)

    assert lost.state == "retry"
    post.refresh_from_db()
    assert (post.status, post.media_id) == (Post.Status.PUBLISHING, "")
    assert [attempt["container_id"] for attempt in post.publish_attempts] == [post.container_id]
    [media] = fake_graph.media()

    assert publish.run(post.pk).state == "done"

    post.refresh_from_db()
    assert (post.status, post.media_id) == (Post.Status.PUBLISHED, media["id"])
    assert len(fake_graph.media()) == 1
    assert fake_graph.state()["calls"]["publish"] == 1  # asked, found, not published again


def test_a_failed_post_whose_publish_did_go_through_is_recovered_not_republished(
    world: World, channel: Channel, fake_graph: FakeGraph, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLISH_MAX_ATTEMPTS = 1
    post = due_post(world, channel)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)
    fake_graph.fault("publish", "drop", apply=True)
    assert publish.run(post.pk).state == "failed"
    # An editor changes the caption (new containers) and schedules the post again.
    post.refresh_from_db()
    post.caption = "Ny tekst"
    services.update_post(by=world.editor, post=post, changed=["caption"])
    services.approve_post(by=world.coordinator, post=post)
    services.schedule_post(by=world.editor, post=post, at=timezone.now() + timedelta(seconds=30))
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)

    assert publish.run(post.pk).state == "done"

    assert len(fake_graph.media()) == 1
    assert fake_graph.state()["calls"]["publish"] == 1


def test_a_post_whose_media_may_no_longer_be_published_fails_with_the_reason_before_instagram_is_asked(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    post = due_post(world, channel)
    # Someone recognisable was added after scheduling, without a consent yet (straight in the database,
    # so that nothing pulled the post back): the worker asks the rule again before handing out the address.
    show_person(post.ordered_assets()[0], name="Per", consent=False)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)  # as the tick hands it over

    outcome = run_until_settled(post)

    post.refresh_from_db()
    assert (outcome.state, post.status) == ("failed", Post.Status.FAILED)
    assert post.failure_reason == "“Bilde 0” may not be published: someone shown has no consent on record."
    assert fake_graph.media() == []
    assert not fake_graph.state()["containers"]  # no address was handed out, nothing was made


def test_a_post_held_by_another_worker_is_left_alone(world: World, channel: Channel, fake_graph: FakeGraph) -> None:
    post = due_post(world, channel)
    Post.objects.filter(pk=post.pk).update(
        status=Post.Status.PUBLISHING, lease_expires_at=timezone.now() + timedelta(minutes=5)
    )

    assert publish.run(post.pk).state == "skipped"
    assert "create_container" not in fake_graph.state()["calls"]


def test_tick_skips_posts_another_tick_has_locked(world: World, channel: Channel) -> None:
    post = due_post(world, channel)
    dsn = connection.settings_dict
    locked = threading.Event()
    release = threading.Event()

    def other_tick() -> None:
        with psycopg.connect(
            dbname=dsn["NAME"], user=dsn["USER"], password=dsn["PASSWORD"], host=dsn["HOST"], port=dsn["PORT"]
        ) as other:
            other.execute("SELECT id FROM publishing_post WHERE id = %s FOR UPDATE", [post.pk])
            locked.set()
            release.wait(10)

    thread = threading.Thread(target=other_tick)
    thread.start()
    try:
        assert locked.wait(10)
        assert services.enqueue_due_posts() == []  # SKIP LOCKED: the other tick has it
    finally:
        release.set()
        thread.join()
    post.refresh_from_db()
    assert post.status == Post.Status.SCHEDULED


def test_post_left_behind_by_a_dead_worker_is_taken_up_again(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    post = due_post(world, channel)
    Post.objects.filter(pk=post.pk).update(
        status=Post.Status.PUBLISHING, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert services.enqueue_due_posts() == [post.pk]

    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED
    assert len(fake_graph.media()) == 1


def test_collaborator_answers_are_read_back_and_shown_on_the_post(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    sola = world.other_library
    post = due_post(world, channel)
    post.post_collaborators.create(library=sola)
    assert run_until_settled(post).state == "skipped"  # still scheduled: the tick has not taken it
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)
    assert run_until_settled(post).state == "done"
    post.refresh_from_db()
    fake_graph.set_invite(post.media_id, "Accepted", username=world.library.instagram_username)
    fake_graph.set_invite(post.media_id, "Declined", username=sola.instagram_username)

    assert publish.refresh_collaborator_invites() == 1

    invites = dict(post.post_collaborators.values_list("library__name", "invite_status"))
    assert invites == {world.library.name: "accepted", sola.name: "declined"}
    page = client_for(world.editor).get(f"/posts/{post.pk}/").content.decode()
    assert "Accepted" in page
    assert "Declined" in page
    assert publish.refresh_collaborator_invites() == 0  # nobody is pending any more


def test_a_library_without_a_username_is_never_sent_as_a_collaborator(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    post = due_post(world, channel)
    post.post_collaborators.create(library=LibraryFactory(county=world.county, instagram_username=""))
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)

    assert run_until_settled(post).state == "done"
    [media] = fake_graph.media()
    assert [invite["username"] for invite in media["collaborators"]] == [world.library.instagram_username]


def test_fake_has_the_account_the_channel_points_at(fake_graph: FakeGraph, publishing_setup: FakeGraph) -> None:
    assert any(account["ig_user_id"] == IG_USER_ID for account in fake_graph.state()["accounts"])


def test_librarian_sees_the_published_post_but_not_its_worker_details(
    world: World, channel: Channel, librarian_client: Client
) -> None:
    post = due_post(world, channel)
    services.enqueue_due_posts()

    page = librarian_client.get(f"/posts/{post.pk}/").content.decode()

    post.refresh_from_db()
    assert post.permalink in page
    assert "Instagram details" not in page
    assert "What next" not in page
