"""After publishing ("don't post and ghost", DESIGN.md §1): insights, the comments inbox, outcomes.

The workflows (reading Instagram, replying, logging outcomes) are in
publishing/followup/: insights.py, comments.py, outcomes.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from libraries.models import County, Library, User

if TYPE_CHECKING:
    from publishing.models import Post  # noqa: F401


# --- Insights ---


class InsightSnapshot(models.Model):
    """A post's lifetime metrics as Instagram reported them at one moment.

    The metrics the configured Graph API version offers differ (views replaced
    impressions and plays in v22), so every value read is kept in `values`;
    the common ones are also columns, for the report's sums. A metric
    Instagram has no data for yet is missing (None), never 0.
    """

    class Round(models.TextChoices):
        HOUR = "hour", _("After an hour")
        DAY = "day", _("After a day")
        WEEK = "week", _("After a week")
        MONTH = "month", _("After four weeks")
        MANUAL = "manual", _("Read on request")

    post = models.ForeignKey("publishing.Post", on_delete=models.CASCADE, related_name="insight_snapshots")
    round = models.CharField(_("when"), max_length=10, choices=Round.choices)
    taken_at = models.DateTimeField(_("read at"), default=timezone.now)
    reach = models.PositiveIntegerField(_("reach"), null=True, blank=True)
    views = models.PositiveIntegerField(_("views"), null=True, blank=True)
    likes = models.PositiveIntegerField(_("likes"), null=True, blank=True)
    comments = models.PositiveIntegerField(_("comments"), null=True, blank=True)
    saved = models.PositiveIntegerField(_("saves"), null=True, blank=True)
    shares = models.PositiveIntegerField(_("shares"), null=True, blank=True)
    total_interactions = models.PositiveIntegerField(_("interactions"), null=True, blank=True)
    values = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("insights reading")
        verbose_name_plural = _("insights readings")
        ordering = ("post", "taken_at")
        indexes = [models.Index(fields=["post", "-taken_at"], name="insights_post_taken")]
        constraints = [
            # A scheduled reading is taken once per post (a redelivered task does nothing).
            models.UniqueConstraint(
                fields=["post", "round"], condition=~Q(round="manual"), name="one_scheduled_reading_per_round"
            )
        ]

    def __str__(self) -> str:
        return f"{self.post_id} {self.round} {self.taken_at:%Y-%m-%d %H:%M}"

    @property
    def engagement(self) -> int | None:
        """Interactions as Instagram counts them, or the sum of the parts when it does not say."""
        if self.total_interactions is not None:
            return self.total_interactions
        parts = [self.likes, self.comments, self.saved, self.shares]
        return sum(p for p in parts if p is not None) if any(p is not None for p in parts) else None


class AccountSnapshot(models.Model):
    """The county account's followers (and media count) on one day."""

    channel = models.ForeignKey("publishing.Channel", on_delete=models.CASCADE, related_name="snapshots")
    day = models.DateField(_("day"))
    followers_count = models.PositiveIntegerField(_("followers"))
    media_count = models.PositiveIntegerField(_("posts"), null=True, blank=True)
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("account reading")
        verbose_name_plural = _("account readings")
        ordering = ("channel", "day")
        constraints = [models.UniqueConstraint(fields=["channel", "day"], name="one_account_reading_per_day")]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.day}: {self.followers_count}"


# --- The comments inbox ---


class InstagramCommentQuerySet(models.QuerySet["InstagramComment"]):
    def for_county(self, county: County) -> InstagramCommentQuerySet:
        return self.filter(county=county)

    def unanswered(self) -> InstagramCommentQuerySet:
        """Top-level comments by others that nobody has replied to or marked handled, oldest first."""
        return self.filter(status=InstagramComment.Status.UNANSWERED).order_by("commented_at", "pk")

    def from_followers(self) -> InstagramCommentQuerySet:
        """Comments the inbox is about: top-level, not written by the county's own account."""
        return self.filter(parent__isnull=True, from_account=False)


class InstagramComment(models.Model):
    """A comment on one of the county's posts, or a reply to one (ours, or someone else's)."""

    class Status(models.TextChoices):
        UNANSWERED = "unanswered", _("Not answered")
        REPLIED = "replied", _("Replied")
        HANDLED = "handled", _("Handled without a reply")
        NOT_NEEDED = "", _("Needs no answer")  # replies, and the account's own comments

    class Via(models.TextChoices):
        PULL = "pull", _("Read from Instagram")
        WEBHOOK = "webhook", _("Sent by Instagram")
        APP = "app", _("Written in Innspill")

    county = models.ForeignKey(County, on_delete=models.CASCADE, related_name="instagram_comments")
    post = models.ForeignKey("publishing.Post", on_delete=models.CASCADE, related_name="instagram_comments")
    comment_id = models.CharField(max_length=64, unique=True)
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies")
    username = models.CharField(_("from"), max_length=100, blank=True)
    text = models.TextField(_("comment"))
    commented_at = models.DateTimeField(_("written"))
    like_count = models.PositiveIntegerField(null=True, blank=True)
    hidden = models.BooleanField(default=False)
    from_account = models.BooleanField(default=False, help_text="Written by the county's own account.")
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.PULL)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, blank=True, default=Status.UNANSWERED)
    # The first reply from the county's account (in Innspill or in the Instagram app).
    first_reply_at = models.DateTimeField(null=True, blank=True)
    replied_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    handled_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InstagramCommentQuerySet.as_manager()

    class Meta:
        verbose_name = _("Instagram comment")
        verbose_name_plural = _("Instagram comments")
        ordering = ("commented_at", "pk")
        indexes = [
            models.Index(fields=["county", "status", "commented_at"], name="comments_inbox"),
            models.Index(fields=["post", "commented_at"], name="comments_of_post"),
            # A county's comments of a time: the inbox's median reply time (the last 30 days), the month's report.
            models.Index(fields=["county", "commented_at"], name="comments_by_time"),
        ]

    def __str__(self) -> str:
        return f"@{self.username}: {self.text[:40]}"

    def age(self, now: datetime | None = None) -> float:
        """Seconds since the comment was written."""
        return ((now or timezone.now()) - self.commented_at).total_seconds()


# --- Outcomes beyond likes ---


class Outcome(models.Model):
    """What a post led to, logged by a library: loans of the book, people at the event, sign-ups."""

    class Kind(models.TextChoices):
        LOANS = "loans", _("Loans")
        ATTENDANCE = "attendance", _("Attendance")
        SIGNUPS = "signups", _("Sign-ups")
        VISITS = "visits", _("Visits or questions at the desk")
        OTHER = "other", _("Something else")

    post = models.ForeignKey("publishing.Post", on_delete=models.CASCADE, related_name="outcomes")
    library = models.ForeignKey(
        Library, on_delete=models.SET_NULL, null=True, blank=True, related_name="outcomes", verbose_name=_("library")
    )
    kind = models.CharField(_("what"), max_length=12, choices=Kind.choices)
    quantity = models.PositiveIntegerField(_("how many"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    happened_on = models.DateField(_("when"), default=timezone.localdate)
    logged_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    logged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("outcome")
        verbose_name_plural = _("outcomes")
        ordering = ("-happened_on", "-pk")
        indexes = [models.Index(fields=["post", "kind"], name="outcomes_of_post")]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__isnull=False) | ~Q(note=""),
                name="outcome_has_a_number_or_a_note",
                violation_error_message=_("Give a number or write a note."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.quantity if self.quantity is not None else self.note[:40]}"
