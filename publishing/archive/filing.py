"""The shared archive: filing assets, keeping each item's copied metadata true, and reusing items.

An archive item copies what search and its filters read (title, caption,
alt text, tags, concept and library names, the consent of the people
shown, the reuse count), so that a search is one indexed query. Whatever
changes one of those calls `refresh_items` or `refresh_for_assets`: the
worker after publishing, the consent workflows, an edited asset, a reuse.

An item is downloaded or reused only while everyone shown allows reuse
from the archive (`blocked_reason`); a refusal is audited. Reusing makes a
draft through `publishing.posts.services.create_post`, so the post's gates apply
again when it is scheduled. Concepts that re-post from the archive get a
draft for each coming slot without a post (`draft_concept_reposts`, daily).
Searching is in publishing/archive_search.py, downloads in
publishing/archive_downloads.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Prefetch, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from libraries.access import CountyAccess
from libraries.models import County, Library, User, count_per_row
from libraries.services import absolute_url, audit, send_templated_mail_on_commit
from production import release
from production.models import Asset, AssetPerson, Concept, people_with_consents
from publishing.archive import downloads as archive_downloads
from publishing.archive import text as search
from publishing.archive.search import archive_changed
from publishing.models import ArchiveItem, ArchiveItemQuerySet, ArchiveReuse, ArchiveWord, ConceptRepost, Post
from publishing.posts import captions, plan, services

logger = logging.getLogger(__name__)

# Rows per UPDATE when the search documents are rebuilt.
REFRESH_BATCH = 500
# The words kept for correcting a misspelt search (ArchiveWord.word holds 60 characters).
MIN_WORD_LENGTH = 3
MAX_WORD_LENGTH = 60
# A carousel shows 2 to 10 photos or videos (Instagram's limit).
ARCHIVE_CAROUSEL_MAX = 10
# How many of a concept's items are considered for one slot (the first that passes wins).
REPOST_CANDIDATES = 5


def orientation_of(width: int | None, height: int | None) -> str:
    if not width or not height:
        return ""
    ratio = width / height
    if 0.95 <= ratio <= 1.05:
        return ArchiveItem.Orientation.SQUARE
    return ArchiveItem.Orientation.LANDSCAPE if ratio > 1 else ArchiveItem.Orientation.PORTRAIT


# --- Filing ---


def file_published_post(*, post: Post, assets: Sequence[Asset], libraries: Iterable[Library]) -> list[ArchiveItem]:
    """File a published post's media (the worker's archive step); safe to run again.

    An asset seen for the first time becomes an item of this post, its copied
    metadata and search document written as it is made (from the asset read
    here, with its people and consents as they are now). One the archive
    already holds (published before, or archived by an editor) gets this post
    as a reuse, and this post's libraries, and is refreshed (`refresh_items`).
    """
    libraries = list(dict.fromkeys(libraries))
    today = timezone.localdate()
    items: list[ArchiveItem] = []
    made: list[tuple[ArchiveItem, tuple[str, str, str, str]]] = []
    # No savepoint inside the worker's transaction (filing and the mails): a failure rolls back all of it.
    with transaction.atomic(savepoint=False):
        current = _current_assets([asset.pk for asset in assets])
        for asset in assets:
            found = current[asset.pk]
            item: ArchiveItem | None = None
            if not found.archived:  # type: ignore[attr-defined]  # annotated by _current_assets
                item, texts = _new_item(post, found, libraries, today)
                # Its search documents are written with it (the INSERT computes them), not UPDATEd after.
                item.search_document, item.search_rank_document = _search_documents(texts)
                try:
                    with transaction.atomic():
                        item.save(force_insert=True)
                    made.append((item, texts))
                except IntegrityError:  # another post filing the same asset at this moment made it first
                    item = None
            if item is None:
                item = ArchiveItem.objects.select_for_update().get(asset=asset)
                _file_again(item, post)
            item.libraries.add(*libraries)
            items.append(item)
        _search_texts_stored(made)
        new_ids = {item.pk for item, _texts in made}
        refresh_items([item.pk for item in items if item.pk not in new_ids], today=today)
    return items


def _current_assets(asset_ids: list[int]) -> dict[int, Asset]:
    """The assets as they are now, with the people whose consents decide (the origin's for a borrowed copy),
    and whether the archive holds each already (`archived`)."""
    assets = (
        Asset.objects.filter(pk__in=asset_ids)
        .annotate(archived=Exists(ArchiveItem.objects.filter(asset_id=OuterRef("pk"))))
        .prefetch_related(
            people_with_consents(),
            # The origin only for a borrowed copy (one more query then), not joined to every asset.
            Prefetch("borrowed_from__people", queryset=people_with_consents().queryset),
        )
        .order_by()  # unordered: see refresh_items
    )
    return {asset.pk: asset for asset in assets}


def _new_item(
    post: Post, asset: Asset, libraries: list[Library], today: date
) -> tuple[ArchiveItem, tuple[str, str, str, str]]:
    """The item a published asset becomes (not saved), its metadata copied; and its weighted search texts."""
    item = ArchiveItem(
        county=post.county,
        asset=asset,
        post=post,
        source=ArchiveItem.Source.PUBLISHED,
        content_type=post.content_type,
        concept=post.concept,
        permalink=post.permalink,
        published_at=post.published_at,
    )
    return item, _copy_metadata(item, today, libraries=libraries, reuses=0, last_reused=None)


def _file_again(item: ArchiveItem, post: Post) -> None:
    """An item the archive holds already: this post is its first (archived by an editor before), or a reuse."""
    if item.post_id is None:
        # Archived by an editor before it was ever published: this is its first post.
        item.post, item.permalink, item.published_at = post, post.permalink, post.published_at
        item.content_type = item.content_type or post.content_type
        item.concept = item.concept or post.concept
        item.save(update_fields=["post", "permalink", "published_at", "content_type", "concept", "updated_at"])
    elif item.post_id != post.pk:
        ArchiveReuse.objects.get_or_create(
            item=item, post=post, defaults={"via": ArchiveReuse.Via.COMPOSED, "by": post.created_by}
        )


def archive_asset(*, by: User, asset: Asset) -> ArchiveItem:
    """An editor files an asset that was never published (a good photo from a recording day)."""
    if asset.status != Asset.Status.READY:
        raise ValidationError(_("Only a file whose Instagram version is ready can be archived."))
    with transaction.atomic():
        item, created = ArchiveItem.objects.get_or_create(
            asset=asset,
            defaults={
                "county": asset.county,
                "source": ArchiveItem.Source.ARCHIVED,
                "archived_by": by,
                "content_type": asset.idea.content_type if asset.idea else "",
                "concept": asset.idea.concept if asset.idea else None,
            },
        )
        if created:
            libraries = [asset.library]
            if asset.recording_day is not None:
                libraries += [asset.recording_day.host_library, *asset.recording_day.participating_libraries.all()]
            item.libraries.add(*{library for library in libraries if library.county_id == asset.county_id})
            refresh_items([item.pk])
            audit(county=asset.county, actor=by, action="archive.archived", obj=item, summary=str(asset))
    return item


# --- Keeping the copies true ---


def refresh_for_assets(asset_ids: Iterable[int]) -> int:
    """Refresh the archive items of these assets (a consent or the asset's text changed)."""
    ids = list(ArchiveItem.objects.filter(asset_id__in=list(asset_ids)).values_list("pk", flat=True))
    return refresh_items(ids)


# What refresh_items copies onto the items.
REFRESHED_FIELDS = [
    "title",
    "caption",
    "alt_text",
    "credit_line",
    "tags",
    "media_kind",
    "orientation",
    "people_count",
    "reuse_blocked",
    "sharing_blocked",
    "consent_valid_until",
    "reuse_count",
    "last_reused_at",
    "library_ids",
]


def refresh_items(item_ids: Sequence[int], *, today: date | None = None) -> int:
    """Copy the asset's, post's, concept's and libraries' current text and consent onto the items,
    then rebuild their search documents (in one UPDATE per batch)."""
    today = today or timezone.localdate()
    done = 0
    reuses = ArchiveReuse.objects.filter(item=OuterRef("pk")).order_by().values("item")
    for start in range(0, len(item_ids), REFRESH_BATCH):
        batch = list(item_ids[start : start + REFRESH_BATCH])
        items = list(
            ArchiveItem.objects.filter(pk__in=batch)
            .select_related("asset__borrowed_from", "post", "concept")
            .prefetch_related(
                Prefetch("asset__people", queryset=people_with_consents().queryset),
                Prefetch("asset__borrowed_from__people", queryset=people_with_consents().queryset),
                Prefetch("libraries", queryset=Library.objects.order_by("name")),
            )
            # Subqueries, not a join with GROUP BY: grouping (as ordering) has Django hash each of the
            # ~180 selected columns (through inspect), which cost more than reading the rows.
            .annotate(
                reuses_total=count_per_row(ArchiveReuse.objects.filter(item=OuterRef("pk")), "item"),
                reused_last=Subquery(reuses.annotate(last=Max("at")).values("last")),
            )
            .order_by()
        )
        copies = [
            (
                item,
                _copy_metadata(
                    item,
                    today,
                    libraries=list(item.libraries.all()),
                    reuses=item.reuses_total,  # type: ignore[attr-defined]  # annotated above
                    last_reused=item.reused_last,  # type: ignore[attr-defined]  # annotated above
                ),
            )
            for item in items
        ]
        if len(items) == 1:  # one item (an edited asset, a consent): a plain UPDATE, not one CASE per column
            ArchiveItem.objects.filter(pk=items[0].pk).update(
                **{name: getattr(items[0], name) for name in REFRESHED_FIELDS}
            )
        elif items:
            ArchiveItem.objects.bulk_update(items, REFRESHED_FIELDS)
        _store_search_texts(copies)
        done += len(items)
    return done


def _store_search_texts(copies: list[tuple[ArchiveItem, tuple[str, str, str, str]]]) -> None:
    """The items' search documents and the words a misspelt search may be corrected to; the search's caches
    are told (only a change to an item in the shared pool moves the pool's version)."""
    if not copies:
        return
    _write_search_documents([(item.pk, *texts) for item, texts in copies])
    _search_texts_stored(copies)


def _search_texts_stored(copies: list[tuple[ArchiveItem, tuple[str, str, str, str]]]) -> None:
    """The items' search documents are written: the words a misspelt search may be corrected to, and the
    search's caches told."""
    if not copies:
        return
    archive_changed(
        {item.county_id for item, _texts in copies}, pool=any(item.in_pool for item, _texts in copies), words=True
    )
    words = {(item.county_id, word) for item, texts in copies for word in _vocabulary(texts)}
    ArchiveWord.objects.bulk_create(
        [ArchiveWord(county_id=county_id, word=word) for county_id, word in sorted(words)], ignore_conflicts=True
    )


def _copy_metadata(
    item: ArchiveItem, today: date, *, libraries: list[Library], reuses: int, last_reused: datetime | None
) -> tuple[str, str, str, str]:
    """Copy onto the item (its libraries by name); returns its weighted search texts."""
    asset, post = item.asset, item.post
    item.title = (asset.title or (post.title if post else "") or asset.original_name)[:200]
    if item.source != ArchiveItem.Source.BORROWED:  # a borrowed copy keeps the origin's caption text
        item.caption = post.full_caption if post else ""
    item.alt_text = asset.alt_text
    item.credit_line = (asset.credit_line or (post.credit if post else ""))[:300]
    item.tags = [str(tag)[:50] for tag in asset.tags or []]
    item.media_kind = asset.kind
    item.orientation = orientation_of(asset.width, asset.height)
    people = asset.consent_people()
    item.people_count = len(people)
    # The copy the search filters on says what the rule says (production/release.py): nobody registered
    # and not confirmed is blocked too.
    item.reuse_blocked = not asset.allows_archive_reuse(today=today)
    item.sharing_blocked = not asset.allows_sharing(today=today)
    until = [c.valid_until for p in people if (c := p.current_consent()) is not None and c.valid_until is not None]
    item.consent_valid_until = min(until) if until else None
    item.reuse_count = reuses
    item.last_reused_at = last_reused
    item.library_ids = sorted(library.pk for library in libraries)
    return _weighted_texts(item, libraries)


def _vocabulary(texts: Iterable[str]) -> set[str]:
    """The words a misspelt search may be corrected to (ArchiveWord): not numbers, not too short or long."""
    return {
        word
        for text in texts
        for word in search.words(text)
        if MIN_WORD_LENGTH <= len(word) <= MAX_WORD_LENGTH and not word.isdigit()
    }


def _weighted_texts(item: ArchiveItem, libraries: list[Library]) -> tuple[str, str, str, str]:
    """What is searched, by weight: title (A); tags, concept, libraries and credit (B); caption (C); alt text (D)."""
    labels = [*item.tags, item.concept.name if item.concept else "", item.credit_line]
    labels += sorted(library.name for library in libraries)  # as Python sorts them, whoever read them in what order
    return (
        search.normalize(item.title),
        search.normalize(" ".join(label for label in labels if label)),
        search.normalize(item.caption),
        search.normalize(item.alt_text),
    )


def _vector_sql(value: str, weight: str) -> str:
    """One weight's vector of `value` (SQL: a column, or a parameter's placeholder) in every configuration."""
    vectors = " || ".join(f"to_tsvector('{config}'::regconfig, {value})" for config in search.CONFIGS)
    return f"setweight({vectors}, '{weight}')"


def _search_documents(texts: tuple[str, str, str, str]) -> tuple[RawSQL, RawSQL]:
    """The whole document and the ranking one of an item being made, as `_write_search_documents` writes them:
    expressions its INSERT computes."""
    weights = list(zip(texts, "ABCD", strict=True))
    document = " || ".join(_vector_sql("%s::text", weight) for _text, weight in weights)
    ranking = " || ".join(_vector_sql("%s::text", weight) for _text, weight in weights[:2])
    configs = len(search.CONFIGS)
    return (
        RawSQL(document, [text for text, _weight in weights for _config in range(configs)]),  # noqa: S611 - fixed SQL, values are parameters
        RawSQL(ranking, [text for text, _weight in weights[:2] for _config in range(configs)]),  # noqa: S611 - as above
    )


def _write_search_documents(rows: list[tuple[int, str, str, str, str]]) -> None:
    """The whole document (all four weights) and the ranking one (title and labels) in one UPDATE."""
    if not rows:
        return
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    document = " || ".join(
        _vector_sql(f"v.{column}", weight) for column, weight in (("a", "A"), ("b", "B"), ("c", "C"), ("d", "D"))
    )
    ranking = " || ".join(_vector_sql(f"v.{column}", weight) for column, weight in (("a", "A"), ("b", "B")))
    sql = (
        f"UPDATE {ArchiveItem._meta.db_table} AS item "  # noqa: S608 - fixed SQL, values are parameters
        f"SET search_document = {document}, search_rank_document = {ranking} "
        f"FROM (VALUES {values}) AS v(id, a, b, c, d) WHERE item.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])


# --- Consent: what may be downloaded and reused ---


class ArchiveItemBlocked(ValidationError):
    """Someone shown in an item does not allow reuse from the archive (the refusal is audited already)."""


def with_consents(items: ArchiveItemQuerySet) -> ArchiveItemQuerySet:
    """Items with their assets' people and consents, for `blocked_reason` without a query per item."""
    return items.prefetch_related(Prefetch("asset__people", queryset=people_with_consents().queryset))


def blocked_reason(item: ArchiveItem, *, today: date | None = None) -> str:
    """Why the item may not be downloaded or reused, in words; "" when it may.

    The consents decide (`production.release.consent_reason`, the one rule),
    and the item's copy (`is_reusable`) must agree: a copy not refreshed yet
    never lets a withdrawn consent through.
    """
    today = today or timezone.localdate()
    if reason := release.consent_reason(item.asset, scope="reuse", today=today):
        return reason
    if not item.is_reusable(today):
        return _("the consent of the people shown does not allow it")
    return ""


def versions_for(access: CountyAccess) -> dict[str, Any]:
    """The versions the person may download from the archive: the Instagram one, and originals for editors."""
    return {
        version: label
        for version, label in archive_downloads.VERSIONS.items()
        if version != archive_downloads.ORIGINAL or release.may_fetch_originals(access)
    }


def download_release(
    access: CountyAccess, item: ArchiveItem, version: str, *, today: date | None = None
) -> release.Release:
    """May this person download the item's original or Instagram version (the one rule, and the item's copy)?"""
    purpose = release.Purpose.ORIGINAL if version == archive_downloads.ORIGINAL else release.Purpose.TAKE_AWAY
    answer = release.media_release(item.asset, purpose=purpose, access=access, today=today)
    if answer.allowed and (reason := blocked_reason(item, today=today)):
        return release.Release(False, reason)
    return answer


def refusal_message(item: ArchiveItem, reason: str) -> str:
    return _("“%(title)s” cannot be downloaded or reused: %(reason)s.") % {"title": item, "reason": reason}


def refuse(*, by: User, item: ArchiveItem, reason: str, action: str) -> str:
    """Audit a refused download or reuse (`action`: "download" or "reuse"); the message for the person."""
    audit(county=item.county, actor=by, action=f"archive.{action}_refused", obj=item, summary=f"{item}: {reason}")
    return refusal_message(item, reason)


def record_download(*, by: User, item: ArchiveItem, version: str, zip: bool = False) -> None:
    """Audit a download of an item's file (`zip`: as part of a selection)."""
    extra = {"zip": True} if zip else {}
    audit(
        county=item.county, actor=by, action="archive.downloaded", obj=item, summary=str(item), version=version, **extra
    )


def check_reusable(*, by: User, items: Sequence[ArchiveItem], action: str) -> None:
    """Raise ArchiveItemBlocked naming every blocked item, each refusal audited first.

    Call it outside the transaction that would make the post, so that the
    audit entries stay when the refusal ends the workflow.
    """
    messages = [
        refuse(by=by, item=item, reason=reason, action=action) for item in items if (reason := blocked_reason(item))
    ]
    if messages:
        raise ArchiveItemBlocked(messages)


def consent_scope(item: ArchiveItem) -> list[tuple[AssetPerson, str]]:
    """Each person shown with what their current consent covers and until when, in words (prefetch the people)."""
    scope = []
    for person in item.asset.people.all():
        consent = person.current_consent()
        if consent is None:
            scope.append((person, _("No consent on record")))
            continue
        words = consent.full_scope_display  # with sharing beyond the county: the network asks for it
        if consent.withdrawn_at is not None:
            words = _("%(scope)s; withdrawn") % {"scope": words}
        elif consent.valid_until is not None:
            words = _("%(scope)s, until %(date)s") % {
                "scope": words,
                "date": date_format(consent.valid_until, "SHORT_DATE_FORMAT"),
            }
        scope.append((person, words))
    return scope


# --- Reuse in a new post ---


def suggested_collaborators(items: Sequence[ArchiveItem]) -> list[Library]:
    """The libraries of the items' ideas and recording days, then the items' own libraries (Instagram's limit)."""
    county = items[0].county
    chosen: list[Library] = []
    for item in items:
        asset = item.asset
        day = asset.recording_day or services.recording_day_of(asset.idea)
        chosen += services.suggested_collaborators(county=county, idea=asset.idea, recording_day=day)
    library_ids = {pk for item in items for pk in item.library_ids}
    chosen += list(
        Library.objects.for_county(county)
        .members()
        .active()
        .exclude(instagram_username="")
        .filter(pk__in=library_ids)
        .order_by("name")
    )
    return list(dict.fromkeys(chosen))[: captions.MAX_COLLABORATORS]


def _media_kind(items: Sequence[ArchiveItem]) -> str:
    if len(items) > 1:
        return Post.MediaKind.CAROUSEL
    return Post.MediaKind.IMAGE if items[0].asset.is_image else Post.MediaKind.REEL


def _draft_from_items(
    *,
    by: User,
    items: Sequence[ArchiveItem],
    via: str,
    title: str,
    concept: Concept | None = None,
    scheduled_at: datetime | None = None,
) -> Post:
    """A draft showing the items' assets, with their concept, credits and libraries; the reuses recorded."""
    if not 1 <= len(items) <= ARCHIVE_CAROUSEL_MAX:
        raise ValidationError(_("Choose one item for a post, or 2 to 10 for a carousel."))
    check_reusable(by=by, items=items, action="reuse")
    first = items[0]
    # The original posts' inspiration credits travel; the photographer's credit stays on the asset
    # (its photo credit), never in the post's inspiration credit. A copy borrowed from another county
    # carries its origin's credit ("Idé og foto: …", publishing/archive/network.py) into the caption.
    credits = list(
        dict.fromkeys(
            [item.post.credit for item in items if item.post is not None and item.post.credit]
            + [item.credit_line for item in items if item.source == ArchiveItem.Source.BORROWED and item.credit_line]
        )
    )
    concepts = {item.concept_id for item in items}
    post = Post(
        county=first.county,
        title=title[:200],
        caption=first.post.caption if first.post is not None else "",
        credit="; ".join(credits)[:300],
        media_kind=_media_kind(items),
        concept=concept or (first.concept if len(concepts) == 1 else None),
        content_type=(concept.content_type if concept else first.content_type) or "",
        responsible=by,
        scheduled_at=scheduled_at,
    )
    with transaction.atomic():
        post = services.create_post(
            by=by, post=post, assets=[item.asset for item in items], collaborators=suggested_collaborators(items)
        )
        ArchiveReuse.objects.bulk_create([ArchiveReuse(item=item, post=post, via=via, by=by) for item in items])
        for item in items:
            audit(
                county=item.county,
                actor=by,
                action="archive.reused",
                obj=item,
                summary=str(item),
                post=post.pk,
                via=via,
            )
        refresh_items([item.pk for item in items])
    return post


def reuse_in_new_post(*, by: User, items: Sequence[ArchiveItem]) -> Post:
    """Reuse in a new post: a draft with the items (one post, or a carousel of 2 to 10), for review.

    Refused with ArchiveItemBlocked when someone shown does not allow reuse.
    The draft goes through the usual review; its gates apply again when it is scheduled.
    """
    first = items[0] if items else None
    if first is None:
        raise ValidationError(_("Choose the items to reuse."))
    if len(items) == 1:
        title = _("Reuse: %(title)s") % {"title": first}
    else:
        title = _("Reuse: %(title)s and %(count)s more") % {"title": first, "count": len(items) - 1}
    return _draft_from_items(by=by, items=items, via=ArchiveReuse.Via.REUSE, title=title)


# --- Concepts' re-posts from the archive ---


@dataclass(frozen=True)
class Repost:
    concept: Concept
    at: datetime
    post: Post
    item: ArchiveItem


def repost_candidates(concept: Concept, *, today: date | None = None) -> ArchiveItemQuerySet:
    """A concept's reusable items, the least recently reused first (never reused before anything)."""
    return with_consents(
        ArchiveItem.objects.for_county(concept.county)
        .filter(concept=concept, asset__status=Asset.Status.READY)
        .reusable(today)
        .select_related("county", "asset", "concept", "post")
        .order_by(
            F("last_reused_at").asc(nulls_first=True), "reuse_count", F("published_at").desc(nulls_last=True), "pk"
        )
    )


def draft_concept_reposts(*, now: datetime | None = None) -> list[Repost]:
    """Before each coming slot of a re-posting concept that has no post, draft one from the archive.

    The slots are the plan's gaps from today to ARCHIVE_REPOST_LEAD_DAYS
    ahead. Each slot is claimed once (ConceptRepost's unique constraint): a
    second run, or two at once, drafts nothing more; a draft cancelled later
    is not made again. A slot with no reusable material is not claimed, so
    material archived later can still fill it. The concept's owner is
    responsible for the draft and is e-mailed.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    until = today + timedelta(days=settings.ARCHIVE_REPOST_LEAD_DAYS)
    made: list[Repost] = []
    county_ids = (
        Concept.objects.active().recurring().filter(reposts_from_archive=True).values_list("county_id", flat=True)
    )
    for county in County.objects.filter(pk__in=county_ids).order_by("pk"):
        for gap in plan.concept_gaps(county, today, until):
            if gap.concept.reposts_from_archive and gap.at > now:
                repost = _draft_repost(gap.concept, gap.at, today=today)
                if repost is not None:
                    made.append(repost)
    return made


def _draft_repost(concept: Concept, at: datetime, *, today: date) -> Repost | None:
    owner = concept.owner
    if owner is None or not owner.is_active:
        logger.warning(
            "Concept %s re-posts from the archive but has no active owner; slot %s left open.", concept.pk, at
        )
        return None
    with transaction.atomic():
        claim, created = ConceptRepost.objects.get_or_create(concept=concept, occurs_at=at)
        if not created:
            return None
        for item in repost_candidates(concept, today=today)[:REPOST_CANDIDATES]:
            if blocked_reason(item, today=today):
                continue
            title = _("%(concept)s: re-post of “%(title)s”") % {"concept": concept.name, "title": item}
            post = _draft_from_items(
                by=owner, items=[item], via=ArchiveReuse.Via.CONCEPT, title=title, concept=concept, scheduled_at=at
            )
            claim.post, claim.item = post, item
            claim.save(update_fields=["post", "item"])
            send_templated_mail_on_commit(
                to=[owner.email],
                template="concept_repost_drafted",
                context={
                    "concept": concept,
                    "post": post,
                    "item": item,
                    "at": at,
                    "url": absolute_url(post.get_absolute_url()),
                },
            )
            return Repost(concept=concept, at=at, post=post, item=item)
        # Nothing to re-post yet: the slot stays open for material archived later.
        claim.delete()
    return None


# --- What the pages show ---


def item_reuses(item: ArchiveItem) -> list[ArchiveReuse]:
    """Where and when the item was used again, newest first."""
    return list(item.reuses.select_related("post", "by").order_by("-at", "-pk"))


def reused_items() -> ArraySubquery:
    """The archive items a post reuses, read with the post (the post page's `archive_reused_rows`): one row
    per reuse, with what the page shows of its item, by the item's title; most posts reuse none."""
    reuses = ArchiveReuse.objects.filter(post=OuterRef("pk")).order_by("item__title", "pk")
    return ArraySubquery(
        reuses.values(
            row=JSONObject(
                id="pk",
                via="via",
                at="at",
                item_id="item_id",
                item_asset_id="item__asset_id",
                item_title="item__title",
                item_reuse_count="item__reuse_count",
            )
        )
    )


def _reuse_of(row: dict[str, Any]) -> ArchiveReuse:
    item = ArchiveItem(
        pk=row["item_id"], asset_id=row["item_asset_id"], title=row["item_title"], reuse_count=row["item_reuse_count"]
    )
    return ArchiveReuse(pk=row["id"], via=row["via"], at=datetime.fromisoformat(row["at"]), item=item)


def archive_panel(access: CountyAccess, post: Post) -> dict[str, Any]:
    """What the post page shows of the archive (templates/publishing/_post_archive.html): the items
    the post reuses, and for a published post its own items, how often and where they were reused.
    The post is the post page's (`publishing.access.get_post_for_user(..., for_gates=True)`)."""
    # Read with the post (`reused_items`).
    reused = [_reuse_of(row) for row in post.archive_reused_rows]  # type: ignore[attr-defined]
    # Only a published post has items of its own (they are filed when it is published).
    own = (
        list(
            post.archive_items.prefetch_related(
                Prefetch("reuses", queryset=ArchiveReuse.objects.select_related("post").order_by("-at", "-pk"))
            ).order_by("pk")
        )
        if post.published_at is not None
        else []
    )
    return {"archive_reused": reused, "archive_own_items": own, "archive_sees_drafts": access.is_editor}
