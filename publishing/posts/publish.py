"""Publishing one post: a resumable state machine, each step stored before the next begins.

    start ──create containers──▶ containers_created ──Instagram processed them──▶ containers_finished
      ──media_publish──▶ (media id stored: the post is published) ──permalink──▶ published
      ──collaborator invites read──▶ collaborators_checked ──archive items, libraries e-mailed──▶ notified

(Filing in the archive and the libraries' e-mails are one transaction, and "containers finished" is
stored with the publish attempt: a step stored only where a dead worker's successor would otherwise
repeat something. The permalink and the collaborators' answers are reads a successor may repeat, so
they are held and stored with the next step that is (normally the archive's), which also gives the
lease back. A post stored at `archived` by an earlier version goes on with the e-mails.)

`run(post_id)` takes a lease on the post (a conditional UPDATE: only one
worker holds a post at a time), carries on from the stored step, and says
whether to try again later. Every write is conditional on the lease, so a
worker that lost its lease stops before it changes anything.

Never publishing twice is the point of the design:

* the container id is stored before anyone waits for it, and every
  container media_publish is called for is recorded (with the caption sent)
  *before* the call;
* before media_publish, and before any recorded container is given up, its
  status is read: PUBLISHED means the post is already live (a worker died
  between Instagram's answer and our write, or the answer was lost), and the
  media is then found in the account's media by its caption and time;
* the media id is written the moment it is known (`services.record_published`).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, Max, Prefetch, Q, Value, When, prefetch_related_objects
from django.db.models.expressions import Combinable
from django.utils import timezone
from django.utils.translation import gettext as _

from libraries.models import Library
from production.models import Asset
from production.release import Purpose, media_release
from production.signed_urls import public_cover_url, public_rendition_url
from publishing.archive import filing as archive
from publishing.instagram import channels
from publishing.instagram.client import (
    Client,
    ContainerStatusCode,
    ErrorKind,
    GraphAPIError,
    Media,
    PublishingLimit,
)
from publishing.models import Channel, Post, PostCollaborator, PostQuerySet, gate_reads
from publishing.posts import gates, services

logger = logging.getLogger(__name__)

# Containers are thrown away and made again (expired, or Instagram's processing broke) at most this often.
MAX_CONTAINER_ROUNDS = 3
# How far back in the account's media a lost publish is looked for (newest first, 25 a page).
MEDIA_SEARCH_PAGES = 8
# Instagram's clock and ours may differ a little when matching a media's timestamp.
CLOCK_SKEW = timedelta(minutes=10)
# The daily publishing limit (9/2207042) when media_publish meets it.
QUOTA_SUBCODE = 2207042
# A post waiting behind others for the daily limit tries this long after the one before it.
ORDER_GAP_SECONDS = 2

_random = secrets.SystemRandom()


@dataclass(frozen=True)
class RunResult:
    """What a run ended with; `retry_in` (seconds) asks the task to run again later."""

    state: str  # done, failed, retry, waiting, skipped (held elsewhere or finished), lost (lease taken over), stopped
    retry_in: int | None = None
    # A wait too long for a task's countdown (the daily limit): the tick hands the post over again then.
    next_try: datetime | None = None


class LostLease(Exception):
    """Another worker holds the post now (ours ran out); stop without changing anything."""


class _Wait(Exception):
    """Instagram is still processing: read the container again after `seconds`."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class _Unpublishable(Exception):
    """Something on our side stops the post (its media are gone or not ready): it fails with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _NotStored(Exception):
    """A save's condition did not hold (or the lease is gone): nothing was stored."""


class _BackToReview(Exception):
    """A gate failed at publish time: the post went back to review and nothing was sent."""


class _QuotaReached(Exception):
    """The account published its daily quota (or what is left is for posts due before this one): wait."""

    def __init__(self, limit: PublishingLimit, ahead: int) -> None:
        super().__init__(limit, ahead)
        self.limit = limit
        self.ahead = ahead


def backoff(attempt: int, *, at_least: float = 0) -> int:
    """Seconds to wait before attempt `attempt + 1`: doubling from the base to the cap, with jitter.

    Equal jitter: half the delay is fixed and half random, so that posts that
    failed together (a throttle) do not come back together.
    """
    base, cap = int(settings.PUBLISH_RETRY_BASE_SECONDS), int(settings.PUBLISH_RETRY_MAX_SECONDS)
    delay = min(cap, max(base * (1 << min(max(attempt - 1, 0), 30)), at_least))
    return min(cap, round(delay / 2 + _random.uniform(0, delay / 2)))


def _unfinished() -> Q:
    return Q(status=Post.Status.PUBLISHING) | (Q(status=Post.Status.PUBLISHED) & ~Q(publish_step=Post.Step.NOTIFIED))


def _claim(post_id: int, token: uuid.UUID, now: datetime) -> bool:
    """Take the post for this run, unless another worker holds a lease on it that has not run out."""
    lease = now + timedelta(seconds=settings.PUBLISH_LEASE_SECONDS)
    claimed = (
        Post.objects.filter(_unfinished(), pk=post_id)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(lease_token=token, lease_expires_at=lease, next_attempt_at=None)
    )
    return claimed == 1


def _release(post_id: int, token: uuid.UUID, *, retry_in: int | None = None, next_try: datetime | None = None) -> None:
    """Give the post back. `next_attempt_at` says when a run is expected next: the retry's, or now for
    a run that ended otherwise (a post left unfinished is then taken up by the tick after a lease's length)."""
    next_attempt = next_try or timezone.now() + timedelta(seconds=retry_in or 0)
    Post.objects.filter(pk=post_id, lease_token=token).update(
        lease_token=None, lease_expires_at=None, next_attempt_at=next_attempt
    )


def run(post_id: int) -> RunResult:
    """Carry the post as far as it goes now. Safe to call any number of times, from any worker."""
    token = uuid.uuid4()
    if not _claim(post_id, token, timezone.now()):
        # Another run holds it, or there is nothing left to do: a second delivery changes nothing.
        return RunResult("skipped")
    retry_in: int | None = None
    next_try: datetime | None = None
    released = False
    try:
        post = Post.objects.select_related("channel", "county", "idea").get(pk=post_id)
        channel = post.channel
        if channel is None or not channel.is_connected:
            # The tick takes it up again once the channel is connected.
            if not post.media_id:
                _wait_for_connection(post, token)
            return RunResult("stopped")
        with channels.graph_client(channel) as graph:
            publish_run = PublishRun(post, channel, graph, token)
            result = publish_run.run()
        retry_in, next_try, released = result.retry_in, result.next_try, publish_run.released
        return result
    except LostLease:
        logger.warning("Post %s: another worker took over; this run stops.", post_id)
        return RunResult("lost")
    except Exception:
        # A bug or a database hiccup: count it like a failed call, so that a post that
        # always breaks ends as failed instead of being taken up again for ever.
        _count_unexpected_failure(post_id, token)
        raise
    finally:
        if not released:  # a finished post gave its lease back with its last step
            _release(post_id, token, retry_in=retry_in, next_try=next_try)


def _wait_for_connection(post: Post, token: uuid.UUID) -> None:
    """Nothing can reach Instagram until the channel is connected again: the post waits for it, in its turn."""
    if post.waiting_for != Post.Waiting.CONNECTION:
        Post.objects.filter(pk=post.pk, lease_token=token).update(
            waiting_for=Post.Waiting.CONNECTION, waiting_since=timezone.now()
        )


def _count_unexpected_failure(post_id: int, token: uuid.UUID) -> None:
    post = Post.objects.filter(pk=post_id, lease_token=token).only("attempts", "media_id").first()
    if post is None:
        return
    attempts = post.attempts + 1
    Post.objects.filter(pk=post_id, lease_token=token).update(attempts=attempts)
    if attempts >= settings.PUBLISH_MAX_ATTEMPTS and not post.media_id:
        services.fail_publishing(
            post_id=post_id,
            lease_token=token,
            reason=_("Publishing stopped because of an error in Innspill; ask the administrator to read the log."),
        )


class PublishRun:
    """One run over one post, holding its lease."""

    def __init__(self, post: Post, channel: Channel, graph: Client, token: uuid.UUID) -> None:
        self.post = post
        self.channel = channel
        self.graph = graph
        self.token = token
        # Read once a run: the gates' own reading of the media, then the archive and the mails.
        self._assets: list[Asset] | None = None
        self._gates_read = False  # the gates read the media with their libraries, and the collaborators
        self._libraries: list[Library] | None = None
        # Steps done that a successor may safely do again (reads from Instagram): stored with the next save.
        self._held: dict[str, Any] = {}
        # … and writes to other rows that go with them (the invited usernames, the invitations' answers).
        self._held_writes: list[Callable[[], object]] = []
        # The lease was given back with the last step (committed): nothing is left for `run` to release.
        self.released = False

    # --- Bookkeeping ---

    def save(self, *, where: Q | Combinable | None = None, **fields: Any) -> None:
        """Store a step (and renew the lease), only while this run holds the post; held steps go with it.

        With `where`, only while that holds too: _NotStored when nothing was stored (the caller asks why).
        """
        now = timezone.now()
        fields = {**self._held, **fields}
        fields.setdefault("attempts", 0)  # a step that succeeded ends a run of failures
        fields.setdefault("waiting_for", Post.Waiting.NOTHING)  # … and whatever it waited for
        fields.setdefault("waiting_since", None)
        fields.setdefault("lease_expires_at", now + timedelta(seconds=settings.PUBLISH_LEASE_SECONDS))
        rows = Post.objects.filter(pk=self.post.pk, lease_token=self.token)
        if where is not None:
            rows = rows.filter(where)
        writes = self._held_writes
        # Held writes are to other rows: stored in the same transaction (one commit, not one each).
        with transaction.atomic(savepoint=False) if writes else contextlib.nullcontext():
            for write in writes:
                write()
            if rows.update(**fields) != 1:
                raise LostLease if where is None else _NotStored
        self._held, self._held_writes = {}, []
        for name, value in fields.items():
            setattr(self.post, name, value)

    def hold(self, **fields: Any) -> None:
        """A step done that is not stored on its own: a successor would only read Instagram again (the
        permalink, the invitations), nothing that could post twice. It is stored with the next save."""
        self._held.update(fields)
        for name, value in fields.items():
            setattr(self.post, name, value)

    @property
    def account(self) -> str:
        return self.channel.account_id

    # --- The run ---

    def run(self) -> RunResult:
        try:
            while self.post.publish_step != Post.Step.NOTIFIED:
                self.step()
            return RunResult("done")
        except _Wait as wait:
            return RunResult("retry", wait.seconds)
        except _BackToReview:
            return RunResult("returned")
        except _QuotaReached as quota:
            return self.wait_for_quota(quota.limit, quota.ahead)
        except _Unpublishable as problem:
            return self.give_up(problem.reason, None)
        except GraphAPIError as error:
            return self.handle(error)

    def step(self) -> None:
        post = self.post
        if not post.media_id:
            if post.publish_step == Post.Step.START:
                self.recover_earlier_publish()
                if not post.media_id:
                    if not post.child_container_ids:
                        self.check_gates()
                    self.create_containers()
            elif post.publish_step == Post.Step.CONTAINERS_CREATED:
                self.wait_for_containers()
            elif post.publish_step == Post.Step.CONTAINERS_FINISHED:
                self.publish()
            else:  # a published step without a media id cannot happen; start again safely
                self.save(publish_step=Post.Step.START)
        elif post.publish_step in (Post.Step.START, Post.Step.CONTAINERS_CREATED, Post.Step.CONTAINERS_FINISHED):
            self.read_permalink()
        elif post.publish_step == Post.Step.PUBLISHED:
            self.check_collaborators()
        elif post.publish_step == Post.Step.COLLABORATORS_CHECKED:
            self.archive()
        elif post.publish_step == Post.Step.ARCHIVED:
            self.notify()

    # --- Errors ---

    def handle(self, error: GraphAPIError) -> RunResult:
        post = self.post
        logger.info("Post %s at %s: %r", post.pk, post.publish_step, error)
        if error.is_token_invalid:
            channels.stop_channel(
                channel_id=self.channel.pk,
                reason=_("Instagram no longer accepts the connection: %(reason)s") % {"reason": error.reason},
            )
            # Never failed for it: the post waits for the reconnect and goes out in its turn (the tick).
            if not post.media_id:
                self.save(
                    waiting_for=Post.Waiting.CONNECTION,
                    waiting_since=self.waiting_since(Post.Waiting.CONNECTION),
                    attempts=post.attempts,
                    last_error=repr(error)[:2000],
                )
            return RunResult("stopped")
        if error.is_rate_limit and error.subcode == QUOTA_SUBCODE and not post.media_id:
            # Someone else took the last slot between our reading of the limit and media_publish.
            try:
                limit = self.graph.content_publishing_limit(self.account)
            except GraphAPIError:
                return self.rate_limited(error)
            return self.wait_for_quota(limit, self.posts_ahead_for_quota())
        if error.is_rate_limit:
            return self.rate_limited(error)
        if error.needs_new_container and not post.media_id:
            return self.new_containers(error)
        if error.is_transient or error.needs_new_container:
            attempts = post.attempts + 1
            if attempts >= settings.PUBLISH_MAX_ATTEMPTS:
                return self.give_up(
                    _("Instagram did not answer properly after %(count)s tries: %(reason)s")
                    % {"count": attempts, "reason": error.reason},
                    error,
                )
            self.save(attempts=attempts, last_error=repr(error)[:2000])
            return RunResult("retry", backoff(attempts, at_least=error.retry_after or 0))
        return self.give_up(_("Instagram refused the post: %(reason)s") % {"reason": error.reason}, error)

    def waiting_since(self, reason: Post.Waiting) -> datetime:
        """When the post began waiting for `reason` (now, unless it already was)."""
        post = self.post
        return post.waiting_since if post.waiting_for == reason and post.waiting_since else timezone.now()

    def rate_limited(self, error: GraphAPIError) -> RunResult:
        """A throttle on calls (not the daily limit): wait as Instagram asks, however often it asks."""
        waits = self.post.rate_limit_waits + 1
        self.save(rate_limit_waits=waits, attempts=self.post.attempts, last_error=repr(error)[:2000])
        return RunResult("retry", backoff(waits, at_least=error.retry_after or 0))

    # --- The daily publishing limit: never a reason to fail ---

    def ahead_for_quota(self) -> PostQuerySet:
        """Posts of the channel due before this one that wait for a slot too: they go first."""
        post = self.post
        earlier = Q(scheduled_at__lt=post.scheduled_at) | Q(scheduled_at=post.scheduled_at, pk__lt=post.pk)
        return (
            Post.objects.filter(channel=self.channel, status=Post.Status.PUBLISHING, media_id="")
            .filter(waiting_for=Post.Waiting.QUOTA)
            .filter(earlier)
        )

    def posts_ahead_for_quota(self) -> int:
        return self.ahead_for_quota().count()

    def next_slot(self, limit: PublishingLimit, ahead: int) -> datetime:
        """When a slot frees for this post: the publishes in the window leave it, oldest first.

        The window holds `quota_usage` publishes; ours are in the database with
        Instagram's time. `needed` of them must leave before this post's turn
        (one for it, one for each post ahead). Publishes that are not ours are
        taken to be the oldest; when the slot depends on them alone, the
        limit is read again after PUBLISH_QUOTA_RECHECK_SECONDS.
        """
        now = timezone.now()
        window = timedelta(seconds=max(limit.quota_duration, 1))
        ours = sorted(
            at
            for at in Post.objects.filter(channel=self.channel, published_at__gt=now - window)
            .exclude(media_id="")
            .values_list("published_at", flat=True)
            if at is not None
        )
        unknown = max(limit.quota_usage - len(ours), 0)
        needed = max(limit.quota_usage - limit.quota_total + 1 + ahead, 1)
        if needed <= unknown:
            at = now + min(window, timedelta(seconds=settings.PUBLISH_QUOTA_RECHECK_SECONDS))
        elif needed - unknown <= len(ours):
            at = ours[needed - unknown - 1] + window
        else:  # the posts ahead use up every slot the window frees: after the next window, at the latest
            at = now + window
        at = max(at, now) + timedelta(seconds=settings.PUBLISH_QUOTA_MARGIN_SECONDS)
        if ahead:  # never before the posts ahead have had their try (a moment after it)
            latest = self.ahead_for_quota().aggregate(latest=Max("next_attempt_at"))["latest"]
            at = max(at, (latest or now) + timedelta(seconds=ORDER_GAP_SECONDS))
        return at

    def wait_for_quota(self, limit: PublishingLimit, ahead: int) -> RunResult:
        if limit.quota_total != self.channel.publish_quota:
            Channel.objects.filter(pk=self.channel.pk).update(publish_quota=limit.quota_total)
            channels.channel_changed()
        at = self.next_slot(limit, ahead)
        self.save(
            waiting_for=Post.Waiting.QUOTA,
            waiting_since=self.waiting_since(Post.Waiting.QUOTA),
            rate_limit_waits=self.post.rate_limit_waits + 1,
            attempts=self.post.attempts,
            last_error=f"The daily publishing limit is used up ({limit.quota_usage} of {limit.quota_total}); "
            f"{ahead} post(s) ahead; next try {at.isoformat()}.",
        )
        logger.info("Post %s waits for Instagram's daily limit until %s.", self.post.pk, at.isoformat())
        seconds = max(int((at - timezone.now()).total_seconds()) + 1, 1)
        if seconds <= settings.PUBLISH_RETRY_MAX_SECONDS:
            return RunResult("waiting", retry_in=seconds, next_try=at)
        return RunResult("waiting", next_try=at)  # the tick hands it over when the time comes

    def give_up(self, reason: str, error: GraphAPIError | None) -> RunResult:
        """Before publishing: the post fails. After: skip what is left to do on Instagram, finish the rest."""
        if not self.post.media_id:
            self.fail(reason, error)
            return RunResult("failed")
        logger.warning("Post %s is published; giving up on step %s: %s", self.post.pk, self.post.publish_step, reason)
        following = {
            Post.Step.START: Post.Step.PUBLISHED,
            Post.Step.CONTAINERS_CREATED: Post.Step.PUBLISHED,
            Post.Step.CONTAINERS_FINISHED: Post.Step.PUBLISHED,
            Post.Step.PUBLISHED: Post.Step.COLLABORATORS_CHECKED,
        }
        self.save(publish_step=following.get(Post.Step(self.post.publish_step), self.post.publish_step))
        return self.run()

    def fail(self, reason: str, error: GraphAPIError | None) -> None:
        if not services.fail_publishing(
            post_id=self.post.pk, lease_token=self.token, reason=reason, detail=repr(error) if error else ""
        ):
            raise LostLease

    def new_containers(self, error: GraphAPIError) -> RunResult:
        """Instagram cannot use the containers (expired, processing failed): make new ones, a few times."""
        rounds = self.post.container_rounds + 1
        if rounds > MAX_CONTAINER_ROUNDS:
            return self.give_up(
                _("Instagram could not process the media: %(reason)s") % {"reason": error.reason}, error
            )
        logger.info("Post %s: new containers (round %s) after %r", self.post.pk, rounds, error)
        self.save(
            publish_step=Post.Step.START,
            child_container_ids=[],
            container_id="",
            containers_created_at=None,
            container_rounds=rounds,
            status_polls=0,
            last_error=repr(error)[:2000],
        )
        return self.run()

    # --- Steps before publishing ---

    def check_gates(self) -> None:
        """The gates again, before anything reaches Instagram: the post may have changed since it was
        scheduled (the admin, a library's username, a consent). A post that fails goes back to review."""
        checked = self.post
        # The row was read as this run began; what the gates read beyond it is read now, afresh (a run
        # making new containers checks again).
        vars(checked).pop("_prefetched_objects_cache", None)
        prefetch_related_objects([checked], *gate_reads())
        failing = gates.failing_gates(checked, channel=self.channel)
        if failing:
            if not services.back_to_review_at_publish(
                post_id=self.post.pk, lease_token=self.token, reasons=[gate.message for gate in failing]
            ):
                raise LostLease
            raise _BackToReview
        # The media the gates passed, with their people and consents: the containers are made of these.
        links = sorted(checked.post_assets.all(), key=lambda link: (link.position, link.pk))
        self._assets = [link.asset for link in links]
        self._gates_read = True

    def assets(self) -> list[Asset]:
        if self._assets is None:
            links = self.post.post_assets.select_related("asset").order_by("position", "pk")
            self._assets = [link.asset for link in links]
        return self._assets

    def libraries(self) -> list[Library]:
        if self._libraries is None:
            # From the gates' reading of the collaborators and the media when this run made it.
            self._libraries = services.involved_libraries(self.post, self._assets if self._gates_read else None)
        return self._libraries

    def media_url(self, asset: Asset) -> str:
        """The signed address Instagram fetches the rendition from (it must be ready: the gates saw to that).

        The consent is asked again first: a person added, or a consent lapsed, since the post was
        scheduled stops it here with the reason rather than at Instagram's fetch.
        """
        answer = media_release(asset, purpose=Purpose.PUBLISH, access=None)
        if not answer.allowed:
            raise _Unpublishable(
                _("“%(name)s” may not be published: %(reason)s.") % {"name": asset, "reason": answer.reason}
            )
        try:
            return public_rendition_url(asset, expires_in=settings.PUBLISH_MEDIA_URL_SECONDS)
        except ValueError as exc:  # processed again since it was scheduled, or its rendition is gone
            raise _Unpublishable(
                _("The Instagram version of “%(name)s” is not ready; wait for it, then schedule the post again.")
                % {"name": asset}
            ) from exc

    def collaborator_usernames(self) -> list[str]:
        """The usernames invited (kept on each row: the library may change its own later)."""
        usernames, changed = [], []
        for link in collaborator_links(self.post):
            username = link.library.instagram_username
            if link.username != username:
                link.username = username
                changed.append(link)
            if username:
                usernames.append(username)
        if changed:
            # Stored with the containers they were sent with (one transaction with that save, not a commit
            # of its own): a run that dies before sending them reads the libraries' usernames again.
            self._held_writes.append(
                lambda: PostCollaborator.objects.filter(pk__in=[link.pk for link in changed]).update(
                    username=Case(*(When(pk=link.pk, then=Value(link.username)) for link in changed))
                )
            )
        return usernames

    def create_containers(self) -> None:
        post = self.post
        assets = self.assets()
        if not assets:
            raise _Unpublishable(_("The post has no media; choose some, then schedule it again."))
        caption = post.full_caption
        collaborators = self.collaborator_usernames()
        graph, account = self.graph, self.account
        if post.media_kind == Post.MediaKind.CAROUSEL:
            # Each item is stored as it is made: a run that dies halfway goes on from there.
            children = list(post.child_container_ids)
            for asset in assets[len(children) :]:
                if asset.is_video:
                    child = graph.create_video_container(account, video_url=self.media_url(asset), media_type="VIDEO")
                else:
                    child = graph.create_image_container(
                        account, image_url=self.media_url(asset), alt_text=asset.alt_text, is_carousel_item=True
                    )
                children.append(child)
                self.save(child_container_ids=children)
            container = graph.create_carousel_container(
                account, children=children, caption=caption, collaborators=collaborators
            )
        elif post.media_kind == Post.MediaKind.REEL:
            reel = assets[0]
            video_url = self.media_url(reel)
            # The cover (GRAPH_API.md §2): an uploaded image as cover_url (it wins), else the chosen frame.
            cover_url = public_cover_url(reel, expires_in=settings.PUBLISH_MEDIA_URL_SECONDS) if reel.cover else ""
            container = graph.create_video_container(
                account,
                video_url=video_url,
                media_type="REELS",
                caption=caption,
                collaborators=collaborators,
                share_to_feed=True,
                cover_url=cover_url,
                thumb_offset=reel.cover_offset_ms if not cover_url else None,
            )
        else:
            container = graph.create_image_container(
                account,
                image_url=self.media_url(assets[0]),
                caption=caption,
                collaborators=collaborators,
                alt_text=assets[0].alt_text,
            )
        self.save(
            container_id=container,
            containers_created_at=timezone.now(),
            publish_step=Post.Step.CONTAINERS_CREATED,
            status_polls=0,
        )

    def wait_for_containers(self) -> None:
        status = self.graph.get_container_status(self.post.container_id)
        if status.status_code is ContainerStatusCode.FINISHED:
            # Not stored on its own: publish() reads the status again before anything else and stores the
            # step with the attempt; a run that stops before that reads the status again from here.
            self.post.publish_step, self.post.status_polls = Post.Step.CONTAINERS_FINISHED, 0
        elif status.status_code is ContainerStatusCode.PUBLISHED:
            self.recover(self.post.container_id, self.post.full_caption, self.post.containers_created_at)
        elif status.status_code is ContainerStatusCode.IN_PROGRESS:
            polls = self.post.status_polls + 1
            if polls > settings.PUBLISH_MAX_POLLS:
                raise GraphAPIError(
                    f"Container {self.post.container_id} still in progress after {polls} reads.",
                    kind=ErrorKind.NEW_CONTAINER,
                    user_message=_("Instagram took too long to process the media."),
                )
            self.save(
                status_polls=polls,
                waiting_for=Post.Waiting.PROCESSING,
                waiting_since=self.waiting_since(Post.Waiting.PROCESSING),
            )
            raise _Wait(settings.PUBLISH_POLL_SECONDS)
        else:
            raise status.as_error() or GraphAPIError(
                f"Unexpected container status {status.status_code}.", kind=ErrorKind.TRANSIENT
            )

    # --- Publishing, exactly once ---

    def recover_earlier_publish(self) -> None:
        """Before making new containers: was one of the earlier ones published after all?"""
        for attempt in reversed(self.post.publish_attempts):
            try:
                status = self.graph.get_container_status(attempt["container_id"])
            except GraphAPIError as error:
                if error.kind is ErrorKind.PERMANENT:  # gone, or never ours: not published
                    continue
                raise
            if status.status_code is ContainerStatusCode.PUBLISHED:
                self.recover(attempt["container_id"], attempt["caption"], _parse_time(attempt.get("at")))
                return

    def publish(self) -> None:
        post = self.post
        container_id = post.container_id
        # Always ask first: a publish whose answer was lost (or whose worker died) shows as PUBLISHED.
        status = self.graph.get_container_status(container_id)
        if status.status_code is ContainerStatusCode.PUBLISHED:
            self.recover(container_id, post.full_caption, post.containers_created_at)
            return
        if status.status_code is ContainerStatusCode.IN_PROGRESS:
            self.save(publish_step=Post.Step.CONTAINERS_CREATED)
            return
        error = status.as_error()
        if error is not None:
            raise error
        limit = self.graph.content_publishing_limit(self.account)
        if limit.remaining <= 0:
            raise _QuotaReached(limit, self.posts_ahead_for_quota())
        attempt = {"container_id": container_id, "caption": post.full_caption, "at": timezone.now().isoformat()}
        # Recorded before the call: if we never hear back, the next run knows to ask about this container.
        attempts = [a for a in post.publish_attempts if a["container_id"] != container_id] + [attempt]
        try:
            # Only while no post due before this one waits for a slot: they go first, in the plan's order.
            self.save(
                where=~Exists(self.ahead_for_quota()),
                publish_attempts=attempts,
                attempts=post.attempts,
                publish_step=Post.Step.CONTAINERS_FINISHED,
                status_polls=post.status_polls,
            )
        except _NotStored:
            if ahead := self.posts_ahead_for_quota():
                raise _QuotaReached(limit, ahead) from None
            raise LostLease from None
        media_id = self.graph.publish(self.account, container_id)
        self.published(media_id)

    def published(self, media_id: str, timestamp: datetime | None = None) -> None:
        if not services.record_published(
            post=self.post, lease_token=self.token, media_id=media_id, published_at=timestamp
        ):
            raise LostLease

    def recover(self, container_id: str, caption: str, since: datetime | None) -> None:
        """The container is published, but we never stored the media: find it in the account's media.

        The post is live, so nothing here fails it: until the media is found
        (the list may fail, or not show it yet) the post says "published,
        looking for the link", and the coordinators hear of it after
        PUBLISH_MEDIA_ALERT_SECONDS.
        """
        try:
            media = self.find_media(caption, since)
        except GraphAPIError as error:
            if error.is_token_invalid:
                raise
            self.keep_looking(container_id, error)
        if media is None:
            self.keep_looking(container_id, None)
        logger.warning(
            "Post %s: container %s was already published as %s; recovered.", self.post.pk, container_id, media.id
        )
        self.published(media.id, media.timestamp)

    def keep_looking(self, container_id: str, error: GraphAPIError | None) -> NoReturn:
        post = self.post
        since = self.waiting_since(Post.Waiting.FINDING_MEDIA)
        attempts = post.attempts + 1
        detail = repr(error) if error else f"Container {container_id} is published; its media is not listed yet."
        self.save(
            waiting_for=Post.Waiting.FINDING_MEDIA, waiting_since=since, attempts=attempts, last_error=detail[:2000]
        )
        if timezone.now() - since >= timedelta(seconds=settings.PUBLISH_MEDIA_ALERT_SECONDS):
            services.alert_media_missing(post=post, container_id=container_id)
        raise _Wait(backoff(attempts, at_least=(error.retry_after or 0) if error else 0))

    def find_media(self, caption: str, since: datetime | None) -> Media | None:
        taken = set(
            Post.objects.filter(channel=self.channel)
            .exclude(pk=self.post.pk)
            .exclude(media_id="")
            .values_list("media_id", flat=True)
        )
        earliest = (since - CLOCK_SKEW) if since is not None else None
        candidates: list[Media] = []
        after: str | None = None
        for _page in range(MEDIA_SEARCH_PAGES):
            page = self.graph.list_media(self.account, after=after)
            for media in page.media:
                if media.id in taken or (media.caption or "").strip() != caption.strip():
                    continue
                if earliest is not None and media.timestamp is not None and media.timestamp < earliest:
                    continue
                candidates.append(media)
            if page.after is None or (earliest is not None and _older_than(page.media, earliest)):
                break
            after = page.after
        # Newest first: the oldest match is the one published just after our attempt.
        return candidates[-1] if candidates else None

    # --- After publishing ---

    def read_permalink(self) -> None:
        media = self.graph.get_media(self.post.media_id, fields=("id", "permalink", "timestamp"))
        fields: dict[str, Any] = {"permalink": media.permalink or "", "publish_step": Post.Step.PUBLISHED}
        if media.timestamp is not None:  # Instagram's time of the media, not the moment we heard of it
            fields["published_at"] = media.timestamp
        self.hold(**fields)  # stored with the archive step (or whatever is stored next)

    def check_collaborators(self) -> None:
        # Held, as the permalink is: a successor would only read the answers again.
        answers = read_invite_answers(self.post, self.graph)
        self._held_writes.append(answers.store)
        self.hold(publish_step=Post.Step.COLLABORATORS_CHECKED, collaborators_checked_at=answers.checked_at)

    def archive(self) -> None:
        """File the post in the archive and tell its libraries, in one transaction: both or neither."""
        with transaction.atomic():
            archive.file_published_post(post=self.post, assets=self.assets(), libraries=self.libraries())
            self.notify()

    def notify(self) -> None:
        # No savepoint inside archive()'s transaction: whatever fails here rolls all of it back anyway.
        with transaction.atomic(savepoint=False):
            # The step is stored before the mail leaves (after the commit): at most one mail per library.
            # The post is finished: the lease goes back with it (`run` has nothing left to release).
            self.save(
                publish_step=Post.Step.NOTIFIED, lease_token=None, lease_expires_at=None, next_attempt_at=timezone.now()
            )
            transaction.on_commit(self._lease_released)
            services.notify_libraries_on_commit(self.post, self.libraries())
            services.mark_idea_published(self.post)

    def _lease_released(self) -> None:
        self.released = True


def read_collaborator_invites(post: Post, graph: Client) -> None:
    """Store each invited library's answer (pending, accepted, declined) as Instagram reports it."""
    answers = read_invite_answers(post, graph)
    answers.store()
    Post.objects.filter(pk=post.pk).update(collaborators_checked_at=answers.checked_at)


@dataclass(frozen=True)
class InviteAnswers:
    """Each invited library's answer as Instagram reported it (its rows' ids by answer), and when it was read."""

    by_status: dict[PostCollaborator.Invite, list[int]]
    checked_at: datetime

    def store(self) -> None:
        """On the libraries' rows (the post's own row says `checked_at` apart)."""
        for answered, ids in self.by_status.items():  # one UPDATE per answer, not one per library
            PostCollaborator.objects.filter(pk__in=ids).update(invite_status=answered, checked_at=self.checked_at)


def read_invite_answers(post: Post, graph: Client) -> InviteAnswers:
    """Read from Instagram what each invited library answered (nothing is stored)."""
    answers = {c.username.lower(): c.invite_status.lower() for c in graph.get_collaborators(post.media_id)}
    now = timezone.now()
    by_status: dict[PostCollaborator.Invite, list[int]] = {}
    for link in collaborator_links(post):
        username = (link.username or link.library.instagram_username).lower()
        answer = answers.get(username, "pending")
        if answer.startswith("acc"):  # Meta's own sample spells it "Accpeted"
            status = PostCollaborator.Invite.ACCEPTED
        elif answer.startswith("decl"):
            status = PostCollaborator.Invite.DECLINED
        else:
            status = PostCollaborator.Invite.PENDING
        by_status.setdefault(status, []).append(link.pk)
    return InviteAnswers(by_status=by_status, checked_at=now)


def collaborator_links(post: Post) -> list[PostCollaborator]:
    """The post's collaborators with their libraries, by name: as the gates read them in this run, if they did."""
    prefetch_related_objects(
        [post], Prefetch("post_collaborators", queryset=PostCollaborator.objects.select_related("library"))
    )
    return sorted(post.post_collaborators.all(), key=lambda link: link.library.name)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _older_than(media: list[Media], moment: datetime) -> bool:
    return bool(media) and all(m.timestamp is not None and m.timestamp < moment for m in media)


def refresh_collaborator_invites(*, now: datetime | None = None, days: int = 30) -> int:
    """Read the invitations of recent posts again until every invited library has answered."""
    now = now or timezone.now()
    checked = 0
    posts = (
        Post.objects.with_pending_invites(now - timedelta(days=days))
        .filter(channel__status=Channel.Status.CONNECTED)
        .select_related("channel")
    )
    for post in posts:
        channel = post.channel
        if channel is None:  # filtered on above
            continue
        try:
            with channels.graph_client(channel) as graph:
                read_collaborator_invites(post, graph)
        except GraphAPIError as error:
            if error.is_token_invalid:
                channels.stop_channel(channel_id=channel.pk, reason=error.reason)
                break
            logger.warning("Reading the collaborators of post %s failed: %r", post.pk, error)
            continue
        checked += 1
    return checked
