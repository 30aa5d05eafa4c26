"""Comments from Instagram, pulled every 15 minutes and sent by the webhook, stored once each.

Both ways end in `record_comments`: an upsert on Instagram's comment id that
keeps what people did in the inbox and marks a comment answered when the
county's account replied, in Innspill or in the Instagram app. Replies and
"handled" from the inbox go through the functions below, which check the
comment's state, write the audit entry, and keep what the monthly report
reads (first_reply_at, status) consistent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Aggregate,
    Case,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Extract
from django.utils import timezone
from django.utils.translation import gettext as _

from libraries.dates import duration_text
from libraries.models import User
from libraries.services import audit
from publishing.instagram import channels
from publishing.instagram.client import Client, Comment, GraphAPIError, parse_comment_webhook
from publishing.models import (
    Channel,
    InstagramComment,
    InstagramCommentQuerySet,
    Post,
    PostAsset,
)

logger = logging.getLogger(__name__)

Status = InstagramComment.Status
Via = InstagramComment.Via

# Pages of 50 comments read per post (and of replies per comment) in one pull.
MAX_COMMENT_PAGES = 20
# A post whose comments were read this recently is not read again (an overlapping pull).
COMMENTS_CLAIM = timedelta(minutes=10)


def is_own(comment: Comment, channel: Channel) -> bool:
    """Written by the county's own account (in Innspill or in the Instagram app)."""
    if channel.account_id and comment.from_id == channel.account_id:
        return True
    return bool(channel.username) and (comment.username or "").lower() == channel.username.lower()


def record_comments(*, post: Post, channel: Channel, comments: Sequence[Comment], via: str) -> int:
    """Store what Instagram says about the post's comments (a pull or a webhook); returns the rows written.

    An upsert on the comment id, so the same comment told twice (pulled and sent, or
    pulled again) stays one row; what people did here (status, replied_by, handled_by)
    is never overwritten. A reply by the account answers its comment. A reply to a
    comment not stored yet waits for the next pull, which reads both.
    """
    now = timezone.now()
    # Unique by id: a comment written while the pages were read can show up on two of them.
    tops = {c.id: c for c in comments if not c.parent_id}
    replies = {c.id: c for c in comments if c.parent_id}
    # A webhook knows no like count, nor whether the comment is hidden, nor when it was written (only
    # when it was sent): it keeps what a pull read, and a pull corrects what a webhook guessed.
    refreshed = ["text", "like_count", "hidden", "username", "commented_at"] if via == Via.PULL else ["text"]

    def row(comment: Comment, parent_pk: int | None) -> InstagramComment:
        own = is_own(comment, channel)
        needs_answer = parent_pk is None and not own and not comment.hidden
        return InstagramComment(
            county_id=post.county_id,
            post=post,
            comment_id=comment.id,
            parent_id=parent_pk,
            username=(comment.username or "")[:100],
            text=comment.text,
            commented_at=comment.timestamp or now,
            like_count=comment.like_count,
            hidden=bool(comment.hidden),
            from_account=own,
            via=via,
            status=Status.UNANSWERED if needs_answer else Status.NOT_NEEDED,
        )

    def upsert(rows: list[InstagramComment]) -> None:
        if rows:
            InstagramComment.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["comment_id"], update_fields=refreshed
            )

    with transaction.atomic():
        upsert([row(c, None) for c in tops.values()])
        parents = dict(
            InstagramComment.objects.filter(post=post, comment_id__in={c.parent_id for c in replies.values()})
            .filter(parent__isnull=True)
            .values_list("comment_id", "pk")
        )
        known = [c for c in replies.values() if c.parent_id in parents]
        for reply in replies.values():
            if reply.parent_id not in parents:
                logger.info(
                    "Post %s: reply %s to unknown comment %s left for the next pull.",
                    post.pk,
                    reply.id,
                    reply.parent_id,
                )
        upsert([row(c, parents[str(c.parent_id)]) for c in known])
        _mark_answered({parents[str(c.parent_id)] for c in known if is_own(c, channel)})
        if via == Via.PULL:
            # Hidden on Instagram (moderated): nothing to answer, and Instagram allows no reply.
            InstagramComment.objects.filter(post=post, status=Status.UNANSWERED, hidden=True).update(
                status=Status.NOT_NEEDED
            )
    return len(tops) + len(known)


def _mark_answered(parent_pks: set[int]) -> None:
    """The account replied: the comment is answered, at its first reply (written here or in the app)."""
    if not parent_pks:
        return
    first_reply = (
        InstagramComment.objects.filter(parent=OuterRef("pk"), from_account=True)
        .order_by("commented_at")
        .values("commented_at")[:1]
    )
    InstagramComment.objects.filter(pk__in=parent_pks, first_reply_at__isnull=True).update(
        first_reply_at=Subquery(first_reply)
    )
    # Also a comment someone had marked handled: the reply says more.
    InstagramComment.objects.filter(pk__in=parent_pks, status__in=[Status.UNANSWERED, Status.HANDLED]).update(
        status=Status.REPLIED
    )


def pull_post_comments(*, post_id: int) -> int:
    """Read the post's comments and their replies from Instagram and store them; returns how many.

    GraphAPIError goes to the caller. A comment that nobody answered and that is no
    longer on Instagram (deleted by its writer) leaves the inbox.
    """
    post = Post.objects.select_related("channel").get(pk=post_id)
    channel = post.channel
    if not post.media_id or channel is None or not channel.is_connected:
        return 0
    started = timezone.now()
    found: list[Comment] = []
    complete = False
    with channels.graph_client(channel) as graph:
        after: str | None = None
        for _page in range(MAX_COMMENT_PAGES):
            page = graph.list_comments(post.media_id, after=after, with_replies=True)
            for comment in page.comments:
                found.append(comment)
                found.extend(_all_replies(graph, comment))
            if page.after is None:
                complete = True
                break
            after = page.after
    written = record_comments(post=post, channel=channel, comments=found, via=Via.PULL)
    if complete:
        on_instagram = {c.id for c in found if not c.parent_id}
        gone = (
            InstagramComment.objects.filter(post=post, parent__isnull=True, status=Status.UNANSWERED)
            .filter(created_at__lt=started)  # a webhook may have stored a newer one meanwhile
            .exclude(comment_id__in=on_instagram)
            .update(status=Status.NOT_NEEDED)
        )
        if gone:
            logger.info("Post %s: %s unanswered comments are gone from Instagram.", post.pk, gone)
    return written


def _all_replies(graph: Client, comment: Comment) -> list[Comment]:
    replies = list(comment.replies)
    after = comment.replies_after
    for _page in range(MAX_COMMENT_PAGES):
        if after is None:
            break
        page = graph.list_replies(comment.id, after=after)
        replies.extend(page.comments)
        after = page.after
    return replies


def pull_comments(*, now: datetime | None = None) -> int:
    """The periodic pull (every 15 minutes): posts of the last INSTAGRAM_COMMENTS_DAYS days, the ones
    with the newest comments first; returns the posts read. A throttled or stopped account is left
    for the next run; the other counties' accounts go on."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.INSTAGRAM_COMMENTS_DAYS)
    candidates = (
        Post.objects.filter(status=Post.Status.PUBLISHED, published_at__gte=since)
        .filter(channel__status=Channel.Status.CONNECTED)
        .exclude(media_id="")
        .annotate(activity=Coalesce(Max("instagram_comments__commented_at"), F("published_at")))
        .order_by("-activity", "-pk")
        .values_list("pk", "channel_id")
    )
    held_back: set[int] = set()
    read = 0
    for post_id, channel_id in list(candidates):
        if channel_id in held_back:
            continue
        claimed = (
            Post.objects.filter(pk=post_id)
            .filter(Q(comments_read_at__isnull=True) | Q(comments_read_at__lte=now - COMMENTS_CLAIM))
            .update(comments_read_at=now)
        )
        if not claimed:
            continue  # another pull has just read it
        try:
            pull_post_comments(post_id=post_id)
        except GraphAPIError as error:
            if error.is_token_invalid:
                channels.stop_channel(
                    channel_id=channel_id,
                    reason=_("Instagram no longer accepts the connection: %(reason)s") % {"reason": error.reason},
                )
                held_back.add(channel_id)
            elif error.is_rate_limit:
                logger.warning("Channel %s is throttled; its comments wait for the next pull: %r", channel_id, error)
                held_back.add(channel_id)
            elif error.is_unknown_object:
                logger.info("Post %s: its media is gone from Instagram; comments not read.", post_id)
            else:
                logger.warning("Post %s: reading its comments failed: %r", post_id, error)
            continue
        read += 1
    return read


def receive_comment_webhook(payload: object) -> int:
    """What a (verified) webhook delivery says about comments, stored as pulled ones are; returns the
    comments stored. Comments on media we did not publish are ignored. No Graph API calls: Meta
    wants its answer within seconds."""
    told = parse_comment_webhook(payload)
    if not told:
        return 0
    found: dict[tuple[str, str], tuple[Post, Channel]] = {}
    for post in Post.objects.filter(
        media_id__in={c.media_id for c in told}, channel__account_id__in={c.account_id for c in told}
    ).select_related("channel"):
        if post.channel is not None:
            found[(post.channel.account_id, post.media_id)] = (post, post.channel)
    by_post: dict[int, tuple[Post, Channel, list[Comment]]] = {}
    for change in told:
        known = found.get((change.account_id, change.media_id))
        if known is None:
            logger.info(
                "Webhook: comment %s on media %s is not on one of our posts.", change.comment_id, change.media_id
            )
            continue
        comment = Comment(
            id=change.comment_id,
            text=change.text,
            timestamp=change.time,
            username=change.username,
            parent_id=change.parent_id,
            from_id=change.from_id,
        )
        by_post.setdefault(known[0].pk, (*known, []))[2].append(comment)
    stored = 0
    for post, channel, comments in by_post.values():
        stored += record_comments(post=post, channel=channel, comments=comments, via=Via.WEBHOOK)
    return stored


# --- How fast the county answers ---


class Median(Aggregate):
    """PostgreSQL's continuous median of an expression."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def reply_median() -> Median:
    """The median time from a comment to the account's first reply, in seconds, as an aggregate over comments
    (the inbox's and the monthly report's measure, over `from_followers()`); comments not replied to yet do
    not count. An aggregate, so that the report reads it with its other counts of the month's comments."""
    waited = ExpressionWrapper(F("first_reply_at") - F("commented_at"), output_field=DurationField())
    return Median(Extract(waited, "epoch"), filter=Q(first_reply_at__isnull=False))


def median_reply_seconds(comments: InstagramCommentQuerySet) -> float | None:
    """The median time from a follower's comment to the account's first reply, in seconds (the inbox
    and the monthly report both show it); comments not replied to yet do not count."""
    result = comments.from_followers().aggregate(median=reply_median())["median"]
    return float(result) if result is not None else None


# --- The inbox: replying and marking handled ---

# Instagram's limit on a comment's length.
MAX_REPLY_CHARS = 2200
INBOX_MEDIAN_DAYS = 30


def reply_to_comment(*, by: User, comment: InstagramComment, text: str) -> InstagramComment:
    """Reply on Instagram as the county's account and store the reply; the comment is answered.

    ValidationError says in words what stopped it (the typed text is the caller's to keep).
    A reply whose answer was lost (a timeout) is looked for among the comment's replies
    before the person is told it failed, so that trying again does not reply twice.
    """
    text = text.strip()
    if not text:
        raise ValidationError(_("Write the reply first."))
    if len(text) > MAX_REPLY_CHARS:
        raise ValidationError(
            _("A reply can be at most %(limit)s characters long; this one has %(count)s.")
            % {"limit": MAX_REPLY_CHARS, "count": len(text)}
        )
    if "\x00" in text:
        raise ValidationError(_("The reply contains an invisible control character; remove it and send it again."))
    if comment.parent_id is not None or comment.from_account:
        raise ValidationError(_("Only comments from others are answered here."))
    if not comment.post.media_id:
        raise ValidationError(_("The post is not on Instagram, so its comments cannot be answered from here."))
    if comment.hidden:
        raise ValidationError(_("The comment is hidden on Instagram, which allows no replies to it."))
    channel = comment.post.channel
    if channel is None or not channel.is_connected:
        raise ValidationError(_("The Instagram connection is not working; a coordinator must connect it again."))
    try:
        with channels.graph_client(channel) as graph:
            try:
                reply_id = graph.reply_to_comment(comment.comment_id, text)
            except GraphAPIError as error:
                found = _find_lost_reply(graph, comment, text, channel) if error.maybe_applied else None
                if found is None:
                    raise
                reply_id = found
    except GraphAPIError as error:
        logger.info("Replying to comment %s failed: %r", comment.pk, error)
        raise ValidationError(channels.graph_error_reason(error, channel)) from error
    now = timezone.now()
    with transaction.atomic():
        # The webhook may have told us about the reply already: the same row, written here.
        reply, _created = InstagramComment.objects.update_or_create(
            comment_id=reply_id,
            defaults={"text": text, "via": Via.APP, "from_account": True, "status": Status.NOT_NEEDED},
            create_defaults={
                "county_id": comment.county_id,
                "post_id": comment.post_id,
                "parent": comment,
                "username": channel.username,
                "text": text,
                "commented_at": now,
                "from_account": True,
                "via": Via.APP,
                "status": Status.NOT_NEEDED,
            },
        )
        InstagramComment.objects.filter(pk=comment.pk).update(
            first_reply_at=Coalesce(F("first_reply_at"), Value(now)),
            replied_by=Coalesce(F("replied_by"), Value(by.pk)),
            status=Case(
                When(status__in=[Status.UNANSWERED, Status.HANDLED], then=Value(Status.REPLIED)), default=F("status")
            ),
        )
        audit(
            county=comment.county,
            actor=by,
            action="comment.replied",
            obj=comment,
            summary=text,
            post_id=comment.post_id,
            reply_id=reply_id,
        )
    return reply


def _find_lost_reply(graph: Client, comment: InstagramComment, text: str, channel: Channel) -> str | None:
    """The id of our reply with this text that Instagram has but we have not stored, if any."""
    try:
        page = graph.list_replies(comment.comment_id)
        stored = set(InstagramComment.objects.filter(parent=comment).values_list("comment_id", flat=True))
        for reply in page.comments:
            if reply.id not in stored and is_own(reply, channel) and reply.text.strip() == text:
                return reply.id
    except GraphAPIError as error:
        logger.info("Looking for a lost reply to comment %s failed: %r", comment.pk, error)
    return None


def mark_handled(*, by: User, comment: InstagramComment) -> None:
    """Nothing to answer (a thank-you, a heart): the comment leaves the unanswered list."""
    now = timezone.now()
    with transaction.atomic():
        moved = InstagramComment.objects.filter(pk=comment.pk, status=Status.UNANSWERED).update(
            status=Status.HANDLED, handled_by=by, handled_at=now
        )
        if not moved:
            raise ValidationError(_("Someone answered this comment or marked it handled meanwhile."))
        audit(
            county=comment.county,
            actor=by,
            action="comment.handled",
            obj=comment,
            summary=f"@{comment.username}: {comment.text}",
            post_id=comment.post_id,
        )


def reopen_comment(*, by: User, comment: InstagramComment) -> None:
    """Undo "handled": the comment is unanswered again."""
    with transaction.atomic():
        moved = InstagramComment.objects.filter(pk=comment.pk, status=Status.HANDLED).update(
            status=Status.UNANSWERED, handled_by=None, handled_at=None
        )
        if not moved:
            raise ValidationError(_("This comment is not marked handled (any more)."))
        audit(
            county=comment.county,
            actor=by,
            action="comment.reopened",
            obj=comment,
            summary=f"@{comment.username}: {comment.text}",
            post_id=comment.post_id,
        )


# --- What the pages show ---


@dataclass
class InboxRow:
    """One comment in the inbox, with what its row shows (and a failed reply's text and reason)."""

    comment: InstagramComment
    waited: str
    thumbnail_url: str
    own_replies: list[InstagramComment] = field(default_factory=list)
    reply_text: str = ""
    error: str = ""
    notice: str = ""

    @property
    def is_open(self) -> bool:
        return self.comment.status == Status.UNANSWERED


def with_inbox_details(comments: InstagramCommentQuerySet) -> InstagramCommentQuerySet:
    """What an inbox row reads, in a fixed number of queries: the post with its first picture (`first_media`),
    who replied or marked it handled, and the account's replies.

    Only the fields a row shows (jinja2/publishing/_inbox_rows.html, `inbox_row`): every column of fifty
    comments, their posts (with their JSON), the people and each post's media was most of the page's reading.
    Any other field read on a row would be a query per comment, which the inbox's query-count test catches."""
    # Only each post's first medium (DISTINCT ON the post): a carousel's other nine were read and never shown.
    media = (
        PostAsset.objects.select_related("asset")
        .only(*INBOX_MEDIA_FIELDS)
        .order_by("post_id", "position", "pk")
        .distinct("post_id")
    )
    replies = (
        InstagramComment.objects.filter(from_account=True).only(*INBOX_REPLY_FIELDS).order_by("commented_at", "pk")
    )
    return (
        comments.select_related("post", "replied_by", "handled_by")
        .only(*INBOX_ROW_FIELDS)
        .prefetch_related(
            Prefetch("post__post_assets", queryset=media, to_attr="first_media"),
            Prefetch("replies", queryset=replies, to_attr="own_replies"),
        )
    )


INBOX_ROW_FIELDS = (
    "status",
    "username",
    "text",
    "commented_at",
    "hidden",
    "handled_at",
    "post__title",
    "replied_by__name",
    "replied_by__email",
    "handled_by__name",
    "handled_by__email",
)
INBOX_MEDIA_FIELDS = ("post_id", "position", "asset__thumbnail", "asset__poster", "asset__updated_at")
INBOX_REPLY_FIELDS = ("parent_id", "username", "text", "commented_at")


def inbox_row(
    comment: InstagramComment,
    *,
    now: datetime | None = None,
    reply_text: str = "",
    error: str = "",
    notice: str = "",
) -> InboxRow:
    now = now or timezone.now()
    first = next((link.asset for link in comment.post.first_media), None)  # type: ignore[attr-defined]  # prefetched
    return InboxRow(
        comment=comment,
        waited=duration_text(comment.age(now), now=now),
        thumbnail_url=(first.thumbnail_url or first.poster_url) if first is not None else "",
        own_replies=list(getattr(comment, "own_replies", [])),
        reply_text=reply_text,
        error=error,
        notice=notice,
    )


def inbox_rows(comments: Iterable[InstagramComment], *, now: datetime | None = None) -> list[InboxRow]:
    now = now or timezone.now()
    return [inbox_row(comment, now=now) for comment in comments]


def inbox_median(county_comments: InstagramCommentQuerySet, *, now: datetime | None = None) -> str | None:
    """The median time to the first reply over the last 30 days, in words; None without replies."""
    now = now or timezone.now()
    seconds = median_reply_seconds(county_comments.filter(commented_at__gte=now - timedelta(days=INBOX_MEDIAN_DAYS)))
    return duration_text(seconds, depth=2, now=now) if seconds is not None else None
