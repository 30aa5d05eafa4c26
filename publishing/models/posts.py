"""What goes out, and what is kept: the channel, posts with their review and remote state, the archive."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Exists, F, OuterRef, Prefetch, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from libraries.models import County, Library, User
from production.models import Asset, AssetPerson, Concept, Consent, ContentType, Idea, RecordingDay
from publishing.instagram import crypto
from publishing.posts.captions import full_caption

# --- The channel ---


class ChannelQuerySet(models.QuerySet["Channel"]):
    def for_county(self, county: County) -> ChannelQuerySet:
        return self.filter(county=county)

    def instagram(self) -> ChannelQuerySet:
        return self.filter(kind=Channel.Kind.INSTAGRAM)

    def connected(self) -> ChannelQuerySet:
        return self.filter(status=Channel.Status.CONNECTED)

    def tokens_to_refresh(self, now: datetime) -> ChannelQuerySet:
        """Connected channels whose token expires within the refresh window (and has not expired)."""
        horizon = now + timedelta(days=settings.INSTAGRAM_TOKEN_REFRESH_DAYS)
        return self.connected().filter(token_expires_at__gt=now, token_expires_at__lte=horizon)

    def tokens_to_warn_about(self, now: datetime) -> ChannelQuerySet:
        """Connected channels whose token expires within the warning window and nobody was told yet."""
        horizon = now + timedelta(days=settings.INSTAGRAM_TOKEN_WARNING_DAYS)
        return self.connected().filter(
            token_expires_at__gt=now, token_expires_at__lte=horizon, expiry_warning_sent_at__isnull=True
        )

    def tokens_expired(self, now: datetime) -> ChannelQuerySet:
        return self.connected().filter(token_expires_at__lte=now)


class Channel(models.Model):
    """Where a county publishes: its Instagram professional account (Facebook Pages may follow: `kind`)."""

    class Kind(models.TextChoices):
        # TikTok and Telegram are out of scope by policy (DESIGN.md §1).
        INSTAGRAM = "instagram", _("Instagram")

    class Status(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        RECONNECT_REQUIRED = "reconnect_required", _("Must be connected again")
        DISCONNECTED = "disconnected", _("Not connected")

    county = models.ForeignKey(County, on_delete=models.CASCADE, related_name="channels", verbose_name=_("county"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INSTAGRAM)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DISCONNECTED)
    status_reason = models.CharField(_("reason"), max_length=500, blank=True)
    # The Instagram account: its id (the "IG user id" the Graph API publishes to) and username.
    account_id = models.CharField(_("account id"), max_length=64, blank=True)
    username = models.CharField(_("Instagram username"), max_length=30, blank=True)
    page_id = models.CharField(max_length=64, blank=True)
    page_name = models.CharField(_("Facebook Page"), max_length=200, blank=True)
    # Fernet ciphertext (publishing/crypto.py); never the token itself.
    token_ciphertext = models.TextField(blank=True, editable=False)
    token_expires_at = models.DateTimeField(_("token expires"), null=True, blank=True)
    token_refreshed_at = models.DateTimeField(null=True, blank=True)
    # Claimed (a conditional UPDATE) before the warning is sent: each token is warned about once.
    expiry_warning_sent_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    connected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [models.UniqueConstraint(fields=["county", "kind"], name="one_channel_per_county_and_kind")]

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else str(self.get_kind_display())

    @property
    def is_connected(self) -> bool:
        return self.status == self.Status.CONNECTED

    @property
    def access_token(self) -> str:
        return crypto.decrypt(self.token_ciphertext) if self.token_ciphertext else ""

    def set_access_token(self, token: str) -> None:
        self.token_ciphertext = crypto.encrypt(token) if token else ""


# --- Posts ---


class PostQuerySet(models.QuerySet["Post"]):
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
        """Posts a library takes part in: as a collaborator, or through its idea or media."""
        return self.filter(
            Q(collaborators=library)
            | Q(idea__library=library)
            | Q(idea__libraries=library)
            | Q(assets__library=library)
        ).distinct()

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
            Prefetch(
                "post_assets",
                queryset=PostAsset.objects.select_related("asset").prefetch_related(
                    Prefetch(
                        "asset__people",
                        queryset=AssetPerson.objects.select_related("person").prefetch_related(
                            Prefetch("person__consents", queryset=Consent.objects.order_by("-given_at"))
                        ),
                    )
                ),
            ),
            Prefetch("post_collaborators", queryset=PostCollaborator.objects.select_related("library")),
            Prefetch("approvals", queryset=Approval.objects.filter(withdrawn_at__isnull=True).select_related("by")),
        )


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
        Status.PUBLISHING: {Status.PUBLISHED, Status.FAILED},
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
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # technical, for the log and the admin
    collaborators_checked_at = models.DateTimeField(null=True, blank=True)

    # --- After publishing (publishing/engagement_services.py) ---
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
        """The approval that stands (prefetch "approvals" filtered to the active ones for lists)."""
        return next((a for a in self.approvals.all() if a.withdrawn_at is None), None)

    @property
    def is_published(self) -> bool:
        return bool(self.media_id)


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


# --- The archive ---


def reusable_condition(today: date) -> Q:
    """Everyone shown in the item has allowed its reuse, today (a withdrawal, a lapse or a missing
    consent blocks); the SQL twin of `ArchiveItem.is_reusable`."""
    return Q(reuse_blocked=False) & (Q(consent_valid_until__isnull=True) | Q(consent_valid_until__gte=today))


class ArchiveItemQuerySet(models.QuerySet["ArchiveItem"]):
    def for_county(self, county: County) -> ArchiveItemQuerySet:
        return self.filter(county=county)

    def reusable(self, today: date | None = None) -> ArchiveItemQuerySet:
        return self.filter(reusable_condition(today or timezone.localdate()))

    def blocked(self, today: date | None = None) -> ArchiveItemQuerySet:
        return self.exclude(reusable_condition(today or timezone.localdate()))


class ArchiveItem(models.Model):
    """One asset in the shared archive: published (filed by the worker) or archived by an editor.

    One item per asset, however often it is published: the first post is
    `post`, later ones are `reuses`. The searchable text, the consent summary
    and the reuse count are copies kept up to date by `publishing.archive.filing`
    (`refresh_items`), so that search and its filters are plain indexed reads.
    """

    class Source(models.TextChoices):
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived by an editor")

    class Orientation(models.TextChoices):
        PORTRAIT = "portrait", _("Portrait")
        SQUARE = "square", _("Square")
        LANDSCAPE = "landscape", _("Landscape")

    county = models.ForeignKey(County, on_delete=models.CASCADE, related_name="archive_items")
    asset = models.OneToOneField(Asset, on_delete=models.PROTECT, related_name="archive_item")
    post = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="archive_items",
        verbose_name=_("first published in"),
    )  # fmt: skip
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.PUBLISHED)
    archived_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    libraries = models.ManyToManyField(Library, related_name="archive_items", blank=True, verbose_name=_("libraries"))
    content_type = models.CharField(_("content type"), max_length=20, choices=ContentType.choices, blank=True)
    concept = models.ForeignKey(
        Concept, on_delete=models.SET_NULL, null=True, blank=True, related_name="archive_items",
        verbose_name=_("concept"),
    )  # fmt: skip
    title = models.CharField(_("title"), max_length=200, blank=True)
    caption = models.TextField(_("caption"), blank=True)
    alt_text = models.TextField(_("alt text"), blank=True)
    credit_line = models.CharField(_("credit line"), max_length=300, blank=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True, verbose_name=_("tags"))
    media_kind = models.CharField(_("kind"), max_length=10, choices=Asset.Kind.choices, default=Asset.Kind.IMAGE)
    orientation = models.CharField(_("orientation"), max_length=10, choices=Orientation.choices, blank=True)
    permalink = models.URLField(max_length=500, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    # The consent of the people shown, summed up: someone's current consent is withdrawn,
    # lapsed, missing or does not cover reuse (blocked), and the first day one runs out.
    people_count = models.PositiveSmallIntegerField(default=0)
    reuse_blocked = models.BooleanField(default=False)
    consent_valid_until = models.DateField(null=True, blank=True)
    reuse_count = models.PositiveIntegerField(_("times reused"), default=0)
    last_reused_at = models.DateTimeField(null=True, blank=True)
    # What search reads: the words of the title, caption, alt text, tags, concept and
    # libraries (normalised, publishing/search.py) as a tsvector in each language.
    search_document = SearchVectorField(null=True, editable=False)
    # What ranking reads for each match: the title (A) and the labels (B) alone, small enough to
    # stay in the row, while the whole document is read only through its index (publishing/archive_search.py).
    search_rank_document = SearchVectorField(null=True, editable=False)
    # The ids of `libraries`, copied so that the library filter and its facet need no join per row.
    library_ids = ArrayField(models.BigIntegerField(), default=list, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArchiveItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("archive item")
        verbose_name_plural = _("archive items")
        ordering = ("-published_at", "-pk")
        indexes = [
            models.Index(fields=["county", "-published_at"], name="archive_county_published"),
            GinIndex(fields=["search_document"], name="archive_search_document"),
            GinIndex(fields=["tags"], name="archive_tags"),
            GinIndex(fields=["library_ids"], name="archive_library_ids"),
            # Newest first (published, or archived when never published): the order of a search without words.
            models.Index(
                F("county"), Coalesce("published_at", "created_at").desc(), F("id").desc(), name="archive_county_date"
            ),
        ]

    def __str__(self) -> str:
        return self.title or str(self.asset_id)

    def get_absolute_url(self) -> str:
        return reverse("publishing:archive_item", args=[self.pk])

    def is_reusable(self, today: date | None = None) -> bool:
        """The Python twin of `reusable_condition`."""
        today = today or timezone.localdate()
        return not self.reuse_blocked and (self.consent_valid_until is None or self.consent_valid_until >= today)


class ArchiveWord(models.Model):
    """A word that occurs in a county's archive: the vocabulary a misspelt search is matched against.

    Trigram similarity over each item's whole text is too slow at 100,000
    items (every candidate row is rechecked); over the few thousand distinct
    words it takes a millisecond, and the words it finds go into the
    full-text query (publishing/archive_search.py). Words are added as items
    are refreshed and never removed by it (`refresh_archive` rebuilds them).
    """

    county = models.ForeignKey(County, on_delete=models.CASCADE, related_name="+")
    word = models.CharField(max_length=60)

    class Meta:
        verbose_name = _("archive word")
        verbose_name_plural = _("archive words")
        constraints = [models.UniqueConstraint(fields=["county", "word"], name="archive_word_once_per_county")]
        indexes = [GinIndex(OpClass("word", name="gin_trgm_ops"), name="archive_word_trigrams")]

    def __str__(self) -> str:
        return self.word


class ArchiveReuse(models.Model):
    """An archive item used again in a later post: from "Reuse in a new post", a concept's re-post, or by hand."""

    class Via(models.TextChoices):
        REUSE = "reuse", _("Reused from the archive")
        CONCEPT = "concept", _("Re-post drafted for a concept")
        COMPOSED = "composed", _("Chosen again when composing")

    item = models.ForeignKey(ArchiveItem, on_delete=models.CASCADE, related_name="reuses")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="archive_reuses")
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.REUSE)
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("reuse")
        verbose_name_plural = _("reuses")
        ordering = ("-at", "-pk")
        constraints = [models.UniqueConstraint(fields=["item", "post"], name="archive_item_reused_once_per_post")]

    def __str__(self) -> str:
        return f"{self.item} → {self.post}"


class ConceptRepost(models.Model):
    """A concept's slot filled with a re-post drafted from the archive: each slot once (the daily task claims it)."""

    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="reposts")
    occurs_at = models.DateTimeField()
    post = models.ForeignKey(Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    item = models.ForeignKey(ArchiveItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("occurs_at",)
        constraints = [models.UniqueConstraint(fields=["concept", "occurs_at"], name="one_repost_per_concept_slot")]

    def __str__(self) -> str:
        return f"{self.concept} {self.occurs_at:%Y-%m-%d %H:%M}"
