"""The publishing worker's state machine against the fake Graph API, in this process.

Instagram (the fake, a real process) downloads each rendition from the live
server at its signed address, as Meta does. Runs are driven by hand with
`publish.run` (one run = one delivery of the task), or through the tick with
Celery eager, so that every step, retry and recovery can be watched.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from unittest.mock import ANY

import psycopg
import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from libraries.models import AuditEntry, Library
from production.models import Asset, Idea
from publishing import tasks
from publishing.archive import filing as archive
from publishing.models import ArchiveItem, Channel, Post, PostCollaborator
from publishing.posts import publish, services
from tests.conftest import World, client_for, enable_mfa
from tests.factories.libraries import LibraryFactory, UserFactory
from tests.factories.production import IdeaFactory
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


def _tick_statements() -> list[str]:
    """The tick's own statements (eager Celery then runs each post's task at the commit: from its lease on)."""
    with CaptureQueriesContext(connection) as queries:
        services.enqueue_due_posts()
    statements = [query["sql"] for query in queries.captured_queries]
    return statements[: next(i for i, sql in enumerate(statements) if 'SET "lease_token"' in sql)]


def test_tick_moves_its_due_posts_to_publishing_with_an_audit_entry_each_in_as_many_statements_as_for_one(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    first = due_post(world, channel, title="Første")
    one_post = _tick_statements()
    posts = [due_post(world, channel, title=f"Innlegg {n}") for n in range(3)]
    # The due posts read, moved in one UPDATE, their audit entries in one INSERT (three statements a post before).
    assert len(_tick_statements()) == len(one_post)
    for post in [first, *posts]:
        post.refresh_from_db()
        assert post.status == Post.Status.PUBLISHED
        [moved] = AuditEntry.objects.filter(
            object_type="publishing.post", object_id=str(post.pk), action="post.publishing"
        )
        assert (moved.summary, moved.data, moved.actor) == (post.title, {"old": "scheduled", "new": "publishing"}, None)


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


def test_a_run_costs_a_fixed_number_of_queries_and_files_the_item_as_a_refresh_would(
    world: World, channel: Channel, fake_graph: FakeGraph, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    post = due_post(world, channel)  # one photo showing someone with a consent, one collaborator
    post.post_collaborators.create(library=world.other_library)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)

    # The claim; the post; the gates (media, their people, the people's consents, collaborators, approvals);
    # the container stored with the usernames it invited (BEGIN, two UPDATEs, COMMIT: one commit, not one
    # each); the attempt stored before media_publish (unless posts due before it wait for the daily limit);
    # the media id (BEGIN, UPDATE, audit, COMMIT); then one transaction (BEGIN … COMMIT): the asset with
    # its people and their consents, the item with its search documents (SAVEPOINT, INSERT, RELEASE), its
    # libraries (the gates' collaborators and media named them), its words, the invitations' answers, the
    # post's last step with the permalink and the lease given back, the libraries' people, the audit entry;
    # after the commit, the readers' languages of both libraries' mails (one query).
    with django_assert_num_queries(31):
        assert publish.run(post.pk).state == "done"

    post.refresh_from_db()
    assert (post.status, post.publish_step, post.lease_token) == (Post.Status.PUBLISHED, Post.Step.NOTIFIED, None)
    assert post.permalink
    assert post.collaborators_checked_at is not None
    # Filed as it was made, the item is what refreshing it copies: complete and searchable at once.
    [item] = ArchiveItem.objects.filter(post=post).values()
    assert item["search_document"]
    assert (item["people_count"], item["reuse_blocked"]) == (1, False)
    assert item["library_ids"] == sorted([world.library.pk, world.other_library.pk])
    archive.refresh_items([item["id"]])
    assert ArchiveItem.objects.filter(pk=item["id"]).values().get() == {**item, "updated_at": ANY}


def test_the_idea_a_published_post_came_from_says_so_links_it_and_its_library_is_told(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    sender = UserFactory(email="idea-sender@example.org")
    idea = IdeaFactory(library=world.library, submitted_by=sender, status=Idea.Status.PLANNED, title="Lesesirkel")
    post = due_post(world, channel, idea=idea, title="Lesesirkelen er i gang")

    services.enqueue_due_posts()

    post.refresh_from_db()
    idea.refresh_from_db()
    assert (post.status, idea.status) == (Post.Status.PUBLISHED, Idea.Status.USED)
    assert AuditEntry.objects.filter(action="idea.used", object_id=str(idea.pk), actor=None).exists()
    [notice] = [m for m in mail.outbox if "On Instagram now" in m.subject]
    assert sorted(notice.to) == sorted([world.librarian.email, sender.email])
    assert "your idea “Lesesirkel”" in notice.body
    assert idea.get_absolute_url() in notice.body
    # The idea's page, for the librarian who sent it: the post and its Instagram permalink.
    page = client_for(world.librarian).get(idea.get_absolute_url()).content.decode()
    assert "Published on Instagram" in page
    assert post.get_absolute_url() in page
    assert post.permalink in page

    # A second post of the same idea leaves the used idea alone.
    second = due_post(world, channel, idea=idea, title="Lesesirkelen, del 2")
    services.enqueue_due_posts()
    second.refresh_from_db()
    assert second.status == Post.Status.PUBLISHED
    assert AuditEntry.objects.filter(action="idea.used", object_id=str(idea.pk)).count() == 1


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
    world: World, channel: Channel, fake_graph: FakeGraph, settings
) -> None:  # type: ignore[no-untyped-def]
    fake_graph.configure(publish_quota=1)
    earlier = due_post(world, channel, title="Først")
    post = due_post(world, channel, title="Så", caption="Enda flere bøker")
    Post.objects.update(status=Post.Status.PUBLISHING)
    assert run_until_settled(earlier).state == "done"

    waiting = publish.run(post.pk)

    # The slot frees when the first publish leaves Instagram's 24 hours: the tick hands the post over then.
    earlier.refresh_from_db()
    assert earlier.published_at is not None
    assert waiting.state == "waiting"
    assert waiting.retry_in is None
    assert waiting.next_try == earlier.published_at + timedelta(days=1, seconds=settings.PUBLISH_QUOTA_MARGIN_SECONDS)
    post.refresh_from_db()
    assert (post.status, post.waiting_for, post.next_attempt_at) == (
        Post.Status.PUBLISHING,
        Post.Waiting.QUOTA,
        waiting.next_try,
    )
    assert fake_graph.state()["calls"]["publish"] == 1  # the quota was read; media_publish was not called
    assert services.enqueue_due_posts() == []  # not before its time
    fake_graph.advance_clock(24 * 60 * 60)
    assert services.enqueue_due_posts(now=waiting.next_try) == [post.pk]
    post.refresh_from_db()
    assert (post.status, post.waiting_for) == (Post.Status.PUBLISHED, "")
    assert len(fake_graph.media()) == 2


def test_a_day_over_the_limit_never_fails_a_post_and_keeps_the_order(
    world: World, channel: Channel, fake_graph: FakeGraph, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLISH_QUOTA_MARGIN_SECONDS = 0
    fake_graph.configure(publish_quota=2)
    posts = [
        due_post(
            world,
            channel,
            title=f"Post {n}",
            caption=f"Bok nummer {n}",
            scheduled_at=timezone.now() - timedelta(minutes=10 - n),
        )
        for n in range(4)
    ]
    Post.objects.update(status=Post.Status.PUBLISHING)
    assert [publish.run(post.pk).state for post in posts[:2]] == ["done", "done"]
    # The last one comes first to the worker: it waits behind the third, which is due earlier.
    last = publish.run(posts[3].pk)
    third = publish.run(posts[2].pk)
    assert (third.state, last.state) == ("waiting", "waiting")
    first, second = (Post.objects.get(pk=post.pk).published_at for post in posts[:2])
    assert first is not None
    assert second is not None
    day = timedelta(days=1)
    # The third takes the slot the first frees; the last then waits for the second's, and after the third's try.
    assert third.next_try == first + day
    last_try = publish.run(posts[3].pk).next_try
    assert last_try is not None
    assert last_try == max(second + day, first + day + timedelta(seconds=publish.ORDER_GAP_SECONDS))
    assert Post.objects.filter(status=Post.Status.FAILED).count() == 0


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
    # Neither post fails: both wait for the connection.
    assert not Post.objects.filter(status=Post.Status.FAILED).exists()
    assert set(Post.objects.values_list("waiting_for", flat=True)) == {Post.Waiting.CONNECTION}
    [told] = [m for m in mail.outbox if m.subject == "Instagram must be connected again"]
    assert told.to == [world.coordinator.email]
    assert "/channel/" in told.body
    assert "2 posts wait for the connection" in told.body
    # Nothing more goes out on the channel until it is connected again.
    assert services.enqueue_due_posts() == []
    assert not fake_graph.media()
    page = client_for(world.coordinator).get("/channel/").content.decode()
    assert "Instagram must be connected again." in page
    home = client_for(world.coordinator).get("/").content.decode()
    assert "2 posts wait for it." in home
    assert home.count("Waiting for the Instagram connection") == 2

    # Connected again: both go out, in the order they were due.
    fake_graph.token(TOKEN, state="valid", expires_in=None)
    Channel.objects.filter(pk=channel.pk).update(status=Channel.Status.CONNECTED, connected_at=timezone.now())
    assert services.enqueue_due_posts() == [post.pk, other.pk]
    # Instagram's timestamps have whole seconds: both may share one, so the tie goes to the first post.
    assert list(Post.objects.order_by("published_at", "pk").values_list("pk", "status")) == [
        (post.pk, Post.Status.PUBLISHED),
        (other.pk, Post.Status.PUBLISHED),
    ]
    assert len(fake_graph.media()) == 2


def test_a_post_too_late_when_the_channel_returns_goes_back_to_the_editor(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    late = due_post(world, channel, title="For sent", scheduled_at=timezone.now() - timedelta(hours=7))
    waited = due_post(world, channel, title="Ventet", scheduled_at=timezone.now() - timedelta(hours=8))
    recent = due_post(world, channel, title="I tide", scheduled_at=timezone.now() - timedelta(hours=1))
    Post.objects.filter(pk=waited.pk).update(status=Post.Status.PUBLISHING, waiting_for=Post.Waiting.CONNECTION)
    Channel.objects.filter(pk=channel.pk).update(connected_at=timezone.now(), late_margin_hours=6)

    assert services.enqueue_due_posts() == [recent.pk]

    for post in (late, waited):
        post.refresh_from_db()
        assert (post.status, post.waiting_for) == (Post.Status.APPROVED, "")
        assert "more than 6 hours after the post's time" in post.failure_reason
    assert len(fake_graph.media()) == 1
    assert len([m for m in mail.outbox if m.subject.startswith("Back with you, too late to publish")]) == 2


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


def test_a_post_whose_media_may_no_longer_be_published_goes_back_with_the_reason_before_instagram_is_asked(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    post = due_post(world, channel)
    # Someone recognisable was added after scheduling, without a consent yet (straight in the database,
    # so that nothing pulled the post back): the worker asks the rule again before handing out the address.
    show_person(post.ordered_assets()[0], name="Per", consent=False)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)  # as the tick hands it over

    outcome = run_until_settled(post)

    # The gates, checked again at publish time, send it back to review with the reason.
    post.refresh_from_db()
    assert (outcome.state, post.status) == ("returned", Post.Status.IN_REVIEW)
    assert post.failure_reason.startswith("Not published: the post no longer passes every check.")
    assert "consent" in post.failure_reason
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


def test_a_library_renamed_on_instagram_after_the_post_still_has_its_answer_read_under_the_name_invited(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    post = due_post(world, channel)
    invited = world.library.instagram_username
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)
    assert run_until_settled(post).state == "done"
    post.refresh_from_db()
    # The invitation went out to the name the library had; it renames its account afterwards.
    Library.objects.filter(pk=world.library.pk).update(instagram_username="nytt_navn_bibliotek")
    fake_graph.set_invite(post.media_id, "Accepted", username=invited)

    assert publish.refresh_collaborator_invites() == 1

    link = post.post_collaborators.get()
    assert (link.username, link.invite_status) == (invited, PostCollaborator.Invite.ACCEPTED)


def test_a_library_that_lost_its_username_sends_the_post_back_and_is_never_sent_as_a_collaborator(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    post = due_post(world, channel)
    post.post_collaborators.create(library=LibraryFactory(county=world.county, instagram_username=""))
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)

    assert run_until_settled(post).state == "returned"
    post.refresh_from_db()
    assert post.status == Post.Status.IN_REVIEW
    assert "has no Instagram username" in post.failure_reason
    assert not fake_graph.state()["containers"]


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


def test_a_published_container_whose_media_list_fails_is_never_failed_and_alerts_once(
    world: World, channel: Channel, fake_graph: FakeGraph, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLISH_MAX_ATTEMPTS = 2  # a second error of any other kind would fail the post
    settings.PUBLISH_MEDIA_ALERT_SECONDS = 0
    post = due_post(world, channel)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)
    fake_graph.fault("publish", "drop", apply=True)  # Instagram publishes; the answer is lost
    assert publish.run(post.pk).state == "retry"
    # The container reads PUBLISHED, but listing the account's media fails, again and again.
    fake_graph.fault("list_media", "error", code=2, message="Service temporarily unavailable", times=3)

    outcomes = [publish.run(post.pk).state for _ in range(3)]

    assert outcomes == ["retry", "retry", "retry"]
    post.refresh_from_db()
    assert (post.status, post.waiting_for, post.failure_reason) == (
        Post.Status.PUBLISHING,
        Post.Waiting.FINDING_MEDIA,
        "",
    )
    [alert] = [m for m in mail.outbox if m.subject.startswith("Published, but the link is not found yet")]
    assert alert.to == [world.coordinator.email]
    page = client_for(world.editor).get(f"/posts/{post.pk}/").content.decode()
    assert "Published, looking for the link" in page

    assert publish.run(post.pk).state == "done"
    post.refresh_from_db()
    [media] = fake_graph.media()
    assert (post.status, post.media_id, post.waiting_for) == (Post.Status.PUBLISHED, media["id"], "")
    assert fake_graph.state()["calls"]["publish"] == 1


def test_published_at_is_instagrams_time_of_the_media(world: World, channel: Channel, fake_graph: FakeGraph) -> None:
    fake_graph.advance_clock(-3600)  # Instagram's clock an hour behind ours, to tell the two apart
    post = due_post(world, channel)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)

    assert publish.run(post.pk).state == "done"

    post.refresh_from_db()
    [media] = fake_graph.media()
    assert post.published_at is not None
    assert int(post.published_at.timestamp()) == int(media["published_at"])


def test_a_post_that_no_longer_passes_the_gates_goes_back_to_review_and_nothing_reaches_instagram(
    world: World, channel: Channel, fake_graph: FakeGraph
) -> None:
    post = due_post(world, channel)
    # A fourth collaborator, as the admin's inline allows on a scheduled post.
    for n in range(3):
        library = LibraryFactory(county=world.county, name=f"Bibliotek {n}", instagram_username=f"bibliotek{n}")
        PostCollaborator.objects.create(post=post, library=library)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)

    assert publish.run(post.pk).state == "returned"

    post.refresh_from_db()
    assert post.status == Post.Status.IN_REVIEW
    assert "Instagram takes at most 3 collaborators; this post has 4." in post.failure_reason
    assert post.active_approval() is None
    assert fake_graph.state()["containers"] == []
    assert AuditEntry.objects.filter(action="post.gates_failed", object_id=str(post.pk)).count() == 1
    [told] = [m for m in mail.outbox if post.title in m.subject]
    assert "Instagram takes at most 3 collaborators" in told.body


def _admin_form_data(response: Any) -> dict[str, Any]:
    """The admin change form's own values, as a browser would send them back unchanged."""
    data: dict[str, Any] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            data[field.html_name] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
    return data


def test_changing_a_scheduled_post_in_the_admin_returns_it_to_review(world: World, channel: Channel) -> None:
    post = due_post(world, channel, scheduled_at=timezone.now() + timedelta(days=1))
    admin = UserFactory(email="drift@rogaland.example", is_staff=True, is_superuser=True)
    enable_mfa(admin)
    client = client_for(admin)
    url = f"/admin/publishing/post/{post.pk}/change/"
    data = _admin_form_data(client.get(url))
    data["caption"] = "Endret i admin"

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    post.refresh_from_db()
    assert (post.status, post.caption) == (Post.Status.IN_REVIEW, "Endret i admin")
    assert post.active_approval() is None
