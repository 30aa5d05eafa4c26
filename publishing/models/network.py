"""The network of counties: archive items, concepts and ideas offered to the shared pool, and the copies
others borrowed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from operator import or_

from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from libraries.models import County, User
from production.models import Concept, Idea
from publishing.models.archive import ArchiveItem
from publishing.models.followup import InsightSnapshot
from publishing.models.posts import Post


def shareable_condition(today: date, prefix: str = "") -> Q:
    """Everyone shown in the item consented to sharing beyond the county, today (the copy kept on the
    item by `publishing.archive.filing`; the SQL twin of `Asset.allows_sharing`)."""
    return Q(**{f"{prefix}sharing_blocked": False}) & (
        Q(**{f"{prefix}consent_valid_until__isnull": True}) | Q(**{f"{prefix}consent_valid_until__gte": today})
    )


def _exactly_one_of(*fields: str) -> Q:
    """A check constraint's condition: exactly one of `fields` is set."""
    return reduce(or_, (Q(**{f"{field}__isnull": field != chosen for field in fields}) for chosen in fields))


class SharedItemQuerySet(models.QuerySet["SharedItem"]):
    def in_pool(self, today: date | None = None) -> SharedItemQuerySet:
        """What other counties may see and borrow: approved, not hidden or un-shared, its county still in
        the network, and everyone shown consenting to sharing."""
        today = today or timezone.localdate()
        # Concepts and ideas show no one: only an archive item's media ask everyone shown.
        return self.filter(
            Q(item__isnull=True) | shareable_condition(today, "item__"),
            status=SharedItem.Status.SHARED,
            county__in_network=True,
        )

    def items(self) -> SharedItemQuerySet:
        return self.filter(item__isnull=False)

    def concepts(self) -> SharedItemQuerySet:
        return self.filter(concept__isnull=False)

    def ideas(self) -> SharedItemQuerySet:
        return self.filter(idea__isnull=False)

    def for_county(self, county: County) -> SharedItemQuerySet:
        return self.filter(county=county)

    def awaiting_approval(self) -> SharedItemQuerySet:
        """Offered by an editor, waiting for a coordinator to let it leave the county."""
        return self.filter(status=SharedItem.Status.OFFERED)


class SharedItem(models.Model):
    """An archive item, a concept or an idea offered to the network: offered by an editor, approved by the
    coordinator. An archive item travels with its media and caption (everyone shown consenting); a concept
    with its description, cadence and content type; an idea as inspiration (its pitch, never its place in
    the county's queue).

    Un-sharing stops new borrows; the copies already borrowed stay usable
    unless consent lapses (production/release.py decides for them). A network
    moderator may hide it from the pool with a reason the origin sees.
    """

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered, waiting for the coordinator")
        SHARED = "shared", _("Shared")
        UNSHARED = "unshared", _("No longer shared")
        HIDDEN = "hidden", _("Hidden by a network moderator")

    class Kind(models.TextChoices):
        ITEM = "item", _("Photos and videos")
        CONCEPT = "concept", _("Concepts")
        IDEA = "idea", _("Ideas")

    # Exactly one of the three: what is shared.
    item = models.OneToOneField(ArchiveItem, on_delete=models.CASCADE, null=True, blank=True, related_name="shared")
    concept = models.OneToOneField(Concept, on_delete=models.CASCADE, null=True, blank=True, related_name="shared")
    idea = models.OneToOneField(Idea, on_delete=models.CASCADE, null=True, blank=True, related_name="shared")
    county = models.ForeignKey(County, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OFFERED)
    credit = models.CharField(
        _("credit"), max_length=300, help_text=_("Put in the caption of every post made from a borrowed copy.")
    )
    offered_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    offered_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    unshared_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.TextField(_("why it was hidden"), blank=True)
    hidden_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    hidden_at = models.DateTimeField(null=True, blank=True)

    objects = SharedItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("shared item")
        verbose_name_plural = _("shared items")
        ordering = ("-offered_at", "-pk")
        indexes = [models.Index(fields=["status", "county"], name="shared_item_status_county")]
        constraints = [
            models.CheckConstraint(
                condition=_exactly_one_of("item", "concept", "idea"),
                name="shared_item_shares_one_thing",
            )
        ]

    def __str__(self) -> str:
        return str(self.thing)

    @property
    def thing(self) -> ArchiveItem | Concept | Idea:
        """What is shared: the archive item, the concept or the idea."""
        thing = self.item or self.concept or self.idea
        if thing is None:  # the check constraint holds exactly one
            raise ValueError("A shared item shares nothing.")
        return thing

    @property
    def kind(self) -> SharedItem.Kind:
        if self.item_id is not None:
            return self.Kind.ITEM
        return self.Kind.CONCEPT if self.concept_id is not None else self.Kind.IDEA


class Borrow(models.Model):
    """A county borrowed something shared; its copy is one of: `item` in the borrowing county's archive,
    `concept` among its concepts, `idea` in its queue of ideas."""

    shared = models.ForeignKey(SharedItem, on_delete=models.PROTECT, related_name="borrows")
    county = models.ForeignKey(County, on_delete=models.CASCADE, related_name="+")
    item = models.OneToOneField(ArchiveItem, on_delete=models.CASCADE, null=True, blank=True, related_name="borrowed")
    concept = models.OneToOneField(Concept, on_delete=models.CASCADE, null=True, blank=True, related_name="borrowed")
    idea = models.OneToOneField(Idea, on_delete=models.CASCADE, null=True, blank=True, related_name="borrowed")
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("borrowed item")
        verbose_name_plural = _("borrowed items")
        ordering = ("-at", "-pk")
        constraints = [
            models.UniqueConstraint(fields=["shared", "county"], name="borrowed_once_per_county"),
            models.CheckConstraint(
                condition=_exactly_one_of("item", "concept", "idea"),
                name="borrow_copies_one_thing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shared} → {self.county}"

    @property
    def copy(self) -> ArchiveItem | Concept | Idea:
        """The borrowing county's own copy."""
        copy = self.item or self.concept or self.idea
        if copy is None:  # the check constraint holds exactly one
            raise ValueError("A borrow copied nothing.")
        return copy


@dataclass(frozen=True)
class PostElsewhere:
    """A post another county published from its copy of something we shared (a borrowed item's media, in a
    borrowed concept, from a borrowed idea), with its reach as last read from Instagram by that county (None:
    not read yet)."""

    post: Post
    county: County
    reach: int | None


def posts_elsewhere(
    shared: models.QuerySet[SharedItem], *, since: datetime | None = None, until: datetime | None = None
) -> list[PostElsewhere]:
    """What travelled: the published posts other counties made from their copies of `shared` (published from
    `since` to `until` when given), each once, oldest first, with their latest reach. One query, however many."""
    posts = Post.objects.filter(
        Q(post_assets__asset__archive_item__borrowed__shared__in=shared)
        | Q(concept__borrowed__shared__in=shared)
        | Q(idea__borrowed__shared__in=shared),
        status=Post.Status.PUBLISHED,
    )
    if since is not None:
        posts = posts.filter(published_at__gte=since)
    if until is not None:
        posts = posts.filter(published_at__lt=until)
    latest_reach = InsightSnapshot.objects.filter(post=OuterRef("pk")).order_by("-taken_at", "-pk").values("reach")
    found = posts.distinct().annotate(latest_reach=Subquery(latest_reach[:1])).select_related("county")
    return [
        PostElsewhere(post, post.county, post.latest_reach)  # type: ignore[attr-defined]  # annotated above
        for post in found.order_by("published_at", "pk")
    ]
