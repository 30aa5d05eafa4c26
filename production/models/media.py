"""Media assets, the people who appear in them, and their consent (DESIGN.md §3, §5).

Kept apart from models.py (planning) because media is its own concept; the
models are registered through the import at the end of production/models.py.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Exists, ExpressionWrapper, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from libraries.http import address_with_id
from libraries.models import County, Library, User

if TYPE_CHECKING:
    from production.models import Idea, RecordingDay  # noqa: F401


class ConsentState(models.TextChoices):
    """An asset's consent, derived from the people in it (worst one wins).

    With nobody registered as shown, an asset is *not reviewed* until an
    editor confirms that it shows no identifiable people (DESIGN.md §3).
    """

    OK = "ok", _("Consent in order")
    NO_PEOPLE = "no_people", _("No identifiable people")
    EXPIRING = "expiring", _("Consent expires soon")
    NOT_REVIEWED = "not_reviewed", _("Not reviewed: who is shown?")
    MISSING = "missing", _("Consent missing")
    WITHDRAWN = "withdrawn", _("Consent withdrawn or expired")


# The states in which everyone shown has agreed to something, today (or nobody can be recognised).
CONSENT_IN_ORDER = frozenset({ConsentState.OK, ConsentState.EXPIRING, ConsentState.NO_PEOPLE})


class InstagramVerdict(models.TextChoices):
    """`Asset.instagram_check["verdict"]` (production.processing.instagram.Verdict)."""

    OK = "ok", _("Fine for Instagram")
    WILL_BE_CROPPED = "will_be_cropped", _("Instagram will crop it")
    REJECTED = "rejected", _("Instagram will refuse it")


class Aspect(models.TextChoices):
    """The crops an editor can choose for the Instagram rendition (production.processing.images.Aspect)."""

    SQUARE = "1:1", _("Square (1:1)")
    PORTRAIT = "4:5", _("Portrait (4:5)")
    LANDSCAPE = "1.91:1", _("Landscape (1.91:1)")
    VERTICAL = "9:16", _("Vertical (9:16, reels and stories)")


def asset_path(instance: Asset, filename: str) -> str:
    # Private files under an unguessable name; the original name is kept in the row.
    suffix = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    return f"assets/{instance.county_id}/{instance.uid}/original.{suffix}"


def rendition_path(instance: Asset, filename: str) -> str:
    return f"assets/{instance.county_id}/{instance.uid}/{filename}"


class AssetQuerySet(models.QuerySet["Asset"]):
    def for_county(self, county: County) -> AssetQuerySet:
        return self.filter(county=county)

    def ready(self) -> AssetQuerySet:
        return self.filter(status=Asset.Status.READY)

    def processing(self) -> AssetQuerySet:
        return self.filter(status=Asset.Status.PROCESSING)

    def with_consent_blocked(self) -> AssetQuerySet:
        """Annotate `consent_blocked`: someone in it withdrew or their consent lapsed."""
        today = timezone.localdate()
        lapsed = Consent.objects.filter(person__tags__asset=OuterRef("pk")).filter(
            Q(withdrawn_at__isnull=False) | Q(valid_until__lt=today)
        )
        return self.annotate(consent_blocked=Exists(lapsed))

    def with_archive_reuse_blocked(self, today: date | None = None) -> AssetQuerySet:
        """Annotate `archive_reuse_blocked`, the SQL twin of `Asset.allows_archive_reuse()`.

        Someone shown blocks reuse unless their current consent (the latest
        given) is unwithdrawn, unexpired, covers archive reuse and, for a
        minor (or someone registered as a child), names a guardian. Someone erased from the register (a tag
        without a person) blocks for good. An asset with nobody registered is blocked until an editor
        confirmed that it shows no identifiable people.
        """
        today = today or timezone.localdate()
        latest = Consent.objects.filter(person=OuterRef("person_id")).order_by("-given_at", "-pk").values("pk")[:1]
        covering = Consent.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today),
            (Q(person_is_minor=False) & ~Q(person__category=PersonCategory.CHILD)) | ~Q(given_by=""),
            pk=OuterRef("current_consent_id"),
            withdrawn_at__isnull=True,
            covers_archive_reuse=True,
        )
        blocking = (
            AssetPerson.objects.filter(asset=OuterRef("pk"))
            .annotate(current_consent_id=Subquery(latest))
            .filter(~Exists(covering))
        )
        # Nobody registered blocks too, until an editor confirmed that nobody can be recognised.
        unreviewed = ~Exists(AssetPerson.objects.filter(asset=OuterRef("pk"))) & Q(no_people_confirmed_at__isnull=True)
        blocked = ExpressionWrapper(Q(Exists(blocking)) | unreviewed, output_field=models.BooleanField())
        return self.annotate(archive_reuse_blocked=blocked)

    def reusable_from_archive(self, today: date | None = None) -> AssetQuerySet:
        """Assets whose people all allow reuse from the archive (a withdrawal or expiry blocks it)."""
        return self.with_archive_reuse_blocked(today).filter(archive_reuse_blocked=False)  # type: ignore[misc]  # an annotation

    def showing_people(self, person_ids: list[int]) -> AssetQuerySet:
        """The assets in which any of these register people are tagged."""
        return self.filter(Exists(AssetPerson.objects.filter(asset=OuterRef("pk"), person_id__in=person_ids)))

    def for_list(self) -> AssetQuerySet:
        """What a list of assets shows: the people and their consents (three queries for any number of rows)."""
        return self.select_related("library").prefetch_related(people_with_consents())

    def for_page(self) -> AssetQuerySet:
        """What an asset's page shows: its library, idea or recording day, who uploaded it and who confirmed
        that nobody can be recognised, its archive item (not the item's search documents), and the people
        shown with their consents, newest first (three queries)."""
        consents = Consent.objects.order_by("-given_at", "-pk")
        people = AssetPerson.objects.select_related("person").prefetch_related(
            Prefetch("person__consents", queryset=consents)
        )
        return (
            self.select_related(
                "library",
                "idea",
                "recording_day__host_library",
                "uploaded_by",
                "archive_item",
                "no_people_confirmed_by",
            )
            .defer("archive_item__search_document", "archive_item__search_rank_document")
            .prefetch_related(Prefetch("people", queryset=people))
        )


class Asset(models.Model):
    """An uploaded photo or video. The original is never changed; the worker derives renditions."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Photo")
        VIDEO = "video", _("Video")

    class Status(models.TextChoices):
        PROCESSING = "processing", _("Processing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Processing failed")

    # Which status may follow which; the worker moves processing on, asset_services the rest.
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.PROCESSING: {Status.READY, Status.FAILED},
        Status.READY: {Status.PROCESSING},  # the crop changed: the rendition is made again
        Status.FAILED: {Status.PROCESSING},  # tried again
    }

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="assets")
    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="assets", verbose_name=_("library"))
    idea = models.ForeignKey(
        "production.Idea", on_delete=models.SET_NULL, null=True, blank=True, related_name="assets",
        verbose_name=_("idea"),
    )  # fmt: skip
    recording_day = models.ForeignKey(
        "production.RecordingDay", on_delete=models.SET_NULL, null=True, blank=True, related_name="assets",
        verbose_name=_("recording day"),
    )  # fmt: skip
    uploaded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    title = models.CharField(_("title"), max_length=200, blank=True)

    original = models.FileField(upload_to=asset_path, max_length=300)
    original_name = models.CharField(max_length=255)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    mime_type = models.CharField(max_length=100)
    file_size = models.BigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds (video).")
    info = models.JSONField(default=dict, blank=True, help_text="production.processing.files.MediaInfo.as_json()")

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROCESSING)
    processing_error = models.TextField(blank=True)
    # Deliveries of the processing task that started and never came back: the worker died in them
    # (a file that crashes or exhausts it). Counted in the database because the broker redelivers
    # such a task at once and without end; see asset_services.process_asset.
    processing_crashes = models.PositiveSmallIntegerField(default=0)
    aspect = models.CharField(
        _("crop for Instagram"), max_length=10, choices=Aspect.choices, blank=True,
        help_text=_("Leave empty to keep the photo's own shape where Instagram allows it."),
    )  # fmt: skip
    crop_focus_x = models.FloatField(default=0.5)
    crop_focus_y = models.FloatField(default=0.5)
    thumbnail = models.FileField(upload_to=rendition_path, max_length=300, blank=True)
    rendition = models.FileField(upload_to=rendition_path, max_length=300, blank=True)
    poster = models.FileField(upload_to=rendition_path, max_length=300, blank=True)
    # How far the worker has come making the Instagram version of a video (0-100), written as it goes
    # so the asset's page can show it (asset_services.process_asset).
    processing_progress = models.PositiveSmallIntegerField(default=0)
    # A reel's cover (GRAPH_API.md §2): an uploaded JPEG (sent as cover_url, it wins) or the moment of
    # the video to show (sent as thumb_offset); neither: Instagram's default, the first frame.
    cover = models.FileField(_("cover image"), upload_to=rendition_path, max_length=300, blank=True)
    cover_offset_ms = models.PositiveIntegerField(_("cover frame (milliseconds)"), null=True, blank=True)
    instagram_check = models.JSONField(default=dict, blank=True, help_text="{verdict, reasons}")
    renditions = models.JSONField(
        default=dict, blank=True,
        help_text="What the worker made: {crop, thumbnail, rendition, poster} (asset_services.process_asset).",
    )  # fmt: skip

    alt_text = models.TextField(
        _("alt text"), max_length=1000, blank=True,
        help_text=_("What the picture shows, for people who cannot see it (at most 1000 characters)."),
    )  # fmt: skip
    subtitles = models.FileField(_("subtitles (WebVTT)"), upload_to=rendition_path, max_length=300, blank=True)
    subtitles_burned_in = models.BooleanField(_("subtitles are burned into the video"), default=False)
    credit_line = models.CharField(_("credit line"), max_length=300, blank=True)
    tags = models.JSONField(default=list, blank=True)
    # Set when a consent of someone shown is withdrawn or expires (asset_services.consent_lapsed);
    # cleared when everyone shown has a valid consent again.
    consent_lapsed_at = models.DateTimeField(_("consent withdrawn or expired on"), null=True, blank=True)
    # An editor looked and nobody can be recognised (asset_services.confirm_no_people); adding a
    # person shown undoes it. Without people and without this, the asset is not reviewed.
    no_people_confirmed_at = models.DateTimeField(
        _("confirmed to show no identifiable people on"), null=True, blank=True
    )
    no_people_confirmed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # A borrowed copy (the network, publishing/network.py): the same files, in the borrowing county; the
    # people shown and their consents stay with the origin, and every decision reads them there, with
    # sharing beyond the county required on top (production/release.py).
    borrowed_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="borrowed_copies",
        verbose_name=_("borrowed from"),
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AssetQuerySet.as_manager()

    class Meta:
        verbose_name = _("media file")
        verbose_name_plural = _("media files")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["county", "status"])]

    def __str__(self) -> str:
        return self.title or self.original_name

    def get_absolute_url(self) -> str:
        return reverse("production:asset_detail", args=[self.pk])

    def file_url(self, which: str) -> str:
        """The private address of one of the asset's files, versioned so browsers refetch a new rendition."""
        return f"{reverse('production:asset_file', args=[self.pk, which])}?v={self.file_version}"

    @property
    def file_version(self) -> int:
        return int(self.updated_at.timestamp()) if self.updated_at else 0

    @staticmethod
    def file_addresses(which: str) -> Callable[[Asset], str]:
        """`file_url(which)` for the many assets of one page, the address reversed once (`address_with_id`)."""
        address = address_with_id("production:asset_file", which)
        return lambda asset: f"{address(asset.pk)}?v={asset.file_version}"

    @property
    def thumbnail_url(self) -> str:
        return self.file_url("thumbnail") if self.thumbnail else ""

    @property
    def rendition_url(self) -> str:
        return self.file_url("rendition") if self.rendition else ""

    @property
    def poster_url(self) -> str:
        return self.file_url("poster") if self.poster else ""

    @property
    def original_url(self) -> str:
        return self.file_url("original")

    @property
    def cover_url(self) -> str:
        return self.file_url("cover") if self.cover else ""

    @property
    def cover_seconds(self) -> float | None:
        """The moment of a reel shown as its cover, in seconds (None: not chosen)."""
        return self.cover_offset_ms / 1000 if self.cover_offset_ms is not None else None

    @property
    def subtitles_url(self) -> str:
        return self.file_url("subtitles") if self.subtitles else ""

    @property
    def crop_key(self) -> str:
        """The crop the Instagram rendition must have; a rendition made for another key is out of date."""
        if not self.is_image:
            return ""
        return f"{self.aspect or 'auto'}@{self.crop_focus_x:.3f},{self.crop_focus_y:.3f}"

    @property
    def is_processing(self) -> bool:
        return self.status == self.Status.PROCESSING

    @property
    def instagram_verdict(self) -> InstagramVerdict | None:
        verdict = (self.instagram_check or {}).get("verdict")
        return InstagramVerdict(verdict) if verdict in InstagramVerdict.values else None

    @property
    def needs_alt_text(self) -> bool:
        return self.is_image and not self.alt_text.strip()

    @property
    def needs_subtitles(self) -> bool:
        return self.is_video and not self.has_subtitles

    @property
    def is_image(self) -> bool:
        return self.kind == self.Kind.IMAGE

    @property
    def is_video(self) -> bool:
        return self.kind == self.Kind.VIDEO

    @property
    def has_subtitles(self) -> bool:
        return bool(self.subtitles) or self.subtitles_burned_in

    # What the people shown and their consents allow. These three read only the asset's people and
    # their consents (prefetched where a list needs them, `people_with_consents`) and the editor's
    # confirmation; production/release.py builds every serving decision on them.

    @property
    def no_people_confirmed(self) -> bool:
        return self.no_people_confirmed_at is not None

    @property
    def is_borrowed(self) -> bool:
        return self.borrowed_from_id is not None

    @property
    def consent_source(self) -> Asset:
        """Whose people decide: the asset's own, or for a borrowed copy the origin's."""
        return self.borrowed_from if self.borrowed_from is not None else self

    def consent_state(self, *, today: date | None = None) -> ConsentState:
        """The worst consent among the people shown; with nobody registered, confirmed or not reviewed.

        A borrowed copy whose origin's people do not all allow sharing beyond the county is withdrawn.
        """
        today = today or timezone.localdate()
        if self.is_borrowed:
            origin = self.consent_source
            state = origin.consent_state(today=today)
            if state in CONSENT_IN_ORDER and not origin.allows_sharing(today=today):
                return ConsentState.WITHDRAWN
            return state
        people = list(self.people.all())
        if not people:
            return ConsentState.NO_PEOPLE if self.no_people_confirmed else ConsentState.NOT_REVIEWED
        order = list(ConsentState)
        return max((person.consent_state(today=today) for person in people), key=order.index)

    def allows_publishing(self, *, today: date | None = None) -> bool:
        """Everyone shown has a valid consent to publishing (a guardian's for a minor), or nobody can be
        recognised (confirmed by an editor). A borrowed copy: the origin's people, and sharing too."""
        return self._allows(today=today, publishing=True)

    def allows_archive_reuse(self, *, today: date | None = None) -> bool:
        """Everyone shown has a valid consent to reuse from the archive, or nobody can be recognised
        (confirmed); see `with_archive_reuse_blocked`, its SQL twin (which blocks borrowed copies:
        they are refreshed through the origin's people, publishing/archive/filing.py)."""
        return self._allows(today=today, archive_reuse=True)

    def allows_sharing(self, *, today: date | None = None) -> bool:
        """Everyone shown consented to sharing beyond the county (a guardian's for a minor), or nobody can
        be recognised (confirmed): only then may the asset's bytes go to another county."""
        return self._allows(today=today, sharing=True)

    def _allows(
        self, *, today: date | None, publishing: bool = False, archive_reuse: bool = False, sharing: bool = False
    ) -> bool:
        today = today or timezone.localdate()
        if self.is_borrowed:
            return self.consent_source._allows(
                today=today, publishing=publishing, archive_reuse=archive_reuse, sharing=True
            )
        people = list(self.people.all())
        if not people:
            return self.no_people_confirmed
        return all(
            person.allows(publishing=publishing, archive_reuse=archive_reuse, sharing=sharing, today=today)
            for person in people
        )

    def consent_people(self) -> list[AssetPerson]:
        """The people whose consents decide (the origin's for a borrowed copy)."""
        return list(self.consent_source.people.all())


def people_with_consents() -> Prefetch[str, QuerySet[AssetPerson], str]:
    """Prefetch an asset's people (tags joined to the register) with their consents, for `consent_state()`
    without a query per row: two queries for any number of assets."""
    return Prefetch(
        "people", queryset=AssetPerson.objects.select_related("person").prefetch_related("person__consents")
    )


class PersonCategory(models.TextChoices):
    STAFF = "staff", _("Library staff")
    PATRON = "patron", _("Patron (adult)")
    CHILD = "child", _("Child")


class PersonQuerySet(models.QuerySet["Person"]):
    def for_county(self, county: County) -> PersonQuerySet:
        return self.filter(county=county)

    def with_consents(self) -> PersonQuerySet:
        return self.prefetch_related(
            Prefetch("consents", queryset=Consent.objects.select_related("recorded_by").order_by("-given_at", "-pk"))
        )


class Person(models.Model):
    """Someone in the county's register of the people shown in its media (DESIGN.md §3).

    Their consent is recorded once, here, and covers every asset they are tagged in
    (`AssetPerson`). The register is for editors and coordinators only.
    """

    Category = PersonCategory

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="people")
    name = models.CharField(_("name or description"), max_length=200)
    category = models.CharField(_("who"), max_length=10, choices=PersonCategory.choices)
    contact_email = models.EmailField(
        _("e-mail for consent matters"), blank=True,
        help_text=_("Where a consent link goes: the person's own address, or a child's guardian's."),
    )  # fmt: skip
    guardian = models.CharField(
        _("guardian"), max_length=200, blank=True, help_text=_("For a child: the guardian who decides on consent.")
    )
    language = models.CharField(_("language"), max_length=8, default="nb", choices=settings.LANGUAGES)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person in the register")
        verbose_name_plural = _("register of people")
        ordering = ("name", "pk")
        indexes = [models.Index(fields=["county", "name"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("production:person_detail", args=[self.pk])

    def current_consent(self) -> Consent | None:
        """The latest consent given (a newer one replaces an older one); ties go to the one recorded last."""
        consents = sorted(self.consents.all(), key=lambda c: (c.given_at, c.pk or 0), reverse=True)
        return consents[0] if consents else None

    @property
    def is_child(self) -> bool:
        """Registered as a child: their consent must be a guardian's, whatever the consent form said."""
        return self.category == PersonCategory.CHILD

    def allows(
        self,
        *,
        publishing: bool = False,
        archive_reuse: bool = False,
        sharing: bool = False,
        today: date | None = None,
    ) -> bool:
        consent = self.current_consent()
        today = today or timezone.localdate()
        return consent is not None and consent.allows(
            publishing=publishing, archive_reuse=archive_reuse, sharing=sharing, today=today, child=self.is_child
        )

    def consent_state(self, *, today: date | None = None) -> ConsentState:
        consent = self.current_consent()
        if consent is None:
            return ConsentState.MISSING
        return consent.state(today=today or timezone.localdate(), child=self.is_child)


class AssetPerson(models.Model):
    """A tag: someone from the county's register is shown in an asset.

    `person` is empty once that person was erased from the register: the tag
    stays so that the asset stays blocked (a withdrawn consent, for good).
    A `suggested` tag was put there for the editor to confirm (a recording
    day's presenters); it counts as shown until it is taken off.
    """

    Category = PersonCategory

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="people")
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="tags", verbose_name=_("person")
    )
    suggested = models.BooleanField(_("suggested, to be confirmed"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("person shown")
        verbose_name_plural = _("people shown")
        ordering = ("person__name", "pk")
        constraints = [
            models.UniqueConstraint(fields=["asset", "person"], name="person_tagged_once_per_asset"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.person.name if self.person is not None else str(_("(erased from the register)"))

    @property
    def category(self) -> str:
        return self.person.category if self.person is not None else ""

    def get_category_display(self) -> str:
        return self.person.get_category_display() if self.person is not None else ""

    @property
    def consents(self) -> Any:
        """The register person's consents (a manager; prefetched with `people_with_consents`)."""
        return self.person.consents if self.person is not None else Consent.objects.none()

    def current_consent(self) -> Consent | None:
        return self.person.current_consent() if self.person is not None else None

    @property
    def is_child(self) -> bool:
        return self.person is not None and self.person.is_child

    @property
    def is_erased(self) -> bool:
        return self.person_id is None

    def allows(
        self,
        *,
        publishing: bool = False,
        archive_reuse: bool = False,
        sharing: bool = False,
        today: date | None = None,
    ) -> bool:
        if self.person is None:
            return False
        return self.person.allows(publishing=publishing, archive_reuse=archive_reuse, sharing=sharing, today=today)

    def consent_state(self, *, today: date | None = None) -> ConsentState:
        if self.person is None:
            return ConsentState.WITHDRAWN
        return self.person.consent_state(today=today)


class ConsentQuerySet(models.QuerySet["Consent"]):
    def expired_unhandled(self, today: date) -> ConsentQuerySet:
        """Consents past their last valid day whose expiry has not been dealt with (the nightly task)."""
        return self.filter(valid_until__lt=today, withdrawn_at__isnull=True, lapse_handled_at__isnull=True)


class Consent(models.Model):
    """What a person in the register (or their guardian) agreed to, and until when; it covers every
    asset they are tagged in. The evidence is a signed form, a note, or a digital consent given
    through a one-time link (`digital_record`: when, from where, to which address, the text they saw)."""

    EXPIRING_WITHIN: ClassVar[timedelta] = timedelta(days=30)

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    covers_publishing = models.BooleanField(_("publish on social media"), default=True)
    covers_archive_reuse = models.BooleanField(_("keep in the archive for reuse"), default=True)
    covers_sharing = models.BooleanField(_("share with other counties"), default=False)
    given_at = models.DateField(_("given on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    given_by = models.CharField(
        _("given by"), max_length=200, blank=True,
        help_text=_("The guardian's name when the person is under the age limit."),
    )  # fmt: skip
    person_is_minor = models.BooleanField(_("the person is under the age limit"), default=False)
    evidence = models.FileField(_("signed form"), upload_to="consents/%Y/", max_length=300, blank=True)
    evidence_note = models.TextField(_("note"), blank=True)
    digital_record = models.JSONField(default=dict, blank=True, help_text="{at, ip, email, language, text, link}")
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawal_note = models.TextField(_("why it was withdrawn"), blank=True)
    # When the withdrawal or expiry was dealt with (assets marked, coordinators told); claimed once.
    lapse_handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ("-given_at",)
        constraints = [
            models.CheckConstraint(
                condition=Q(person_is_minor=False) | ~Q(given_by=""),
                name="minor_consent_needs_guardian",
                violation_error_message=_("A minor's consent must be given by a guardian."),
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("given_at")),
                name="consent_valid_after_given",
                violation_error_message=_("Valid until must be on or after the day consent was given."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.given_at})"

    @property
    def scope_display(self) -> str:
        if self.covers_publishing and self.covers_archive_reuse:
            return str(_("Publishing and reuse from the archive"))
        if self.covers_publishing:
            return str(_("Publishing only"))
        if self.covers_archive_reuse:
            return str(_("Reuse from the archive only"))
        return str(_("Nothing"))

    @property
    def full_scope_display(self) -> str:
        """The scope with sharing beyond the county, when it is covered."""
        if self.covers_sharing:
            return str(_("%(scope)s; sharing with other counties") % {"scope": self.scope_display})
        return self.scope_display

    def expired(self, *, today: date) -> bool:
        return self.valid_until is not None and self.valid_until < today

    def state(self, *, today: date, child: bool = False) -> ConsentState:
        """`child`: the person is registered as a child, so only a guardian's consent counts."""
        if self.withdrawn_at is not None or self.expired(today=today):
            return ConsentState.WITHDRAWN
        if (self.person_is_minor or child) and not self.given_by:
            return ConsentState.MISSING
        if self.valid_until is not None and self.valid_until <= today + self.EXPIRING_WITHIN:
            return ConsentState.EXPIRING
        return ConsentState.OK

    @property
    def is_digital(self) -> bool:
        return bool(self.digital_record)

    def allows(
        self,
        *,
        publishing: bool = False,
        archive_reuse: bool = False,
        sharing: bool = False,
        today: date,
        child: bool = False,
    ) -> bool:
        """Valid today and covering the asked scope(s)."""
        if self.state(today=today, child=child) not in (ConsentState.OK, ConsentState.EXPIRING):
            return False
        return (
            (not publishing or self.covers_publishing)
            and (not archive_reuse or self.covers_archive_reuse)
            and (not sharing or self.covers_sharing)
        )


class ConsentLinkQuerySet(models.QuerySet["ConsentLink"]):
    def for_token(self, token: str) -> ConsentLinkQuerySet:
        return self.filter(token_hash=ConsentLink.hash_token(token))


class ConsentLink(models.Model):
    """A one-time link that asks a person (or a child's guardian) for their consent.

    Only the token's hash is stored. The link answers once (confirmed or
    declined) until `expires_at`; after that the same link shows what was
    answered and lets the person withdraw, for as long as the consent lasts.
    """

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")

    VALID_FOR: ClassVar[timedelta] = timedelta(days=14)

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consent_links")
    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField(_("sent to"))
    language = models.CharField(max_length=8, default="nb")
    covers_publishing = models.BooleanField(_("publish on social media"), default=True)
    covers_archive_reuse = models.BooleanField(_("keep in the archive for reuse"), default=True)
    covers_sharing = models.BooleanField(_("share with other counties"), default=False)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    consent = models.ForeignKey(Consent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = ConsentLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent link")
        verbose_name_plural = _("consent links")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.person} → {self.email}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.expires_at
