"""The network of counties: offering archive items to the shared pool, approving, un-sharing, hiding, borrowing.

Nothing is shared by default: a coordinator turns the county's participation
on (`County.in_network`), an editor offers an item, the coordinator approves
it. Other counties in the network search the pool (the archive's search,
with county and library facets) and borrow: a copy of the asset (the same
files, `Asset.borrowed_from`) and an archive item in their own archive, with
the credit that every post made from it carries in its caption
(publishing/posts/gates.py keeps it there). Whether the bytes may travel is
production/release.py's rule: only while everyone shown consented to
sharing beyond the county; a withdrawal blocks every copy
(production/services/media.py, `consent_lapsed`). Every step is audited.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from libraries.access import CountyAccess
from libraries.models import County, Library, User
from libraries.services import absolute_url, audit, coordinator_emails, send_templated_mail_on_commit
from production.models import Asset
from production.release import consent_reason
from publishing.archive.filing import refresh_items
from publishing.archive.search import ArchiveFilters, ArchiveSearch, SearchResults, archive_changed
from publishing.models import ArchiveItem, Borrow, SharedItem, shareable_condition


def credit_for(item: ArchiveItem, *, language: str = "") -> str:
    """The credit a borrowed copy carries: "Idé og foto: Stavanger bibliotek @stavangerbibliotek", in the
    offering editor's language (it goes into captions, not the page), which they may reword."""
    library = item.asset.library
    handle = f" @{library.instagram_username}" if library.instagram_username else ""
    with translation.override(language or settings.LANGUAGE_CODE):
        return _("Idea and photo: %(library)s%(handle)s") % {"library": library.name, "handle": handle}


def _copy_status(shared: SharedItem) -> None:
    """The item's copy of whether it is in the pool (`ArchiveItem.in_pool`, what the pool's search filters on),
    and the pool's cached facet counts moved on (`archive_changed` bumps the network's version too)."""
    ArchiveItem.objects.filter(pk=shared.item_id).update(in_pool=shared.status == SharedItem.Status.SHARED)
    archive_changed([shared.county_id])


def _require_network(county: County) -> None:
    if not county.in_network:
        raise ValidationError(_("The county does not take part in the network. A coordinator can turn it on."))


def offer(*, by: User, access: CountyAccess, item: ArchiveItem, credit: str = "") -> SharedItem:
    """An editor offers an item to the network; it leaves the county once a coordinator approves it."""
    if not access.is_editor or item.county_id != access.county.pk:
        raise PermissionDenied
    _require_network(access.county)
    if item.asset.is_borrowed:
        raise ValidationError(_("A borrowed item cannot be shared again; its origin shares it."))
    reason = consent_reason(item.asset, scope="sharing")
    if reason:
        raise ValidationError(_("This item cannot be shared: %(reason)s.") % {"reason": reason})
    with transaction.atomic():
        shared, _created = SharedItem.objects.select_for_update().get_or_create(
            item=item,
            defaults={
                "county": item.county,
                "credit": credit.strip() or credit_for(item, language=by.language),
                "offered_by": by,
            },
        )
        if not _created:
            if shared.status in (SharedItem.Status.OFFERED, SharedItem.Status.SHARED):
                return shared
            if shared.status == SharedItem.Status.HIDDEN:
                raise ValidationError(
                    _("A network moderator hid this item: %(reason)s") % {"reason": shared.hidden_reason}
                )
            shared.status = SharedItem.Status.OFFERED
            shared.offered_by, shared.offered_at = by, timezone.now()
            shared.credit = credit.strip() or credit_for(item, language=by.language)
            shared.approved_by, shared.approved_at, shared.unshared_at = None, None, None
            shared.save(
                update_fields=[
                    "status",
                    "offered_by",
                    "offered_at",
                    "credit",
                    "approved_by",
                    "approved_at",
                    "unshared_at",
                ]
            )
        _copy_status(shared)
        audit(county=item.county, actor=by, action="network.offered", obj=shared, summary=str(item), item=item.pk)
        _tell_coordinators_of_offer(shared, by=by)
    return shared


def _tell_coordinators_of_offer(shared: SharedItem, *, by: User) -> None:
    """The county's coordinators (but the one offering) learn that an item waits for their approval."""
    to = [email for email in coordinator_emails(shared.county) if email != by.email]
    if to:
        send_templated_mail_on_commit(
            to=to,
            template="network_offered",
            context={
                "title": str(shared.item),
                "by": by,
                "credit": shared.credit,
                "url": absolute_url(shared.item.get_absolute_url()),
            },
        )


def approve(*, by: User, access: CountyAccess, shared: SharedItem) -> SharedItem:
    """The coordinator lets an offered item leave the county: it is in the pool from now on."""
    if not access.is_coordinator or shared.county_id != access.county.pk:
        raise PermissionDenied
    _require_network(access.county)
    if shared.status != SharedItem.Status.OFFERED:
        raise ValidationError(_("Only an offered item can be approved."))
    reason = consent_reason(shared.item.asset, scope="sharing")
    if reason:
        raise ValidationError(_("This item cannot be shared: %(reason)s.") % {"reason": reason})
    with transaction.atomic():
        shared.status = SharedItem.Status.SHARED
        shared.approved_by, shared.approved_at = by, timezone.now()
        shared.save(update_fields=["status", "approved_by", "approved_at"])
        _copy_status(shared)
        audit(county=shared.county, actor=by, action="network.approved", obj=shared, summary=str(shared))
    return shared


def unshare(*, by: User, access: CountyAccess, shared: SharedItem) -> list[County]:
    """No new borrows; the copies already borrowed stay usable (unless consent lapses). Returns who has one."""
    if not access.is_editor or shared.county_id != access.county.pk:
        raise PermissionDenied
    if shared.status not in (SharedItem.Status.OFFERED, SharedItem.Status.SHARED):
        raise ValidationError(_("This item is not shared."))
    with transaction.atomic():
        shared.status = SharedItem.Status.UNSHARED
        shared.unshared_at = timezone.now()
        shared.save(update_fields=["status", "unshared_at"])
        _copy_status(shared)
        audit(county=shared.county, actor=by, action="network.unshared", obj=shared, summary=str(shared))
        for borrow in shared.borrows.select_related("county", "item"):
            to = coordinator_emails(borrow.county)
            if to:  # each borrowing county's coordinators, in each one's language
                send_templated_mail_on_commit(
                    to=to,
                    template="network_unshared",
                    context={
                        "title": str(borrow.item),
                        "origin": shared.county,
                        "url": absolute_url(borrow.item.get_absolute_url()),
                    },
                )
    return borrowers(shared)


def hide(*, by: User, access: CountyAccess, shared: SharedItem, reason: str) -> SharedItem:
    """A network moderator takes an item out of the pool, with a reason its origin sees: from a county that
    takes part in the network, and never an item of their own county (moderation comes from outside it)."""
    if not by.is_network_moderator or not access.county.in_network or shared.county_id == access.county.pk:
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError(_("Say why the item is hidden: its county sees the reason."))
    with transaction.atomic():
        shared.status = SharedItem.Status.HIDDEN
        shared.hidden_reason, shared.hidden_by, shared.hidden_at = reason.strip(), by, timezone.now()
        shared.save(update_fields=["status", "hidden_reason", "hidden_by", "hidden_at"])
        _copy_status(shared)
        audit(county=shared.county, actor=by, action="network.hidden", obj=shared, summary=str(shared), reason=reason)
    return shared


def borrowers(shared: SharedItem) -> list[County]:
    return [borrow.county for borrow in shared.borrows.select_related("county").order_by("county__name")]


def pool_for(county: County, today: date | None = None) -> list[int]:
    """The archive items another county may see in the pool (ids; the origin's own are left out)."""
    if not county.in_network:
        return []
    return list(SharedItem.objects.in_pool(today).exclude(county=county).values_list("item_id", flat=True))


def visible_shared(county: County, shared_id: int) -> SharedItem | None:
    """A shared item as another county may see it: only while it is in the pool (None otherwise)."""
    if not county.in_network:
        return None
    return (
        SharedItem.objects.in_pool()
        .exclude(county=county)
        .select_related("item__asset__library", "item__concept", "county")
        .filter(pk=shared_id)
        .first()
    )


def pool_asset(*, county: County, asset_id: int) -> Asset | None:
    """The asset of an item in the pool that `county` sees (settings.SHARED_ASSET_LOOKUP: production's media
    view serves its pictures through it, under release.py's sharing rule), or None."""
    if not county.in_network:
        return None
    in_pool = SharedItem.objects.in_pool().exclude(county=county).filter(item__asset_id=asset_id)
    return Asset.objects.filter(pk=asset_id, archive_item__shared__in=in_pool).select_related("library").first()


def search_pool(
    county: County, filters: ArchiveFilters, *, page: str | int | None, per_page: int = 24
) -> SearchResults:
    """The shared pool, searched like the archive, with county and library facets. The consent filter is
    the pool's own (only items everyone shown let travel are in it), so the archive's is switched off."""
    # The pool's own rule (SharedItemQuerySet.in_pool) on the matched rows themselves: shared and approved
    # (the item's copy), everyone shown consenting to sharing, its county in the network; no join per match.
    items = (
        ArchiveItem.objects.filter(shareable_condition(timezone.localdate()), in_pool=True, county__in_network=True)
        .exclude(county=county)
        .select_related("county", "shared")
    )
    if not county.in_network:
        items = items.none()
    filters = ArchiveFilters(**{**filters.__dict__, "consent": "all"})
    return ArchiveSearch(items, filters, county=county, pool=True).run(page, per_page=per_page)


def _borrowers_library(county: County) -> Library:
    library = Library.objects.for_county(county).order_by("-kind", "name").first()
    if library is None:
        raise ValidationError(_("The county has no library to keep the borrowed item under."))
    return library


def borrow(*, by: User, access: CountyAccess, shared: SharedItem) -> ArchiveItem:
    """Copy a shared item into the borrowing county's archive, its origin and credit kept."""
    county = access.county
    if not access.is_editor:
        raise PermissionDenied
    _require_network(county)
    with transaction.atomic():
        shared = SharedItem.objects.select_for_update().select_related("item__asset__library").get(pk=shared.pk)
        if shared.county_id == county.pk or shared.pk not in set(
            SharedItem.objects.in_pool().filter(pk=shared.pk).values_list("pk", flat=True)
        ):
            raise ValidationError(_("This item is no longer shared."))
        existing = Borrow.objects.filter(shared=shared, county=county).select_related("item").first()
        if existing is not None:
            return existing.item
        origin_item = shared.item
        origin = origin_item.asset
        copy = Asset.objects.get(pk=origin.pk)
        copy.pk = None
        copy.id = None  # a new row for the copy
        copy.uid = Asset._meta.get_field("uid").get_default()
        copy.county, copy.library = county, _borrowers_library(county)
        copy.idea, copy.recording_day, copy.uploaded_by = None, None, by
        copy.borrowed_from = origin
        copy.credit_line = shared.credit[:300]
        copy.consent_lapsed_at = None
        copy.no_people_confirmed_at, copy.no_people_confirmed_by = None, None
        copy.save()
        item = ArchiveItem.objects.create(
            county=county,
            asset=copy,
            source=ArchiveItem.Source.BORROWED,
            archived_by=by,
            content_type=origin_item.content_type,
            title=origin_item.title,
            caption=origin_item.caption,
            published_at=None,
        )
        Borrow.objects.create(shared=shared, county=county, item=item, by=by)
        audit(county=county, actor=by, action="network.borrowed", obj=item, summary=str(item), shared=shared.pk)
        audit(
            county=shared.county,
            actor=by,
            action="network.borrowed_from_us",
            obj=shared,
            summary=f"{shared} → {county}",
            borrower=county.pk,
        )
        refresh_items([item.pk])
    return ArchiveItem.objects.select_related("asset__borrowed_from").get(pk=item.pk)
