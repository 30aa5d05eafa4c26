"""Posts: what goes out, with its media, collaborators, review and remote state."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from libraries.models import County, Library, User, count_per_row
from production.models import Asset, AssetPerson, Concept, Consent, ContentType, Idea, RecordingDay
from publishing.models.instagram import Channel
from publishing.posts.captions import full_caption


class LocalDayStart(models.Func):
    """When the local day (in the time zone named) that `moment` falls in starts, `days` days later:
    PostgreSQL's date_trunc in that zone, as a moment (a day across a change of summer time is 23 or 25
    hours). A range between two of them is a day that an index on the moments serves."""

    output_field = models.DateTimeField()

    def __init__(self, moment: models.Expression | OuterRef, zone: str, *, days: int = 0) -> None:
        super().__init__(moment, models.Value(zone), models.Value(f"{days} days"))

    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[no-untyped-def,override]  # Django's own signature
        (moment, moment_params), (zone, zone_params), (offset, offset_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        sql = f"((DATE_TRUNC('day', {moment} AT TIME ZONE {zone}) + {offset}::interval) AT TIME ZONE {zone})"
        return sql, (*moment_params, *zone_params, *offset_params, *zone_params)


class PostQuerySet(models.QuerySet["Post"]):
    def with_posts_that_day(self) -> PostQuerySet:
        """Each post with how many planned posts its local day holds (`posts_that_day`: Instagram's daily
        limit, `publishing.posts.plan.day_over_limit`), counted in the same query."""
        start = LocalDayStart(OuterRef("scheduled_at"), settings.TIME_ZONE)
        end = LocalDayStart(OuterRef("scheduled_at"), settings.TIME_ZONE, days=1)
        same_day = Post.objects.filter(
            county=OuterRef("county"),
            status__in=Post.PLANNED_STATUSES,
            scheduled_at__gte=start,
            scheduled_at__lt=end,
        )
        return self.annotate(posts_that_day=count_per_row(same_day, "county"))

    def for_county(self, county: County) -> PostQuerySet:
        return self.filter(county=county)

    def visible_to_librarians(self) -> PostQuerySet:
        """The plan as libraries see it: what is scheduled or out; drafts are the county's work in progress."""
        return self.filter(status__in=Post.PLANNED_STATUSES)

    def awaiting_approval(self) -> PostQuerySet:
        return self.filter(status=Post.Status.IN_REVIEW)

    def live(self) -> PostQuerySet:
        """Everything but cancelled posts."""
        return self.exclude(status=Post.Status.CANCELLED)

    def scheduled_between(self, start: datetime, end: datetime) -> PostQuerySet:
        return self.filter(scheduled_at__gte=start, scheduled_at__lt=end)

    def of_library(self, library: Library) -> PostQuerySet:
        """Posts a library takes part in: as a collaborator, or through its idea or media.

        Each way an EXISTS on the post's own rows (their indexes), not joins: joined, a post came once for each of
        its collaborators, ideas' libraries and media, and DISTINCT sorted every post of the county to fold them
        (0.4 s for a library's monthly report at bench scale 5)."""
        return self.filter(
            Exists(PostCollaborator.objects.filter(post=OuterRef("pk"), library=library))
            | Exists(Idea.objects.filter(pk=OuterRef("idea_id"), library=library))
            | Exists(Idea.libraries.through.objects.filter(idea=OuterRef("idea_id"), library=library))
            | Exists(PostAsset.objects.filter(post=OuterRef("pk"), asset__library=library))
        )

    def showing_assets(self, asset_ids: list[int]) -> PostQuerySet:
        return self.filter(Exists(PostAsset.objects.filter(post=OuterRef("pk"), asset_id__in=asset_ids)))

    def due(self, now: datetime) -> PostQuerySet:
        """Scheduled posts whose time has come, on a channel that can publish."""
        return self.filter(
            status=Post.Status.SCHEDULED, scheduled_at__lte=now, channel__status=Channel.Status.CONNECTED
        )

    def stranded(self, now: datetime) -> PostQuerySet:
        """Posts the worker started but nobody holds: its worker died, or its task was lost with Redis.

        A held post has a lease; a post waiting for a retry has none, but a
        `next_attempt_at`: it counts as stranded only a lease's length after
        that moment, when its retry should long have started.
        """
        grace = timedelta(seconds=settings.PUBLISH_LEASE_SECONDS)
        unfinished = Q(status=Post.Status.PUBLISHING) | (
            Q(status=Post.Status.PUBLISHED) & ~Q(publish_step=Post.Step.NOTIFIED)
        )
        unheld = Q(lease_expires_at__lt=now) | (Q(lease_expires_at__isnull=True) & Q(next_attempt_at__lt=now - grace))
        return self.filter(unfinished & unheld, channel__status=Channel.Status.CONNECTED)

    def waiting_due(self, now: datetime) -> PostQuerySet:
        """Posts waiting for the daily limit or the connection whose moment has come (and whose channel works)."""
        return self.filter(
            status=Post.Status.PUBLISHING,
            waiting_for__in=[Post.Waiting.QUOTA, Post.Waiting.CONNECTION],
            channel__status=Channel.Status.CONNECTED,
        ).filter(
            (Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
            & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        )

    def not_out_yet(self) -> PostQuerySet:
        """Everything a stopped channel holds back: scheduled posts and those the worker holds before publishing."""
        return self.filter(Q(status=Post.Status.SCHEDULED) | Q(status=Post.Status.PUBLISHING, media_id=""))

    def with_pending_invites(self, since: datetime) -> PostQuerySet:
        """Published posts whose collaborator invitations may still change (read them again)."""
        pending = PostCollaborator.objects.filter(post=OuterRef("pk"), invite_status=PostCollaborator.Invite.PENDING)
        return (
            self.filter(status=Post.Status.PUBLISHED, published_at__gte=since)
            .exclude(media_id="")
            .filter(Exists(pending))
        )

    def for_gates(self) -> PostQuerySet:
        """Everything the gates and a list row read, in a fixed number of queries."""
        return self.select_related("county", "responsible", "created_by", "concept", "idea").prefetch_related(
            *gate_reads()
        )


def gate_reads() -> list[Prefetch[str, models.QuerySet[models.Model], str]]:
    """What the gates read of a post beyond its own row (`for_gates`; or, for a post already in hand,
    `prefetch_related_objects`, as the worker does at publish time)."""

    def people() -> models.QuerySet[AssetPerson]:
        return AssetPerson.objects.select_related("person").prefetch_related(
            Prefetch("person__consents", queryset=Consent.objects.order_by("-given_at"))
        )

    return [
        Prefetch(
            "post_assets",
            # Unordered: `ordered_assets` sorts them. Django hashes every selected column of an ordered
            # query (some 100 here, each through inspect), which cost more than the query itself.
            queryset=PostAsset.objects.select_related("asset__library", "asset__borrowed_from__library")
            .order_by()
            .prefetch_related(
                Prefetch("asset__people", queryset=people()),
                # A borrowed copy's consent is its origin's (production/release.py).
                Prefetch("asset__borrowed_from__people", queryset=people()),
            ),
        ),
        Prefetch("post_collaborators", queryset=PostCollaborator.objects.select_related("library")),
        # Every approval, newest first: the one that stands for the gates, all of them for the post page.
        Prefetch("approvals", queryset=Approval.objects.select_related("by").order_by("-at", "-pk")),
    ]


class Post(models.Model):
    """One Instagram post: composed from assets, reviewed, scheduled and published by the worker."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHING = "publishing", _("Publishing")
        PUBLISHED = "published", _("Published")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class MediaKind(models.TextChoices):
        IMAGE = "image", _("One photo")
        CAROUSEL = "carousel", _("Carousel (2 to 10 photos or videos)")
        REEL = "reel", _("Reel (one video)")

    class Waiting(models.TextChoices):
        """Why a post the worker holds is not out yet (shown on the post, the plan and the home page)."""

        NOTHING = "", _("Not waiting")
        QUOTA = "quota", _("Waiting for Instagram's daily limit")
        CONNECTION = "connection", _("Waiting for the Instagram connection")
        PROCESSING = "processing", _("Instagram is processing the media")
        FINDING_MEDIA = "finding_media", _("Published, looking for the link")

    class Step(models.TextChoices):
        """How far the worker got; each step is stored before the next begins (publishing/publish.py)."""

        START = "start", _("Not started")
        CONTAINERS_CREATED = "containers_created", _("Media sent to Instagram")
        CONTAINERS_FINISHED = "containers_finished", _("Media processed by Instagram")
        PUBLISHED = "published", _("Published")
        COLLABORATORS_CHECKED = "collaborators_checked", _("Collaborator invitations read")
        ARCHIVED = "archived", _("Filed in the archive")
        NOTIFIED = "notified", _("Libraries told")

    # Which status may follow which; publishing/services.py moves posts only along these.
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.DRAFT: {Status.IN_REVIEW, Status.CANCELLED},
        Status.IN_REVIEW: {Status.APPROVED, Status.DRAFT, Status.CANCELLED},
        Status.APPROVED: {Status.SCHEDULED, Status.IN_REVIEW, Status.CANCELLED},
        Status.SCHEDULED: {Status.PUBLISHING, Status.APPROVED, Status.IN_REVIEW, Status.CANCELLED},
        # Back to the editor (nothing reached Instagram): too late after a reconnect, or a gate fails at publish time.
        Status.PUBLISHING: {Status.PUBLISHED, Status.FAILED, Status.APPROVED, Status.IN_REVIEW},
        Status.FAILED: {Status.SCHEDULED, Status.IN_REVIEW, Status.CANCELLED},
        Status.PUBLISHED: set(),
        Status.CANCELLED: set(),
    }
    # Content changes are allowed in these; after approval they send the post back to review.
    EDITABLE_STATUSES: ClassVar[frozenset[str]] = frozenset(
        {Status.DRAFT, Status.IN_REVIEW, Status.APPROVED, Status.SCHEDULED, Status.FAILED}
    )
    # The time can move (the plan's drag and drop) in these.
    MOVABLE_STATUSES: ClassVar[frozenset[str]] = EDITABLE_STATUSES
    PLANNED_STATUSES: ClassVar[frozenset[str]] = frozenset({Status.SCHEDULED, Status.PUBLISHING, Status.PUBLISHED})
    # Whom an editor asks for approval: a draft, or a failed post after it was fixed. Scheduled and
    # publishing posts also go back to review, but only by the system (a change, a gate at publish time).
    SUBMITTABLE_STATUSES: ClassVar[frozenset[str]] = frozenset({Status.DRAFT, Status.FAILED})

    county = models.ForeignKey(County, on_delete=models.CASCADE, related_name="posts", verbose_name=_("county"))
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, null=True, blank=True, related_name="posts", verbose_name=_("channel")
    )
    title = models.CharField(_("working title"), max_length=200, help_text=_("For the plan and lists; not published."))
    caption = models.TextField(_("caption"), blank=True)
    credit = models.CharField(
        _("inspiration credit"),
        max_length=300,
        blank=True,
        help_text=_("Added to the end of the caption. Borrowed the idea? Name the source."),
    )
    media_kind = models.CharField(_("kind of post"), max_length=10, choices=MediaKind.choices, default=MediaKind.IMAGE)
    assets = models.ManyToManyField(Asset, through="PostAsset", related_name="posts", verbose_name=_("media"))
    collaborators = models.ManyToManyField(
        Library, through="PostCollaborator", related_name="collaborator_posts", verbose_name=_("collaborators")
    )
    idea = models.ForeignKey(
        Idea, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts", verbose_name=_("idea")
    )
    recording_day = models.ForeignKey(
        RecordingDay,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="posts",
        verbose_name=_("recording day"),
    )
    concept = models.ForeignKey(
        Concept, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts", verbose_name=_("concept")
    )
    content_type = models.CharField(_("content type"), max_length=20, choices=ContentType.choices, blank=True)
    responsible = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("responsible")
    )
    scheduled_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # Approved by its author alone (the county allows it): flagged "not reviewed" on the post, the plan and
    # the report until another editor reviews it afterwards (posts/services.py: mark_reviewed).
    awaits_second_review = models.BooleanField(_("not reviewed"), default=False)
    failure_reason = models.TextField(_("why it failed"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    last_edited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # --- The worker's state (publishing/publish.py); written only there, step by step. ---
    publish_step = models.CharField(max_length=30, choices=Step.choices, default=Step.START)
    child_container_ids = models.JSONField(default=list, blank=True)  # carousel items, in order
    container_id = models.CharField(max_length=64, blank=True)  # what is published: the image, reel or album
    containers_created_at = models.DateTimeField(null=True, blank=True)
    # Every container media_publish was ever called for, with the caption sent and when
    # ({"container_id", "caption", "at"}): asked about before anything is published again.
    publish_attempts = models.JSONField(default=list, blank=True)
    media_id = models.CharField(max_length=64, blank=True)
    permalink = models.URLField(max_length=500, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)  # failed calls in a row (transient errors)
    rate_limit_waits = models.PositiveIntegerField(default=0)
    container_rounds = models.PositiveIntegerField(default=0)  # containers thrown away and made again
    status_polls = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Why the post is not out yet, and since when (publish.py sets it; a step that succeeds clears it).
    waiting_for = models.CharField(max_length=20, choices=Waiting.choices, blank=True, default=Waiting.NOTHING)
    waiting_since = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # technical, for the log and the admin
    collaborators_checked_at = models.DateTimeField(null=True, blank=True)

    # --- After publishing (publishing/followup/) ---
    # The next insights reading (about 1 h, 1 day, 7 and 28 days after publishing) and how many were taken.
    insights_due_at = models.DateTimeField(null=True, blank=True)
    insights_round = models.PositiveSmallIntegerField(default=0)
    # The latest values read, by metric name ({"reach": 120, ...}), and when.
    insights = models.JSONField(default=dict, blank=True)
    insights_read_at = models.DateTimeField(null=True, blank=True)
    comments_read_at = models.DateTimeField(null=True, blank=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ("scheduled_at", "pk")
        indexes = [
            models.Index(fields=["county", "scheduled_at"]),
            models.Index(fields=["status", "scheduled_at"]),
            # The monthly report's posts: a county's published in a month (it read every post of the county).
            models.Index(fields=["county", "published_at"], name="post_county_published"),
            models.Index(
                fields=["insights_due_at"], condition=Q(insights_due_at__isnull=False), name="post_insights_due"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "media_id"], condition=~Q(media_id=""), name="one_post_per_instagram_media"
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("publishing:post_detail", args=[self.pk])

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES

    @property
    def is_submittable(self) -> bool:
        return self.status in self.SUBMITTABLE_STATUSES

    @property
    def is_movable(self) -> bool:
        return self.status in self.MOVABLE_STATUSES

    @property
    def full_caption(self) -> str:
        return full_caption(self.caption, self.credit)

    def ordered_assets(self) -> list[Asset]:
        """The media in their order (uses prefetched `post_assets` when present)."""
        return [link.asset for link in sorted(self.post_assets.all(), key=lambda link: (link.position, link.pk))]

    def collaborator_libraries(self) -> list[Library]:
        return sorted((link.library for link in self.post_collaborators.all()), key=lambda library: library.name)

    def active_approval(self) -> Approval | None:
        """The approval that stands (`for_gates` prefetches "approvals")."""
        return next((a for a in self.approvals.all() if a.withdrawn_at is None), None)

    @property
    def is_published(self) -> bool:
        return bool(self.media_id)

    @property
    def may_change_by_itself(self) -> bool:
        """The worker may still move it: scheduled, being published (or waiting), or published without its
        link yet. The post page asks for its status again only while this is true (views/posts.py: post_status)."""
        if self.status in (Post.Status.SCHEDULED, Post.Status.PUBLISHING):
            return True
        return self.status == Post.Status.PUBLISHED and not self.permalink and self.publish_step != Post.Step.NOTIFIED

    @property
    def waiting_note(self) -> str:
        """The reason a post the worker holds (or a due one) is not published yet; empty when there is none.

        A transient error the worker will retry is not a problem and is not shown;
        only what someone may wonder about (a long wait) or act on (the connection).
        """
        if self.media_id and self.waiting_for != Post.Waiting.FINDING_MEDIA:
            return ""
        waiting = self.waiting_for
        if self.status == Post.Status.PUBLISHING:
            if waiting == Post.Waiting.QUOTA:
                return gettext("Waiting for Instagram's daily limit — next try %(time)s") % {
                    "time": _short_local_time(self.next_attempt_at)
                }
            if waiting == Post.Waiting.CONNECTION:
                return gettext("Waiting for the Instagram connection")
            if waiting == Post.Waiting.PROCESSING:
                values = {"polls": self.status_polls, "max": settings.PUBLISH_MAX_POLLS}
                if self.media_kind == Post.MediaKind.IMAGE:
                    return gettext("Instagram is still processing the photo (%(polls)s of %(max)s checks)") % values
                return gettext("Instagram is still processing the video (%(polls)s of %(max)s checks)") % values
            if waiting == Post.Waiting.FINDING_MEDIA:
                return gettext("Published, looking for the link")
            return ""
        if (
            self.status == Post.Status.SCHEDULED
            and self.scheduled_at is not None
            and self.scheduled_at <= timezone.now()
            and self.channel_id is not None
            and not self._channel_connected(self.channel_id)
        ):
            return gettext("Waiting for the Instagram connection")
        return ""

    def _channel_connected(self, channel_id: int) -> bool:
        """Whether the post's channel is connected: from the channel read with the post when it was (the plan
        reads a month of posts so, in one query), else in a query of its own."""
        if Post.channel.is_cached(self):
            return self.channel is not None and self.channel.status == Channel.Status.CONNECTED
        return Channel.objects.filter(pk=channel_id, status=Channel.Status.CONNECTED).exists()


class PostAsset(models.Model):
    """An asset in a post, at a position (a carousel's order)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="post_assets")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="post_links")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ("post", "position")
        constraints = [
            models.UniqueConstraint(fields=["post", "asset"], name="asset_once_per_post"),
            models.UniqueConstraint(
                fields=["post", "position"], name="one_asset_per_position", deferrable=models.Deferrable.DEFERRED
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post} #{self.position}: {self.asset}"


class PostCollaborator(models.Model):
    """A library invited as a collaborator (an Instagram "Collab" post), and its answer."""

    class Invite(models.TextChoices):
        NOT_SENT = "", _("Not invited yet")
        PENDING = "pending", _("Invitation pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="post_collaborators")
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+")
    # The username the invitation went to (the library may change its own later).
    username = models.CharField(max_length=30, blank=True)
    invite_status = models.CharField(max_length=10, choices=Invite.choices, blank=True, default=Invite.NOT_SENT)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("post", "library__name")
        constraints = [models.UniqueConstraint(fields=["post", "library"], name="library_once_per_post")]

    def __str__(self) -> str:
        return f"{self.library} ({self.get_invite_status_display()})"


class Approval(models.Model):
    """An editor's approval of a post as it was then; an edit afterwards withdraws it."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="approvals")
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=300, blank=True)
    # The author approved alone (the county allows it); the post is "not reviewed" until `reviewed_by`.
    without_second_review = models.BooleanField(default=False)
    reviewed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ("-at",)
        constraints = [
            models.UniqueConstraint(
                fields=["post"], condition=Q(withdrawn_at__isnull=True), name="one_standing_approval_per_post"
            )
        ]

    def __str__(self) -> str:
        return f"{self.post} ← {self.by}"


def _short_local_time(moment: datetime | None) -> str:
    """8:54 p.m. (20:54) today, "tomorrow 00:29", else the short date and time, in the language's formats."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    time = formats.time_format(local, "TIME_FORMAT")
    days = (local.date() - timezone.localdate()).days
    if days == 0:
        return time
    if days == 1:
        return gettext("tomorrow %(time)s") % {"time": time}
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")
