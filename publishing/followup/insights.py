"""Insights and followers after publishing, and the post page's engagement panel.

Models: publishing/models/followup.py. Periodic tasks (publishing/tasks.py)
read insights about 1 hour, 1 day, 7 and 28 days after publishing and the
account's followers daily; an editor can read a post's insights now. The
comments and their inbox are publishing/followup/comments.py.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from libraries.access import CountyAccess
from libraries.models import User
from publishing.instagram import channels
from publishing.instagram.client import GraphAPIError, media_insight_metrics
from publishing.models import (
    AccountSnapshot,
    Channel,
    InsightSnapshot,
    InstagramComment,
    Post,
    PostQuerySet,
)

logger = logging.getLogger(__name__)
_random = secrets.SystemRandom()

Round = InsightSnapshot.Round
Status = InstagramComment.Status
Via = InstagramComment.Via


# --- Insights ---

# The scheduled readings, after publishing: a post's `insights_round` is the index of the next one.
INSIGHT_ROUNDS: tuple[tuple[str, timedelta], ...] = (
    (Round.HOUR, timedelta(hours=1)),
    (Round.DAY, timedelta(days=1)),
    (Round.WEEK, timedelta(days=7)),
    (Round.MONTH, timedelta(days=28)),
)
# Metrics with a column of their own (the report sums them); every value read is kept in `values`.
INSIGHT_COLUMNS: tuple[str, ...] = ("reach", "views", "likes", "comments", "saved", "shares", "total_interactions")
# A claimed post is not claimed again for this long (a run that overlaps, or a worker that died).
INSIGHTS_LEASE = timedelta(minutes=15)
INSIGHTS_BATCH = 200
# After a transient failure the reading is tried again: the wait grows with how late it is already.
INSIGHTS_RETRY_MIN = timedelta(minutes=10)
INSIGHTS_RETRY_MAX = timedelta(hours=6)
# The last reading is given up on this long after its time.
INSIGHTS_GIVE_UP = timedelta(days=7)
# "Read insights now" is refused when the last such reading is this recent.
MANUAL_READ_INTERVAL = timedelta(minutes=5)


def _insights_due(now: datetime) -> PostQuerySet:
    """Published posts whose next insights reading has come, on a channel that can read them."""
    return (
        Post.objects.filter(status=Post.Status.PUBLISHED, insights_due_at__lte=now)
        .filter(channel__status=Channel.Status.CONNECTED)
        .exclude(media_id="")
    )


def _round_time(post: Post, index: int) -> datetime | None:
    """When scheduled reading `index` is due; None after the last one."""
    if post.published_at is None or index >= len(INSIGHT_ROUNDS):
        return None
    return post.published_at + INSIGHT_ROUNDS[index][1]


def round_to_read(post: Post, now: datetime) -> int | None:
    """The scheduled reading to take now: the latest whose time has come. Readings missed while the
    worker or the channel was down are skipped, so that a reading is never labelled earlier than it is."""
    due = [
        index
        for index in range(post.insights_round, len(INSIGHT_ROUNDS))
        if (at := _round_time(post, index)) is not None and at <= now
    ]
    return due[-1] if due else None


def _product_type(post: Post) -> str:
    return "REELS" if post.media_kind == Post.MediaKind.REEL else "FEED"


def _read_insights(post: Post, channel: Channel) -> dict[str, int]:
    metrics = media_insight_metrics(settings.GRAPH_API_VERSION, _product_type(post))
    with channels.graph_client(channel) as graph:
        return graph.get_insights(post.media_id, metrics)


def _columns(values: dict[str, int]) -> dict[str, int | None]:
    # Instagram leaves out what it has no data for: missing, not 0.
    return {name: values.get(name) for name in INSIGHT_COLUMNS}


def read_due_insights(*, now: datetime | None = None) -> int:
    """The periodic round (every 10 minutes): claim the posts whose reading has come, then read each."""
    now = now or timezone.now()
    with transaction.atomic():
        due = (
            _insights_due(now)
            .order_by("insights_due_at", "pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:INSIGHTS_BATCH]
        )
        claimed = list(due)
        # Moved out of reach before the lock is let go: an overlapping run finds nothing to claim,
        # and a post whose worker died becomes due again when the lease runs out.
        Post.objects.filter(pk__in=claimed).update(insights_due_at=now + INSIGHTS_LEASE)
    return sum(read_post_insights(post_id=pk, now=now) for pk in claimed)


def read_post_insights(*, post_id: int, now: datetime | None = None) -> bool:
    """Take the post's scheduled reading that is due; True when a reading was stored.

    Idempotent: the round moves on with a conditional UPDATE on the round read,
    in the same transaction as the snapshot (unique per round besides).
    """
    now = now or timezone.now()
    post = Post.objects.select_related("channel").filter(pk=post_id).first()
    if post is None or not post.media_id or post.channel is None or post.published_at is None:
        return False
    index = round_to_read(post, now)
    if index is None:
        # Claimed before its time: back to when it is due (None once the last reading is taken).
        Post.objects.filter(pk=post.pk, insights_round=post.insights_round).update(
            insights_due_at=_round_time(post, post.insights_round)
        )
        return False
    if not post.channel.is_connected:
        return False
    try:
        values = _read_insights(post, post.channel)
    except GraphAPIError as error:
        _insights_failed(post, post.channel, index, error, now)
        return False
    return _store_reading(post, index, values, now)


def _store_reading(post: Post, index: int, values: dict[str, int], now: datetime) -> bool:
    following = index + 1
    changes: dict[str, Any] = {"insights_round": following, "insights_due_at": _round_time(post, following)}
    if values:
        # An empty answer (Instagram's data lags) leaves the latest values that were read.
        changes |= {"insights": values, "insights_read_at": now}
    with transaction.atomic():
        moved = Post.objects.filter(pk=post.pk, insights_round=post.insights_round).update(**changes)
        if not moved:
            return False  # another run took this reading
        InsightSnapshot.objects.create(
            post=post, round=INSIGHT_ROUNDS[index][0], taken_at=now, values=values, **_columns(values)
        )
    return True


def _insights_failed(post: Post, channel: Channel, index: int, error: GraphAPIError, now: datetime) -> None:
    """Try again later (transient), skip the reading (refused), or end the readings (the media is gone)."""
    unchanged = Post.objects.filter(pk=post.pk, insights_round=post.insights_round)
    name = INSIGHT_ROUNDS[index][0]
    if error.is_token_invalid:
        channels.stop_channel(
            channel_id=channel.pk,
            reason=_("Instagram no longer accepts the connection: %(reason)s") % {"reason": error.reason},
        )
        # Due again at once: the readings go on when the channel is connected again.
        unchanged.update(insights_due_at=now)
        return
    if error.is_unknown_object:
        logger.info("Post %s: media %s is gone from Instagram; no more insights readings.", post.pk, post.media_id)
        unchanged.update(insights_due_at=None, insights_round=len(INSIGHT_ROUNDS))
        return
    if error.permanent:
        logger.warning("Post %s: Instagram refused the %s insights reading, skipped: %r", post.pk, name, error)
        unchanged.update(insights_round=index + 1, insights_due_at=_round_time(post, index + 1))
        return
    due_at = _round_time(post, index)
    late = now - due_at if due_at is not None else timedelta(0)
    if index == len(INSIGHT_ROUNDS) - 1 and late > INSIGHTS_GIVE_UP:
        logger.warning("Post %s: the last insights reading failed for a week, given up: %r", post.pk, error)
        unchanged.update(insights_due_at=None, insights_round=len(INSIGHT_ROUNDS))
        return
    # The wait doubles, near enough, as the reading gets later; equal jitter spreads a throttled batch.
    wait = min(INSIGHTS_RETRY_MAX, max(INSIGHTS_RETRY_MIN, late, timedelta(seconds=error.retry_after or 0)))
    wait = wait / 2 + timedelta(seconds=_random.uniform(0, wait.total_seconds() / 2))
    logger.info("Post %s: the %s insights reading failed, again in %s: %r", post.pk, name, wait, error)
    unchanged.update(insights_due_at=now + wait)


def read_insights_now(*, by: User, post: Post, now: datetime | None = None) -> InsightSnapshot:
    """An editor's "read insights now": a manual reading, besides the scheduled ones."""
    now = now or timezone.now()
    channel = post.channel
    if post.status != Post.Status.PUBLISHED or not post.media_id:
        raise ValidationError(_("Only a published post has insights."))
    if channel is None or not channel.is_connected:
        raise ValidationError(_("The Instagram connection is not working; a coordinator must connect it again."))
    if post.insight_snapshots.filter(round=Round.MANUAL, taken_at__gt=now - MANUAL_READ_INTERVAL).exists():
        raise ValidationError(_("The insights were read less than five minutes ago; Instagram updates them slowly."))
    try:
        values = _read_insights(post, channel)
    except GraphAPIError as error:
        logger.info("Post %s: reading insights for %s failed: %r", post.pk, by.pk, error)
        raise ValidationError(channels.graph_error_reason(error, channel)) from error
    with transaction.atomic():
        snapshot = InsightSnapshot.objects.create(
            post=post, round=Round.MANUAL, taken_at=now, values=values, **_columns(values)
        )
        if values:
            Post.objects.filter(pk=post.pk).update(insights=values, insights_read_at=now)
    return snapshot


# --- Followers ---


def read_followers(*, now: datetime | None = None) -> int:
    """The daily reading of each connected account's followers; a second run the same day reads nothing."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    stored = 0
    for channel in Channel.objects.instagram().connected().exclude(snapshots__day=today).order_by("pk"):
        try:
            with channels.graph_client(channel) as graph:
                account = graph.get_account(channel.account_id)
        except GraphAPIError as error:
            if error.is_token_invalid:
                channels.stop_channel(
                    channel_id=channel.pk,
                    reason=_("Instagram no longer accepts the connection: %(reason)s") % {"reason": error.reason},
                )
            else:
                logger.warning("Channel %s: reading the followers failed: %r", channel.pk, error)
            continue
        if account.followers_count is None:
            logger.warning("Channel %s: Instagram gave no followers count.", channel.pk)
            continue
        _snapshot, created = AccountSnapshot.objects.get_or_create(
            channel=channel,
            day=today,
            defaults={"followers_count": account.followers_count, "media_count": account.media_count, "taken_at": now},
        )
        stored += created
    return stored


def engagement_panel(access: CountyAccess, post: Post) -> dict[str, Any]:
    """What the post page shows of its insights and comments (templates/publishing/_post_engagement.html)."""
    if post.status != Post.Status.PUBLISHED:
        return {"engagement": None}
    snapshots = list(post.insight_snapshots.order_by("taken_at", "pk"))
    metrics = [(name, getattr(InsightSnapshot._meta.get_field(name), "verbose_name", name)) for name in INSIGHT_COLUMNS]
    return {
        "engagement": {
            "metrics": metrics,
            "rows": [(snapshot, [getattr(snapshot, name) for name, _label in metrics]) for snapshot in snapshots],
            "next_reading_at": post.insights_due_at,
            # Counted with the post (`publishing.access.get_post_for_user(..., for_gates=True)`).
            "comment_count": post.comment_count,  # type: ignore[attr-defined]  # annotations of the post page's read
            "unanswered_count": post.unanswered_count,  # type: ignore[attr-defined]
            "inbox_url": f"{reverse('publishing:inbox')}?show=all&post={post.pk}" if access.is_editor else "",
            "can_read_insights": access.is_editor and post.is_published,
        }
    }
