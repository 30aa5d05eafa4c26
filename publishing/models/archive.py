"""The shared archive: filed assets, the words of its search, reuses and concept reposts."""

from __future__ import annotations

from datetime import date

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from libraries.models import County, Library, User
from production.models import Asset, Concept, ContentType
from publishing.models.posts import Post


class TitleWords(models.Func):
    """The words of an item's title alone: its ranking document's lexemes of weight A (`ts_filter`).

    Indexed (`archive_title_words`), it gives a one-word search the items that rank first without
    reading the others (publishing/archive/search.py, `ArchiveSearch._title_first`)."""

    template = "ts_filter(%(expressions)s, '{a}'::\"char\"[])"
    output_field = SearchVectorField()

    def __init__(self) -> None:
        super().__init__(F("search_rank_document"))


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
        BORROWED = "borrowed", _("Borrowed from another county")

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
    # Someone shown has not consented to sharing beyond the county (the network's shared pool).
    sharing_blocked = models.BooleanField(default=True)
    # Shared with the network and approved (its SharedItem is "shared"), copied here by
    # publishing/archive/network.py so that the pool's search filters the row it matched, with no
    # join per match (bench/network.py: 100,000 items in the pool).
    in_pool = models.BooleanField(default=False, editable=False)
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
            GinIndex(TitleWords(), name="archive_title_words"),
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
