"""The network of counties: archive items offered to the shared pool, and the copies others borrowed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from libraries.models import County, User
from publishing.models.archive import ArchiveItem
from publishing.models.followup import InsightSnapshot
from publishing.models.posts import Post, PostAsset


def shareable_condition(today: date, prefix: str = "") -> Q:
    """Everyone shown in the item consented to sharing beyond the county, today (the copy kept on the
    item by `publishing.archive.filing`; the SQL twin of `Asset.allows_sharing`)."""
    return Q(**{f"{prefix}sharing_blocked": False}) & (
        Q(**{f"{prefix}consent_valid_until__isnull": True}) | Q(**{f"{prefix}consent_valid_until__gte": today})
    )


class SharedItemQuerySet(models.QuerySet["SharedItem"]):
    def in_pool(self, today: date | None = None) -> SharedItemQuerySet:
        """What other counties may see and borrow: approved, not hidden or un-shared, its county still in
        the network, and everyone shown consenting to sharing."""
        today = today or timezone.localdate()
        return self.filter(
            shareable_condition(today, "item__"), status=SharedItem.Status.SHARED, county__in_network=True
        )

    def for_county(self, county: County) -> SharedItemQuerySet:
        return self.filter(county=county)

    def awaiting_approval(self) -> SharedItemQuerySet:
        """Offered by an editor, waiting for a coordinator to let it leave the county."""
        return self.filter(status=SharedItem.Status.OFFERED)


class SharedItem(models.Model):
    """An archive item offered to the network: offered by an editor, approved by the coordinator.

    Un-sharing stops new borrows; the copies already borrowed stay usable
    unless consent lapses (production/release.py decides for them). A network
    moderator may hide it from the pool with a reason the origin sees.
    """

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered, waiting for the coordinator")
        SHARED = "shared", _("Shared")
        UNSHARED = "unshared", _("No longer shared")
        HIDDEN = "hidden", _("Hidden by a network moderator")

    item = models.OneToOneField(ArchiveItem, on_delete=models.CASCADE, related_name="shared")
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

    def __str__(self) -> str:
        return str(self.item)


class Borrow(models.Model):
    """A county borrowed a shared item: `item` is its copy in the borrowing county's archive."""

    shared = models.ForeignKey(SharedItem, on_delete=models.PROTECT, related_name="borrows")
    county = models.ForeignKey(County, on_delete=models.CASCADE, related_name="+")
    item = models.OneToOneField(ArchiveItem, on_delete=models.CASCADE, related_name="borrowed")
    by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("borrowed item")
        verbose_name_plural = _("borrowed items")
        ordering = ("-at", "-pk")
        constraints = [models.UniqueConstraint(fields=["shared", "county"], name="borrowed_once_per_county")]

    def __str__(self) -> str:
        return f"{self.shared} → {self.county}"


@dataclass(frozen=True)
class PostElsewhere:
    """A post another county published from its borrowed copy of one of our shared items, with its reach as
    last read from Instagram by that county (None: not read yet)."""

    post: Post
    county: County
    origin_item_id: int
    reach: int | None


def posts_elsewhere(
    items: models.QuerySet[ArchiveItem], *, since: datetime | None = None, until: datetime | None = None
) -> list[PostElsewhere]:
    """What travelled: the published posts other counties made from their borrowed copies of `items`
    (published from `since` to `until` when given), oldest first. Two queries, however many."""
    links = PostAsset.objects.filter(
        asset__archive_item__borrowed__shared__item__in=items, post__status=Post.Status.PUBLISHED
    ).annotate(origin_item_id=models.F("asset__archive_item__borrowed__shared__item_id"))
    if since is not None:
        links = links.filter(post__published_at__gte=since)
    if until is not None:
        links = links.filter(post__published_at__lt=until)
    rows = list(links.select_related("post__county").order_by("post__published_at", "post_id", "pk"))
    reach = dict(
        InsightSnapshot.objects.filter(post_id__in={row.post_id for row in rows})
        .order_by("post_id", "-taken_at", "-pk")
        .distinct("post_id")
        .values_list("post_id", "reach")
    )
    seen: set[tuple[int, int]] = set()
    found = []
    for row in rows:
        key = (row.post_id, row.origin_item_id)
        if key not in seen:
            seen.add(key)
            found.append(PostElsewhere(row.post, row.post.county, key[1], reach.get(row.post_id)))
    return found
