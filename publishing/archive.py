"""The shared archive: filing assets, and keeping each item's copied metadata true.

An archive item copies what search and its filters read (title, caption,
alt text, tags, concept and library names, the consent of the people
shown, the reuse count), so that a search is one indexed query. Whatever
changes one of those calls `refresh_items` or `refresh_for_assets`: the
worker after publishing, the consent workflows, an edited asset.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Max, Prefetch
from django.utils import timezone

from libraries.access import CountyAccess
from libraries.models import Library, User
from production.assets import Asset, people_with_consents
from publishing import search
from publishing.models import ArchiveItem, ArchiveReuse, Post

# Rows per UPDATE when the search documents are rebuilt.
REFRESH_BATCH = 500


def orientation_of(width: int | None, height: int | None) -> str:
    if not width or not height:
        return ""
    ratio = width / height
    if 0.95 <= ratio <= 1.05:
        return ArchiveItem.Orientation.SQUARE
    return ArchiveItem.Orientation.LANDSCAPE if ratio > 1 else ArchiveItem.Orientation.PORTRAIT


def post_panel(access: CountyAccess, post: Post) -> dict[str, Any]:
    """What the post page shows of the archive: the items it reuses (templates/publishing/_post_archive.html)."""
    return {}


# --- Filing ---


def file_published_post(*, post: Post, assets: Sequence[Asset], libraries: Iterable[Library]) -> list[ArchiveItem]:
    """File a published post's media (the worker's archive step); safe to run again.

    An asset seen for the first time becomes an item of this post. One the
    archive already holds (published before, or archived by an editor) gets
    this post as a reuse, and this post's libraries.
    """
    libraries = list(libraries)
    items: list[ArchiveItem] = []
    with transaction.atomic():
        for asset in assets:
            item, created = ArchiveItem.objects.select_for_update().get_or_create(
                asset=asset,
                defaults={
                    "county": post.county,
                    "post": post,
                    "source": ArchiveItem.Source.PUBLISHED,
                    "content_type": post.content_type,
                    "concept": post.concept,
                    "permalink": post.permalink,
                    "published_at": post.published_at,
                },
            )
            if not created and item.post_id is None:
                # Archived by an editor before it was ever published: this is its first post.
                item.post, item.permalink, item.published_at = post, post.permalink, post.published_at
                item.content_type = item.content_type or post.content_type
                item.concept = item.concept or post.concept
                item.save(update_fields=["post", "permalink", "published_at", "content_type", "concept", "updated_at"])
            elif not created and item.post_id != post.pk:
                ArchiveReuse.objects.get_or_create(
                    item=item, post=post, defaults={"via": ArchiveReuse.Via.COMPOSED, "by": post.created_by}
                )
            item.libraries.add(*libraries)
            items.append(item)
        refresh_items([item.pk for item in items])
    return items


def archive_asset(*, by: User, asset: Asset) -> ArchiveItem:
    """An editor files an asset that was never published (a good photo from a recording day)."""
    from libraries.services import audit

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


def refresh_items(item_ids: Sequence[int], *, today: date | None = None) -> int:
    """Copy the asset's, post's, concept's and libraries' current text and consent onto the items,
    then rebuild their search documents (in one UPDATE per batch)."""
    today = today or timezone.localdate()
    done = 0
    for start in range(0, len(item_ids), REFRESH_BATCH):
        batch = list(item_ids[start : start + REFRESH_BATCH])
        items = list(
            ArchiveItem.objects.filter(pk__in=batch)
            .select_related("asset", "post", "concept")
            .prefetch_related(
                Prefetch("asset__people", queryset=people_with_consents().queryset),
                Prefetch("libraries", queryset=Library.objects.order_by("name")),
            )
            .annotate(reuses_total=Count("reuses", distinct=True), reused_last=Max("reuses__at"))
        )
        documents: list[tuple[int, str, str, str, str]] = []
        for item in items:
            documents.append((item.pk, *_copy_metadata(item, today)))
        ArchiveItem.objects.bulk_update(
            items,
            [
                "title",
                "caption",
                "alt_text",
                "credit_line",
                "tags",
                "media_kind",
                "orientation",
                "people_count",
                "reuse_blocked",
                "consent_valid_until",
                "reuse_count",
                "last_reused_at",
                "search_text",
            ],
        )
        _write_search_documents(documents)
        done += len(items)
    return done


def _copy_metadata(item: ArchiveItem, today: date) -> tuple[str, str, str, str]:
    """Copy onto the item; returns its weighted search texts."""
    asset, post = item.asset, item.post
    item.title = (asset.title or (post.title if post else "") or asset.original_name)[:200]
    item.caption = post.full_caption if post else ""
    item.alt_text = asset.alt_text
    item.credit_line = (asset.credit_line or (post.credit if post else ""))[:300]
    item.tags = [str(tag)[:50] for tag in asset.tags or []]
    item.media_kind = asset.kind
    item.orientation = orientation_of(asset.width, asset.height)
    people = list(asset.people.all())
    item.people_count = len(people)
    item.reuse_blocked = not all(person.allows(archive_reuse=True, today=today) for person in people)
    until = [c.valid_until for p in people if (c := p.current_consent()) is not None and c.valid_until is not None]
    item.consent_valid_until = min(until) if until else None
    item.reuse_count = item.reuses_total  # type: ignore[attr-defined]  # annotated above
    item.last_reused_at = item.reused_last  # type: ignore[attr-defined]
    texts = _weighted_texts(item)
    item.search_text = " ".join(part for part in texts if part)
    return texts


def _weighted_texts(item: ArchiveItem) -> tuple[str, str, str, str]:
    """What is searched, by weight: title (A); tags, concept, libraries and credit (B); caption (C); alt text (D)."""
    labels = [*item.tags, item.concept.name if item.concept else "", item.credit_line]
    labels += [library.name for library in item.libraries.all()]
    return (
        search.normalize(item.title),
        search.normalize(" ".join(label for label in labels if label)),
        search.normalize(item.caption),
        search.normalize(item.alt_text),
    )


def _vector_sql(column: str, weight: str) -> str:
    vectors = " || ".join(f"to_tsvector('{config}'::regconfig, v.{column})" for config in search.CONFIGS)
    return f"setweight({vectors}, '{weight}')"


def _write_search_documents(rows: list[tuple[int, str, str, str, str]]) -> None:
    if not rows:
        return
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    document = " || ".join(
        _vector_sql(column, weight) for column, weight in (("a", "A"), ("b", "B"), ("c", "C"), ("d", "D"))
    )
    sql = (
        f"UPDATE {ArchiveItem._meta.db_table} AS item SET search_document = {document} "  # noqa: S608 - fixed SQL, values are parameters
        f"FROM (VALUES {values}) AS v(id, a, b, c, d) WHERE item.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])
