"""Archive items made the way the app makes them: published posts filed by `file_published_post`,
or assets archived by an editor, with the people shown and their consent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.utils import timezone

from libraries.models import Library, User
from production.models import Asset, AssetPerson, Concept, Consent, Person
from publishing.archive import filing as archive
from publishing.models import ArchiveItem, Post
from tests.conftest import World
from tests.factories.publishing import make_asset, make_post, tag_person

# What the people shown in an item have agreed to.
CONSENT_OK = "ok"
CONSENT_WITHDRAWN = "withdrawn"
CONSENT_EXPIRED = "expired"
CONSENT_MISSING = "missing"
CONSENT_NO_REUSE = "no_reuse"


def give_consent(asset: Asset, state: str, *, name: str = "Kari Nordmann") -> AssetPerson:
    """Someone shown in the asset, with a consent in `state`; the archive's copy is refreshed."""
    person = tag_person(
        asset, Person.objects.create(county_id=asset.county_id, name=name, category=AssetPerson.Category.PATRON)
    )
    today = timezone.localdate()
    if state != CONSENT_MISSING:
        Consent.objects.create(
            person=person.person,
            covers_publishing=True,
            covers_archive_reuse=state != CONSENT_NO_REUSE,
            given_at=today - timedelta(days=400),
            valid_until=today - timedelta(days=1) if state == CONSENT_EXPIRED else None,
            withdrawn_at=timezone.now() if state == CONSENT_WITHDRAWN else None,
        )
    archive.refresh_for_assets([asset.pk])
    return person


def archived_item(
    world: World,
    *,
    title: str,
    caption: str = "",
    alt_text: str = "Et bilde fra biblioteket.",
    tags: Sequence[str] = (),
    credit_line: str = "",
    concept: Concept | None = None,
    content_type: str = "",
    kind: str = Asset.Kind.IMAGE,
    size: tuple[int, int] = (1080, 1080),
    libraries: Sequence[Library] = (),
    published_at: datetime | None = None,
    published: bool = True,
    consent: str | None = CONSENT_OK,
    by: User | None = None,
    library: Library | None = None,
) -> ArchiveItem:
    """One item in the world's county archive (another county's with `library` of that county)."""
    library = library or world.library
    county = library.county
    asset = make_asset(county=county, library=library, kind=kind, title=title, alt_text=alt_text, size=size)
    asset.tags = list(tags)
    asset.credit_line = credit_line
    asset.save(update_fields=["tags", "credit_line"])
    if published:
        post = make_post(
            county=county,
            author=by or world.editor,
            assets=[asset],
            status=Post.Status.PUBLISHED,
            caption=caption,
            title=title,
            concept=concept,
            content_type=content_type,
            permalink=f"https://www.instagram.com/p/{asset.uid.hex[:11]}/",
            published_at=published_at or timezone.now(),
            media_id=asset.uid.hex,
        )
        [item] = archive.file_published_post(post=post, assets=[asset], libraries=libraries or [library])
    else:
        item = archive.archive_asset(by=by or world.editor, asset=asset)
        item.concept, item.content_type = concept, content_type
        item.save(update_fields=["concept", "content_type"])
        item.libraries.add(*libraries)
    if consent is not None:
        give_consent(asset, consent)
    archive.refresh_items([item.pk])
    return ArchiveItem.objects.get(pk=item.pk)
