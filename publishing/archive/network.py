"""The network of counties: offering archive items, concepts and ideas to the shared pool, approving,
un-sharing, hiding, borrowing.

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

A concept or an idea shows no one, so it travels as text. A borrowed concept
becomes the county's own concept (inactive until its coordinator sets it
going), linked to its origin, and each new post of it starts with the
credit; a borrowed idea enters the county's queue of ideas as a new,
submitted idea crediting its source (never the origin's queue itself: not
its status, comments or attachments).
"""

from __future__ import annotations

from datetime import date
from typing import cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from libraries.access import CountyAccess
from libraries.models import County, Library, User
from libraries.services import absolute_url, audit, coordinator_emails, send_templated_mail_on_commit
from production.models import Asset, Concept, Idea
from production.release import consent_reason
from production.services import planning
from publishing.archive.filing import refresh_items
from publishing.archive.search import ArchiveFilters, ArchiveSearch, SearchResults, archive_changed
from publishing.models import ArchiveItem, Borrow, SharedItem, SharedItemQuerySet, shareable_condition

# What can be shared: an archive item, a concept, an idea.
Shareable = ArchiveItem | Concept | Idea


def kind_of(thing: Shareable) -> SharedItem.Kind:
    if isinstance(thing, ArchiveItem):
        return SharedItem.Kind.ITEM
    return SharedItem.Kind.CONCEPT if isinstance(thing, Concept) else SharedItem.Kind.IDEA


def county_id_of(thing: Shareable) -> int:
    return thing.library.county_id if isinstance(thing, Idea) else thing.county_id


def _source_library(thing: Shareable) -> Library | None:
    """Whom a borrowed copy credits: the item's library, the idea's, or for a concept the county library."""
    if isinstance(thing, ArchiveItem):
        return thing.asset.library
    if isinstance(thing, Idea):
        return thing.library
    return Library.objects.for_county(thing.county).order_by("kind", "name").first()  # "county" before "member"


def credit_for(thing: Shareable, *, language: str = "") -> str:
    """The credit a borrowed copy carries, in the offering editor's language (it goes into captions, not the
    page), which they may reword: "Idé og foto: Stavanger bibliotek @stavangerbibliotek" for an archive item;
    the library alone for a concept or an idea (a post made from one says "Inspired by …")."""
    library = _source_library(thing)
    if library is None:
        return ""
    handle = f" @{library.instagram_username}" if library.instagram_username else ""
    if not isinstance(thing, ArchiveItem):
        return f"{library.name}{handle}"
    with translation.override(language or settings.LANGUAGE_CODE):
        return _("Idea and photo: %(library)s%(handle)s") % {"library": library.name, "handle": handle}


def shared_of(thing: Shareable) -> SharedItem | None:
    """The thing's place in the network (None: never offered)."""
    return (
        SharedItem.objects.filter(**{kind_of(thing): thing})
        .select_related("county", "offered_by", "approved_by")
        .first()
    )


def cannot_offer(thing: Shareable) -> str:
    """Why the thing cannot be offered ("" when it can)."""
    if isinstance(thing, ArchiveItem):
        if thing.asset.is_borrowed:
            return _("A borrowed item cannot be shared again; its origin shares it.")
        reason = consent_reason(thing.asset, scope="sharing")
        return _("It cannot be shared: %(reason)s.") % {"reason": reason} if reason else ""
    if thing.borrowed_from_id is not None:
        return _("A borrowed concept or idea cannot be shared again; its origin shares it.")
    if isinstance(thing, Idea) and thing.status in (Idea.Status.SUBMITTED, Idea.Status.DECLINED):
        return _("Only an idea the county accepted can be shared.")
    return ""


def _copy_status(shared: SharedItem) -> None:
    """The item's copy of whether it is in the pool (`ArchiveItem.in_pool`, what the pool's search filters on),
    and the pool's cached facet counts moved on (`archive_changed` bumps the network's version too)."""
    if shared.item_id is None:
        return  # a concept or an idea: the pool lists them from SharedItem itself
    ArchiveItem.objects.filter(pk=shared.item_id).update(in_pool=shared.status == SharedItem.Status.SHARED)
    archive_changed([shared.county_id])


def _require_network(county: County) -> None:
    if not county.in_network:
        raise ValidationError(_("The county does not take part in the network. A coordinator can turn it on."))


def offer(*, by: User, access: CountyAccess, item: Shareable, credit: str = "") -> SharedItem:
    """An editor offers an archive item, a concept or an idea to the network; it leaves the county once a
    coordinator approves it."""
    if not access.is_editor or county_id_of(item) != access.county.pk:
        raise PermissionDenied
    _require_network(access.county)
    reason = cannot_offer(item)
    if reason:
        raise ValidationError(reason)
    with transaction.atomic():
        shared, _created = SharedItem.objects.select_for_update().get_or_create(
            **{kind_of(item): item},
            defaults={
                "county": access.county,
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
        audit(
            county=access.county,
            actor=by,
            action="network.offered",
            obj=shared,
            summary=str(item),
            **{kind_of(item): item.pk},
        )
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
                "title": str(shared.thing),
                "by": by,
                "credit": shared.credit,
                "url": absolute_url(shared.thing.get_absolute_url()),
            },
        )


def approve(*, by: User, access: CountyAccess, shared: SharedItem) -> SharedItem:
    """The coordinator lets an offered item leave the county: it is in the pool from now on."""
    if not access.is_coordinator or shared.county_id != access.county.pk:
        raise PermissionDenied
    _require_network(access.county)
    if shared.status != SharedItem.Status.OFFERED:
        raise ValidationError(_("Only an offered item can be approved."))
    reason = cannot_offer(shared.thing)
    if reason:
        raise ValidationError(reason)
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
        for borrow in shared.borrows.select_related("county", "item", "concept", "idea"):
            to = coordinator_emails(borrow.county)
            if to:  # each borrowing county's coordinators, in each one's language
                send_templated_mail_on_commit(
                    to=to,
                    template="network_unshared",
                    context={
                        "title": str(borrow.copy),
                        "origin": shared.county,
                        "url": absolute_url(borrow.copy.get_absolute_url()),
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
    return list(SharedItem.objects.in_pool(today).items().exclude(county=county).values_list("item_id", flat=True))


def visible_shared(county: County, shared_id: int) -> SharedItem | None:
    """A shared item as another county may see it: only while it is in the pool (None otherwise)."""
    if not county.in_network:
        return None
    return (
        SharedItem.objects.in_pool()
        .exclude(county=county)
        .select_related("item__asset__library", "item__concept", "county", "concept", "idea__library")
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
    """The shared pool, searched like the archive, with county and library facets."""
    return pool_search(county, filters).run(page, per_page=per_page)


def pool_search(county: County, filters: ArchiveFilters) -> ArchiveSearch:
    """The search of the pool as `county` sees it. The consent filter is the pool's own (only items
    everyone shown let travel are in it), so the archive's is switched off."""
    # The pool's own rule (SharedItemQuerySet.in_pool) on the matched rows themselves: shared and approved
    # (the item's copy), everyone shown consenting to sharing, its county in the network; no join per match.
    items = ArchiveItem.objects.filter(
        shareable_condition(timezone.localdate()), in_pool=True, county__in_network=True
    ).exclude(county=county)  # ArchiveSearch(pool=True) reads each result's county and credit with it
    if not county.in_network:
        items = items.none()
    filters = ArchiveFilters(**{**filters.__dict__, "consent": "all"})
    return ArchiveSearch(items, filters, county=county, pool=True)


def pool_of_kind(county: County, kind: str, q: str = "") -> SharedItemQuerySet:
    """The concepts or the ideas other counties share (newest first), found by the words of `q` in their
    name and description, or title and pitch; none when the county does not take part."""
    if not county.in_network:
        return SharedItem.objects.none()
    shared = SharedItem.objects.in_pool().exclude(county=county).select_related("county")
    if kind == SharedItem.Kind.CONCEPT:
        shared, fields = shared.concepts().select_related("concept"), ("concept__name", "concept__description")
    else:
        shared, fields = shared.ideas().select_related("idea__library"), ("idea__title", "idea__pitch")
    for word in q.split():
        shared = shared.filter(Q(**{f"{fields[0]}__icontains": word}) | Q(**{f"{fields[1]}__icontains": word}))
    return shared.order_by("-approved_at", "-pk")


def pool_counts(county: County, q: str = "") -> dict[str, int]:
    """How many concepts and ideas `pool_of_kind` finds, in one query (the pool's tabs)."""
    if not county.in_network:
        return {SharedItem.Kind.CONCEPT: 0, SharedItem.Kind.IDEA: 0}
    concepts = pool_of_kind(county, SharedItem.Kind.CONCEPT, q).values("pk")
    ideas = pool_of_kind(county, SharedItem.Kind.IDEA, q).values("pk")
    counts = SharedItem.objects.filter(Q(pk__in=concepts) | Q(pk__in=ideas)).aggregate(
        concept=Count("pk", filter=Q(concept__isnull=False)), idea=Count("pk", filter=Q(idea__isnull=False))
    )
    return {SharedItem.Kind.CONCEPT: counts["concept"], SharedItem.Kind.IDEA: counts["idea"]}


def examples_of(county: County, concept: Concept) -> list[ArchiveItem]:
    """A shared concept's example posts: its archive items that `county` sees in the pool (so only what
    everyone shown let travel), newest first."""
    return list(
        ArchiveItem.objects.filter(shared__in=SharedItem.objects.in_pool().exclude(county=county), concept=concept)
        .select_related("asset", "shared")
        .order_by("-published_at", "-pk")[:6]
    )


def _borrowers_library(county: County) -> Library:
    library = Library.objects.for_county(county).order_by("-kind", "name").first()
    if library is None:
        raise ValidationError(_("The county has no library to keep the borrowed item under."))
    return library


def may_borrow(access: CountyAccess, kind: str) -> bool:
    """Editors borrow items and ideas; a concept becomes one of the county's concepts, which its
    coordinators keep."""
    if not access.county.in_network:
        return False
    return access.is_coordinator if kind == SharedItem.Kind.CONCEPT else access.is_editor


def borrow(*, by: User, access: CountyAccess, shared: SharedItem) -> Shareable:
    """Copy what another county shares into the borrowing county, its origin and credit kept: an archive
    item into the archive, a concept among the concepts, an idea into the queue of ideas."""
    county = access.county
    if not (access.is_coordinator if shared.kind == SharedItem.Kind.CONCEPT else access.is_editor):
        raise PermissionDenied
    _require_network(county)
    with transaction.atomic():
        shared = (
            SharedItem.objects.select_for_update(of=("self",))
            .select_related("item__asset__library", "concept", "idea__library", "county")
            .get(pk=shared.pk)
        )
        if shared.county_id == county.pk or shared.pk not in set(
            SharedItem.objects.in_pool().filter(pk=shared.pk).values_list("pk", flat=True)
        ):
            raise ValidationError(_("This item is no longer shared."))
        existing = Borrow.objects.filter(shared=shared, county=county).select_related("item", "concept", "idea").first()
        if existing is not None:
            return existing.copy
        copy: Shareable
        if shared.kind == SharedItem.Kind.ITEM:
            copy = _copy_item(shared, by=by, access=access)
        elif shared.kind == SharedItem.Kind.CONCEPT:
            copy = _copy_concept(shared, by=by, access=access)
        else:
            copy = _copy_idea(shared, by=by, access=access)
        Borrow.objects.create(shared=shared, county=county, by=by, **{shared.kind: copy})
        audit(county=county, actor=by, action="network.borrowed", obj=copy, summary=str(copy), shared=shared.pk)
        audit(
            county=shared.county,
            actor=by,
            action="network.borrowed_from_us",
            obj=shared,
            summary=f"{shared} → {county}",
            borrower=county.pk,
        )
    if isinstance(copy, ArchiveItem):
        return ArchiveItem.objects.select_related("asset__borrowed_from").get(pk=copy.pk)
    return copy


def _copy_item(shared: SharedItem, *, by: User, access: CountyAccess) -> ArchiveItem:
    """The item's asset copied (the same files, `Asset.borrowed_from`) and filed in the county's archive."""
    county = access.county
    origin_item = cast(ArchiveItem, shared.thing)
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
    refresh_items([item.pk])
    return item


def _copy_concept(shared: SharedItem, *, by: User, access: CountyAccess) -> Concept:
    """The county's own concept, as the origin describes it, inactive until a coordinator sets its cadence
    going here (so no library is asked for posts before then); its new posts start with the credit."""
    origin = cast(Concept, shared.thing)
    concept = Concept(
        county=access.county,
        name=_free_concept_name(access.county, origin.name, shared.county.name),
        description=origin.description,
        content_type=origin.content_type,
        cadence_rule=origin.cadence_rule,
        time_of_day=origin.time_of_day,
        holiday_rule=origin.holiday_rule,
        owner=by,
        is_active=False,
        borrowed_from=origin,
        credit=shared.credit,
    )
    return planning.save_concept(by=by, concept=concept)


def _free_concept_name(county: County, name: str, origin: str) -> str:
    """The origin's name, or with the origin county's name when the county has a concept of that name."""
    taken = set(Concept.objects.for_county(county).values_list("name", flat=True))
    candidates = [name, f"{name} ({origin})", *(f"{name} ({origin} {n})" for n in range(2, 100))]
    return next(candidate[:150] for candidate in candidates if candidate[:150] not in taken)


def _copy_idea(shared: SharedItem, *, by: User, access: CountyAccess) -> Idea:
    """A new idea in the county's queue, submitted by the borrower for their library (or the county's), with
    the origin's pitch and its source as the credit; the origin's status, comments and files stay there."""
    origin = cast(Idea, shared.thing)
    handle = origin.library.instagram_username
    idea = Idea(
        library=_idea_library(access),
        title=origin.title,
        pitch=origin.pitch,
        content_type=origin.content_type,
        audiences=list(origin.audiences),
        reference_links=origin.reference_links,
        credit_name=shared.credit[:200],
        credit_url=f"https://www.instagram.com/{handle}/" if handle else "",
        borrowed_from=origin,
    )
    return planning.submit_idea(by=by, idea=idea)


def _idea_library(access: CountyAccess) -> Library:
    """The borrower's own library in the county (a member library before the county's), else the county's."""
    own = Library.objects.for_county(access.county).filter(pk__in=access.library_ids).order_by("-kind", "name")
    return own.first() or _borrowers_library(access.county)
