"""What is made before it is a post: concepts, ideas from the libraries, recording days and their run sheets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from libraries import holidays
from libraries.models import County, Library, User, count_per_row
from production import cadence

if TYPE_CHECKING:
    from collections.abc import Iterable


class ContentType(models.TextChoices):
    """The three kinds of content that work for libraries (DESIGN.md §1)."""

    OFFERS = "offers", _("Library offers and services")
    LITERATURE = "literature", _("Literature")
    RELATIONSHIP = "relationship", _("Relationship-building")


class Audience(models.TextChoices):
    CHILDREN = "children", _("Children")
    YOUTH = "youth", _("Youth")
    ADULTS = "adults", _("Adults")
    EVERYONE = "everyone", _("Everyone")


def validate_cadence_rule(rule: str) -> None:
    try:
        cadence.parse(rule)
    except ValueError as exc:
        raise ValidationError(_("This cadence is not one Innspill can use.")) from exc


# --- Concepts ---


class ConceptQuerySet(models.QuerySet["Concept"]):
    def for_county(self, county: County) -> ConceptQuerySet:
        return self.filter(county=county)

    def active(self) -> ConceptQuerySet:
        return self.filter(is_active=True)

    def recurring(self) -> ConceptQuerySet:
        return self.exclude(cadence_rule="")


class Concept(models.Model):
    """A fixed, recurring format such as "a staff book tip every Friday"."""

    class HolidayRule(models.TextChoices):
        """What the concept does with a date of its cadence that is a public holiday in the county's country."""

        PUBLISH_ANYWAY = cadence.PUBLISH_ANYWAY, _("Publish anyway")
        SKIP = cadence.SKIP, _("Skip the date")
        MOVE = cadence.MOVE, _("Move to the next working day")

    county = models.ForeignKey(County, on_delete=models.CASCADE, related_name="concepts", verbose_name=_("county"))
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    content_type = models.CharField(_("content type"), max_length=20, choices=ContentType.choices)
    cadence_rule = models.CharField(
        _("cadence"),
        max_length=100,
        blank=True,
        validators=[validate_cadence_rule],
        help_text=_("An RFC 5545 recurrence rule; empty for ad hoc."),
    )
    starts_on = models.DateField(_("starts on"), default=timezone.localdate)
    time_of_day = models.TimeField(
        _("time of day"), default=time(12, 0), help_text=_("When posts in this concept usually go out.")
    )
    owner = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("owner")
    )
    is_active = models.BooleanField(_("active"), default=True)
    reposts_from_archive = models.BooleanField(
        _("draft re-posts from the archive"),
        default=False,
        help_text=_(
            "Before each date of the cadence that has no post, draft one from this concept's material "
            "in the archive, for review."
        ),
    )
    holiday_rule = models.CharField(
        _("on public holidays"),
        max_length=10,
        choices=HolidayRule.choices,
        default=HolidayRule.PUBLISH_ANYWAY,
        help_text=_(
            "When a date of the cadence is a public holiday: publish anyway, skip it (no post is expected), "
            "or move it to the next day that is neither a weekend nor a holiday."
        ),
    )
    # Borrowed from another county's shared concept (publishing/archive/network.py): its origin, and the credit
    # a new post of the concept starts with (steal with style; the editor may reword it).
    borrowed_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("borrowed from")
    )
    credit = models.CharField(
        _("credit"),
        max_length=300,
        blank=True,
        help_text=_("Whom the concept came from: a new post of the concept credits them in its caption."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConceptQuerySet.as_manager()

    class Meta:
        verbose_name = _("concept")
        verbose_name_plural = _("concepts")
        ordering = ("name",)
        constraints = [models.UniqueConstraint(fields=["county", "name"], name="concept_name_unique_in_county")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("production:concept_detail", args=[self.pk])

    @property
    def cadence_display(self) -> str:
        return cadence.describe(self.cadence_rule)

    @property
    def is_recurring(self) -> bool:
        return bool(self.cadence_rule)

    def dates(self, start: date, end: date, *, country: str | None = None) -> list[cadence.ConceptDate]:
        """The concept's dates from `start` to `end` (both included) after its holiday rule, skipped ones
        flagged; none when ad hoc or inactive. `country`: the county's (read from it when not given)."""
        if not self.is_active or not self.is_recurring:
            return []
        return cadence.concept_dates(
            self.cadence_rule,
            anchor=self.starts_on,
            start=start,
            end=end,
            country=country or self.county.country,
            holiday_rule=self.holiday_rule,
        )

    def occurrences(self, start: date, end: date, *, country: str | None = None) -> list[date]:
        """The days from `start` to `end` a post of this concept is expected (holidays skipped or moved)."""
        return [entry.date for entry in self.dates(start, end, country=country) if not entry.skipped]

    def time_on(self, day: date) -> datetime:
        """`day` at the concept's time of day, local time (a slot on the publishing plan)."""
        return cadence.local_time(day, self.time_of_day, ZoneInfo(settings.TIME_ZONE))

    def occurrence_times(self, start: date, end: date, *, country: str | None = None) -> list[datetime]:
        """The same, as aware datetimes at the concept's time of day (the publishing plan's slots)."""
        return [self.time_on(day) for day in self.occurrences(start, end, country=country)]


# --- Ideas ---


class IdeaQuerySet(models.QuerySet["Idea"]):
    def for_county(self, county: County) -> IdeaQuerySet:
        return self.filter(library__county=county)

    def of_libraries(self, library_ids: Iterable[int]) -> IdeaQuerySet:
        return self.filter(library_id__in=list(library_ids))

    def waiting_for_review(self) -> IdeaQuerySet:
        return self.filter(status=Idea.Status.SUBMITTED)

    def ready_to_plan(self) -> IdeaQuerySet:
        return self.filter(status=Idea.Status.ACCEPTED)

    def search(self, text: str) -> IdeaQuerySet:
        text = text.strip()
        if not text:
            return self
        return self.filter(Q(title__icontains=text) | Q(pitch__icontains=text) | Q(credit_name__icontains=text))

    def for_list(self) -> IdeaQuerySet:
        """What a list row shows: library, concept, submitter, the slot it is planned in, comments; newest first.

        The comments are counted in a subquery per row of the page, not by grouping every idea:
        the newest page then comes straight from the (created_at, id) index.
        """
        return (
            self.select_related("library", "concept", "submitted_by", "slot__recording_day")
            .annotate(comment_count=count_per_row(IdeaComment.objects.filter(idea=OuterRef("pk")), "idea"))
            .order_by("-created_at", "-pk")
        )

    def list_rows(self) -> models.QuerySet[Idea, Any]:
        """What a row of the ideas list shows (jinja2/production/_idea_rows.html), as named tuples; newest first.

        As model instances, each of a page's fifty ideas brought its library, concept, submitter, slot and
        recording day into Python, every column of each, to show a name or a date. The comments are counted
        per row and the page comes from the (created_at, id) index, as in `for_list`.
        """
        return (
            self.annotate(
                comment_count=count_per_row(IdeaComment.objects.filter(idea=OuterRef("pk")), "idea"),
                library_name=F("library__name"),
                concept_name=F("concept__name"),
                submitter_name=F("submitted_by__name"),
                submitter_email=F("submitted_by__email"),
                planned_on=F("slot__recording_day__date"),
            )
            .order_by("-created_at", "-pk")
            .values_list(*LIST_ROW, named=True)
        )


# A row of the ideas list (`IdeaQuerySet.list_rows`).
LIST_ROW = (
    "pk",
    "title",
    "status",
    "content_type",
    "created_at",
    "comment_count",
    "library_name",
    "concept_name",
    "submitter_name",
    "submitter_email",  # None when nobody is (any more) named as the submitter
    "planned_on",  # the day of its recording day's slot; None without one
)


class Idea(models.Model):
    """A pitch from a library, followed from submission to use."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        PLANNED = "planned", _("Planned")
        RECORDED = "recorded", _("Recorded")
        USED = "used", _("Used")

    # Which status may follow which; services.py moves ideas only along these.
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.SUBMITTED: {Status.ACCEPTED, Status.DECLINED},
        Status.ACCEPTED: {Status.PLANNED},
        Status.PLANNED: {Status.ACCEPTED, Status.RECORDED},  # back to accepted when taken off the run sheet
        Status.RECORDED: {Status.USED},
        Status.DECLINED: set(),
        Status.USED: set(),
    }

    library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="ideas", verbose_name=_("submitting library")
    )
    submitted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="ideas", verbose_name=_("submitted by")
    )
    title = models.CharField(_("title"), max_length=200)
    pitch = models.TextField(_("pitch"), help_text=_("What is the idea, and why would people care?"))
    content_type = models.CharField(_("content type"), max_length=20, choices=ContentType.choices)
    concept = models.ForeignKey(
        Concept,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ideas",
        verbose_name=_("concept"),
    )
    audiences = ArrayField(
        models.CharField(max_length=10, choices=Audience.choices), default=list, verbose_name=_("audience")
    )
    libraries = models.ManyToManyField(
        Library, related_name="involved_ideas", blank=True, verbose_name=_("libraries involved")
    )
    credit_name = models.CharField(
        _("whom to credit"),
        max_length=200,
        blank=True,
        help_text=_("Borrowed the idea? Name the account or person, so we can steal with style."),
    )
    credit_url = models.URLField(_("link to the source"), max_length=500, blank=True)
    reference_links = models.TextField(_("reference links"), blank=True, help_text=_("One link per line."))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    reviewed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # Borrowed from another county's shared idea (publishing/archive/network.py): a new idea in this county's
    # queue, its source in `credit_name`.
    borrowed_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("borrowed from")
    )
    created_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IdeaQuerySet.as_manager()

    class Meta:
        verbose_name = _("idea")
        verbose_name_plural = _("ideas")
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=["library", "status"]),
            models.Index(F("created_at").desc(), F("id").desc(), name="idea_newest_first"),
            # A concept's ideas on their way (planned or recorded) for the home's concept gaps.
            models.Index(fields=["concept", "status"], name="idea_concept_status"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("production:idea_detail", args=[self.pk])

    @property
    def is_for_children_only(self) -> bool:
        """Aimed only at children, while Instagram is 13+ (and the county aims at 15+)."""
        return list(self.audiences) == [Audience.CHILDREN]

    def get_audiences_display(self) -> str:
        return ", ".join(str(label) for value, label in Audience.choices if value in self.audiences)

    @property
    def reference_link_list(self) -> list[str]:
        return [line.strip() for line in self.reference_links.splitlines() if line.strip()]

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]


def idea_attachment_path(instance: IdeaAttachment, filename: str) -> str:
    # Private files: the name is not guessable and is served only through a checked view.
    return f"ideas/{instance.idea_id}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class IdeaAttachment(models.Model):
    """A reference file sent with an idea (a screenshot, a script, a PDF)."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=idea_attachment_path, max_length=300)
    name = models.CharField(_("name"), max_length=200)
    uploaded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ("uploaded_at",)

    def __str__(self) -> str:
        return self.name


class IdeaComment(models.Model):
    """One message in the thread between the library and the county about an idea."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ("created_at",)

    def __str__(self) -> str:
        return self.body[:50]


# --- Recording days ---


class RecordingDayQuerySet(models.QuerySet["RecordingDay"]):
    def for_county(self, county: County) -> RecordingDayQuerySet:
        return self.filter(county=county)

    def visible_to_librarians(self) -> RecordingDayQuerySet:
        """Drafts are the county's work in progress; libraries see a day once it is announced."""
        return self.exclude(status=RecordingDay.Status.DRAFT)

    def upcoming(self, today: date | None = None) -> RecordingDayQuerySet:
        return self.filter(date__gte=today or timezone.localdate()).order_by("date", "starts_at", "pk")

    def not_done(self) -> RecordingDayQuerySet:
        return self.exclude(status=RecordingDay.Status.DONE)

    def with_slot_counts(self) -> RecordingDayQuerySet:
        """Each day's run sheet slots, those with an idea, and sign-ups, counted per day (subqueries: joined and
        grouped, every slot met every sign-up of its day, and all were sorted before a LIMIT could apply)."""
        day = OuterRef("pk")
        return self.annotate(
            slot_count=count_per_row(RunSheetSlot.objects.filter(recording_day=day), "recording_day"),
            filled_slot_count=count_per_row(
                RunSheetSlot.objects.filter(recording_day=day, idea__isnull=False), "recording_day"
            ),
            signup_count=count_per_row(PresenterSignup.objects.filter(recording_day=day), "recording_day"),
        )

    def with_open_slots(self) -> RecordingDayQuerySet:
        """Days whose run sheet has room for more ideas than are placed in it (needs with_slot_counts)."""
        return self.filter(filled_slot_count__lt=models.F("capacity"))  # type: ignore[misc]  # an annotation

    def due_for_reminder(self, today: date) -> RecordingDayQuerySet:
        """Announced days within two days that have had no reminder yet (catches up if beat was down)."""
        return self.filter(
            status=RecordingDay.Status.ANNOUNCED,
            reminder_sent_at__isnull=True,
            date__gte=today,
            date__lte=today + timedelta(days=2),
        )

    def with_signup_of(self, library_ids: Iterable[int]) -> RecordingDayQuerySet:
        return self.annotate(
            my_library_signed_up=Exists(
                PresenterSignup.objects.filter(recording_day=OuterRef("pk"), library_id__in=list(library_ids))
            )
        )


class RecordingDay(models.Model):
    """A day when librarians from several libraries meet to record content together."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ANNOUNCED = "announced", _("Announced")
        DONE = "done", _("Done")

    county = models.ForeignKey(
        County, on_delete=models.CASCADE, related_name="recording_days", verbose_name=_("county")
    )
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("starts at"), default=time(9, 0))
    ends_at = models.TimeField(_("ends at"), default=time(15, 0))
    host_library = models.ForeignKey(
        Library, on_delete=models.PROTECT, related_name="hosted_recording_days", verbose_name=_("host library")
    )
    address = models.CharField(
        _("address"), max_length=250, blank=True, help_text=_("Empty: the host library's address.")
    )
    responsible = models.ManyToManyField(
        User, related_name="responsible_recording_days", blank=True, verbose_name=_("responsible people")
    )
    participating_libraries = models.ManyToManyField(
        Library, related_name="recording_days", blank=True, verbose_name=_("participating libraries")
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity"),
        default=8,
        help_text=_("How many recordings (run-sheet slots with an idea) the day has room for."),
    )
    notes = models.TextField(_("notes"), blank=True, help_text=_("Equipment, parking, what to bring."))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT)
    announced_at = models.DateTimeField(null=True, blank=True)
    # Claimed by the tasks before they send (a conditional UPDATE): each mail goes out at most once.
    announcement_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RecordingDayQuerySet.as_manager()

    class Meta:
        verbose_name = _("recording day")
        verbose_name_plural = _("recording days")
        ordering = ("date", "starts_at")
        indexes = [models.Index(fields=["county", "date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="recording_day_ends_after_it_starts",
                violation_error_message=_("The day must end after it starts."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} · {self.host_library}"

    def get_absolute_url(self) -> str:
        return reverse("production:recording_day_detail", args=[self.pk])

    @property
    def place(self) -> str:
        return self.address or self.host_library.address

    @property
    def holiday(self) -> str:
        """The public holiday in the county's country the day falls on ("" on an ordinary day)."""
        return holidays.holiday_name(self.county.country, self.date)

    def local_datetime(self, at: time) -> datetime:
        return datetime.combine(self.date, at, tzinfo=ZoneInfo(settings.TIME_ZONE))

    @property
    def start(self) -> datetime:
        return self.local_datetime(self.starts_at)

    @property
    def end(self) -> datetime:
        return self.local_datetime(self.ends_at)

    @property
    def is_past(self) -> bool:
        return self.date < timezone.localdate()

    @property
    def has_begun(self) -> bool:
        return self.date <= timezone.localdate()

    @property
    def accepts_signups(self) -> bool:
        return self.status == self.Status.ANNOUNCED and not self.is_past

    def run_sheet(self) -> RunSheet:
        """The slots in order with their times, counted from the start of the day.

        Uses prefetched slots when there are some (prefetch "slots__idea" and
        "slots__presenters" for lists), so a page of days costs no query per day.
        """
        ordered = sorted(self.slots.all(), key=lambda slot: slot.position)
        rows = []
        moment = self.start
        for index, slot in enumerate(ordered):
            ends = moment + timedelta(minutes=slot.duration_minutes)
            rows.append(TimedSlot(slot=slot, starts=moment, ends=ends, number=index + 1))
            moment = ends
        return RunSheet(rows=rows, overruns=moment > self.end, ends=moment)


class PresenterSignup(models.Model):
    """A library puts one of its people forward to present on a recording day."""

    recording_day = models.ForeignKey(RecordingDay, on_delete=models.CASCADE, related_name="signups")
    library = models.ForeignKey(Library, on_delete=models.CASCADE, related_name="+", verbose_name=_("library"))
    person = models.ForeignKey(User, on_delete=models.CASCADE, related_name="presenter_signups")
    # The presenter as someone in the county's register, whose consent covers the day's media
    # (found or registered on sign-up, production.services.people.register_presenter). Empty once
    # they were erased from the register at their request.
    register_person = models.ForeignKey(
        "production.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="presenter_signups",
        verbose_name=_("in the register"),
    )  # fmt: skip
    note = models.CharField(_("note"), max_length=300, blank=True)
    signed_up_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("presenter sign-up")
        verbose_name_plural = _("presenter sign-ups")
        ordering = ("library__name", "person__name")
        constraints = [
            models.UniqueConstraint(fields=["recording_day", "person"], name="one_signup_per_person_and_day")
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.library})"


class RunSheetSlot(models.Model):
    """A slot in a recording day's run sheet: an idea (or a break) and who presents it.

    Times are not stored: a slot starts where the one before it ends, so
    moving a slot up or down moves its time with it.
    """

    recording_day = models.ForeignKey(RecordingDay, on_delete=models.CASCADE, related_name="slots")
    position = models.PositiveIntegerField()
    idea = models.OneToOneField(
        Idea, on_delete=models.SET_NULL, null=True, blank=True, related_name="slot", verbose_name=_("idea")
    )
    title = models.CharField(
        _("title"), max_length=200, blank=True, help_text=_("For a slot without an idea, such as a break or rigging.")
    )
    duration_minutes = models.PositiveSmallIntegerField(_("duration in minutes"), default=30)
    presenters = models.ManyToManyField(User, related_name="run_sheet_slots", blank=True, verbose_name=_("presenters"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("run-sheet slot")
        verbose_name_plural = _("run-sheet slots")
        ordering = ("recording_day", "position")
        constraints = [
            # Deferred, so that two slots can swap places inside one transaction.
            models.UniqueConstraint(
                fields=["recording_day", "position"],
                name="one_slot_per_position",
                deferrable=models.Deferrable.DEFERRED,
            ),
            models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="slot_has_a_duration"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.idea.title if self.idea_id and self.idea else self.title


@dataclass(frozen=True)
class TimedSlot:
    slot: RunSheetSlot
    starts: datetime
    ends: datetime
    number: int


@dataclass(frozen=True)
class RunSheet:
    rows: list[TimedSlot]
    overruns: bool
    ends: datetime

    def for_slot(self, slot_id: int) -> TimedSlot | None:
        return next((row for row in self.rows if row.slot.pk == slot_id), None)


# --- Calendar feeds ---


class CalendarFeed(models.Model):
    """A person's secret iCalendar address (for Outlook or Google); only the token's hash is kept."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=10, default="nb")
    created_at = models.DateTimeField(auto_now_add=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user}"
