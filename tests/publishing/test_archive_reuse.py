"""Using the archive: the item page, downloads (one file, a zip), consent refusals, reuse in a new post,
archiving an asset, the post page's archive panel, and the concepts' re-posts."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from libraries.models import AuditEntry
from production.models import Asset, Concept, Consent, ContentType
from publishing.archive import downloads as archive_downloads
from publishing.archive import filing as archive
from publishing.models import ArchiveItem, ArchiveReuse, ConceptRepost, Post
from publishing.posts import services
from publishing.tasks import draft_concept_reposts
from tests.conftest import World
from tests.factories.archive import (
    CONSENT_EXPIRED,
    CONSENT_MISSING,
    CONSENT_NO_REUSE,
    CONSENT_WITHDRAWN,
    archived_item,
    give_consent,
)
from tests.factories.production import ConceptFactory
from tests.factories.publishing import ChannelFactory, make_asset, second_editor

pytestmark = pytest.mark.django_db


def item_url(item: ArchiveItem) -> str:
    return reverse("publishing:archive_item", args=[item.pk])


def download_url(item: ArchiveItem, version: str = "original") -> str:
    return reverse("publishing:archive_download", args=[item.pk, version])


def streamed(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


# --- The item page ---


def test_the_item_page_shows_metadata_consent_credits_metrics_and_reuses(
    world: World, librarian_client: Client
) -> None:
    concept = ConceptFactory(county=world.county, name="Ukas boktips")
    item = archived_item(
        world,
        title="Boktips: Nordisk krim",
        caption="Fem krimbøker for påsken.",
        tags=["krim", "påske"],
        credit_line="Foto: Kari Nordmann",
        concept=concept,
        content_type=ContentType.LITERATURE,
        libraries=[world.library, world.other_library],
    )
    Post.objects.filter(pk=item.post_id).update(insights={"reach": 812, "likes": 40}, insights_read_at=timezone.now())
    html = librarian_client.get(item_url(item)).content.decode()
    for text in (
        "Boktips: Nordisk krim",
        "Literature",
        "Ukas boktips",
        "Sandnes bibliotek, Sola bibliotek",
        "krim, påske",
        "Foto: Kari Nordmann",
        "Kari Nordmann",  # the person shown
        "Publishing and reuse from the archive",  # their consent's scope
        item.permalink,
        "812",
        "Not reused yet.",
        "Download the Instagram version",
    ):
        assert text in html, text
    # Librarians download the Instagram version; originals and reusing in a post are for editors.
    assert "Download the original" not in html
    assert "Reuse in a new post" not in html


# --- Downloads ---


def test_the_original_and_the_instagram_version_download_with_their_names(
    world: World, editor_client: Client, librarian_client: Client
) -> None:
    item = archived_item(world, title="Lesekrok")
    response = editor_client.get(download_url(item))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="lesekrok-{item.pk}.jpg"'
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == item.asset.original.open("rb").read()  # type: ignore[attr-defined]
    response = librarian_client.get(download_url(item, "instagram"))
    assert response["Content-Disposition"] == f'attachment; filename="lesekrok-{item.pk}-instagram.jpg"'
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-store"
    downloads = AuditEntry.objects.filter(action="archive.downloaded", object_id=str(item.pk)).order_by("pk")
    assert [(entry.actor, entry.data["version"]) for entry in downloads] == [
        (world.editor, "original"),
        (world.librarian, "instagram"),
    ]


def test_librarian_cannot_download_original_from_the_archive(world: World, librarian_client: Client) -> None:
    item = archived_item(world, title="Lesekrok")
    assert librarian_client.get(download_url(item)).status_code == 403
    response = librarian_client.get(reverse("publishing:archive_zip"), {"item": [item.pk], "version": "original"})
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="archive.downloaded").exists()
    # The selection offers them the Instagram versions only.
    selection = librarian_client.get(reverse("publishing:archive_selection"), {"item": [item.pk]})
    assert list(selection.context["versions"]) == ["instagram"]


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (CONSENT_WITHDRAWN, "someone shown has withdrawn their consent"),
        (CONSENT_EXPIRED, "the consent of someone shown has expired"),
        (CONSENT_MISSING, "someone shown has no consent on record"),
        (CONSENT_NO_REUSE, "the consent of someone shown does not cover reuse from the archive"),
    ],
)
def test_a_consent_blocked_item_is_refused_for_download_with_the_reason_and_audited(
    world: World, librarian_client: Client, state: str, reason: str
) -> None:
    item = archived_item(world, title="Sommerfest", consent=state)
    response = librarian_client.get(download_url(item, "instagram"), follow=True)
    assert response.redirect_chain == [(item_url(item), 302)]
    html = response.content.decode()
    assert f"“Sommerfest” cannot be downloaded or reused: {reason}." in html
    assert "Blocked: this item cannot be downloaded or reused." in html
    assert "Download the Instagram version" not in html
    refusal = AuditEntry.objects.get(action="archive.download_refused")
    assert (refusal.actor, refusal.object_id) == (world.librarian, str(item.pk))


def test_a_consent_withdrawn_after_the_last_refresh_still_blocks(world: World, librarian_client: Client) -> None:
    item = archived_item(world, title="Sommerfest")
    # The consent changes behind the archive's back (no refresh): the live consent still decides.
    Consent.objects.filter(person__tags__asset=item.asset).update(withdrawn_at=timezone.now())
    assert ArchiveItem.objects.get(pk=item.pk).is_reusable()
    response = librarian_client.get(download_url(item, "instagram"))
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="archive.download_refused").count() == 1


def test_another_countys_item_is_not_found_for_download_or_reuse(world: World, outsider_client: Client) -> None:
    item = archived_item(world, title="Sommerles")
    assert outsider_client.get(download_url(item)).status_code == 404
    assert outsider_client.post(reverse("publishing:archive_reuse"), {"item": item.pk}).status_code == 404
    response = outsider_client.get(reverse("publishing:archive_zip"), {"item": item.pk})
    assert response.status_code == 404


def test_a_zip_holds_the_chosen_files_and_their_credits_and_consent(world: World, editor_client: Client) -> None:
    photo = archived_item(world, title="Lesekrok", credit_line="Foto: Ola Nordmann")
    video = archived_item(world, title="Pappatreff", kind=Asset.Kind.VIDEO, credit_line="Film: Sandnes bibliotek")
    response = editor_client.get(
        reverse("publishing:archive_zip"), {"item": [photo.pk, video.pk], "version": "original"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="innspill-archive-')
    with zipfile.ZipFile(io.BytesIO(streamed(response))) as zipped:
        assert zipped.testzip() is None
        names = zipped.namelist()
        assert names == [f"lesekrok-{photo.pk}.jpg", f"pappatreff-{video.pk}.mp4", "credits-and-consent.txt"]
        assert zipped.read(names[0]) == photo.asset.original.open("rb").read()
        assert zipped.read(names[1]) == video.asset.original.open("rb").read()
        credits = zipped.read("credits-and-consent.txt").decode()
    assert "Foto: Ola Nordmann" in credits
    assert "Film: Sandnes bibliotek" in credits
    assert "Kari Nordmann: Publishing and reuse from the archive" in credits
    assert f"lesekrok-{photo.pk}.jpg" in credits


def test_the_selection_page_shows_credits_and_consent_and_leaves_blocked_items_out(
    world: World, librarian_client: Client
) -> None:
    fine = archived_item(world, title="Lesekrok", credit_line="Foto: Ola Nordmann")
    blocked = archived_item(world, title="Sommerfest", consent=CONSENT_WITHDRAWN)
    response = librarian_client.get(reverse("publishing:archive_selection"), {"item": [fine.pk, blocked.pk]})
    html = response.content.decode()
    assert "Foto: Ola Nordmann" in html
    assert "Blocked, left out:" in html
    assert response.context["allowed"] == [fine]
    assert "Download 1 item as a zip" in html


def test_a_zip_with_a_blocked_item_is_refused_and_sends_nothing(world: World, librarian_client: Client) -> None:
    fine = archived_item(world, title="Lesekrok")
    blocked = archived_item(world, title="Sommerfest", consent=CONSENT_EXPIRED)
    response = librarian_client.get(reverse("publishing:archive_zip"), {"item": [fine.pk, blocked.pk]}, follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("publishing:archive_selection"))
    assert "“Sommerfest” cannot be downloaded or reused: the consent of someone shown has expired." in (
        response.content.decode()
    )
    assert AuditEntry.objects.filter(action="archive.download_refused", object_id=str(blocked.pk)).exists()
    assert not AuditEntry.objects.filter(action="archive.downloaded").exists()


def test_a_zip_streams_a_large_file_in_small_chunks_with_flat_memory(world: World, tmp_path: Path) -> None:
    item = archived_item(world, title="Lang film", kind=Asset.Kind.VIDEO)
    big = bytes(range(256)) * (48 * 1024 * 4)  # 48 MiB that does not compress
    item.asset.original.save("long.mp4", ContentFile(big), save=True)
    entries = [archive_downloads.ZipEntry(name="long.mp4", field_file=item.asset.original)]
    largest = 0
    with (tmp_path / "out.zip").open("wb") as out:
        tracemalloc.start()
        for chunk in archive_downloads.zip_stream(entries):
            largest = max(largest, len(chunk))
            out.write(chunk)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert largest <= archive_downloads.CHUNK_BYTES + 1024
    # A few chunks in memory at most, never the file: 48 MiB streamed with under 8 MiB at the peak.
    assert peak < 8 * 1024 * 1024
    with zipfile.ZipFile(tmp_path / "out.zip") as result:
        assert result.read("long.mp4") == big


def test_a_zip_works_with_a_storage_that_has_no_local_paths(world: World, settings: object) -> None:
    from django.core.files.storage import InMemoryStorage

    item = archived_item(world, title="Lesekrok")
    storage = InMemoryStorage()
    name = storage.save("assets/photo.jpg", ContentFile(b"jpeg bytes"))
    field_file = item.asset.original
    field_file.storage, field_file.name = storage, name
    data = b"".join(archive_downloads.zip_stream([archive_downloads.ZipEntry(name="photo.jpg", field_file=field_file)]))
    with zipfile.ZipFile(io.BytesIO(data)) as result:
        assert result.read("photo.jpg") == b"jpeg bytes"


# --- Reuse in a new post ---


def test_reusing_an_item_makes_a_draft_records_the_reuse_and_opens_the_editor(
    world: World, editor_client: Client
) -> None:
    concept = ConceptFactory(county=world.county, name="Ukas boktips", content_type=ContentType.LITERATURE)
    world.library.instagram_username = "sandnesbibliotek"
    world.library.save(update_fields=["instagram_username"])
    item = archived_item(
        world,
        title="Nordisk krim",
        caption="Fem krimbøker for påsken. #krim",
        credit_line="Foto: Kari Nordmann",
        concept=concept,
        content_type=ContentType.LITERATURE,
        libraries=[world.library],
    )
    response = editor_client.post(reverse("publishing:archive_reuse"), {"item": item.pk})
    post = Post.objects.exclude(pk=item.post_id).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("publishing:post_edit", args=[post.pk])
    assert (post.status, post.media_kind, post.title) == (
        Post.Status.DRAFT,
        Post.MediaKind.IMAGE,
        "Reuse: Nordisk krim",
    )
    assert post.ordered_assets() == [item.asset]
    # The photographer's credit is a photo credit: it stays on the asset, not in the inspiration credit.
    assert (post.concept, post.content_type, post.credit) == (concept, ContentType.LITERATURE, "")
    assert item.asset.credit_line == "Foto: Kari Nordmann"
    assert post.caption == "Fem krimbøker for påsken. #krim"
    assert post.collaborator_libraries() == [world.library]
    assert (post.created_by, post.responsible) == (world.editor, world.editor)
    [reuse] = ArchiveReuse.objects.all()
    assert (reuse.item, reuse.post, reuse.via, reuse.by) == (item, post, ArchiveReuse.Via.REUSE, world.editor)
    item.refresh_from_db()
    assert item.reuse_count == 1
    assert item.last_reused_at == reuse.at
    assert AuditEntry.objects.filter(action="archive.reused", object_id=str(item.pk)).exists()
    # The item page says where it was reused, and so does the draft's page.
    assert "Reuse: Nordisk krim" in editor_client.get(item_url(item)).content.decode()
    post_page = editor_client.get(post.get_absolute_url()).content.decode()
    assert "Reused from the archive" in post_page
    assert item_url(item) in post_page


def test_reuse_carries_the_original_inspiration_credit_and_keeps_the_photo_credit_apart(
    world: World, editor_client: Client
) -> None:
    item = archived_item(world, title="Nordisk krim", credit_line="Foto: Kari Nordmann")
    assert item.post is not None
    Post.objects.filter(pk=item.post.pk).update(credit="Idé: @bokhylla")
    editor_client.post(reverse("publishing:archive_reuse"), {"item": item.pk})
    post = Post.objects.get(status=Post.Status.DRAFT)
    assert post.credit == "Idé: @bokhylla"
    assert "Kari Nordmann" not in post.full_caption
    [asset] = post.ordered_assets()
    assert asset.credit_line == "Foto: Kari Nordmann"


def test_reusing_several_items_makes_a_carousel_draft_in_their_order(world: World, editor_client: Client) -> None:
    items = [archived_item(world, title=f"Bilde {n}") for n in range(3)]
    editor_client.post(reverse("publishing:archive_reuse"), {"item": [items[2].pk, items[0].pk, items[1].pk]})
    post = Post.objects.get(status=Post.Status.DRAFT)
    assert post.media_kind == Post.MediaKind.CAROUSEL
    assert post.title == "Reuse: Bilde 2 and 2 more"
    assert post.ordered_assets() == [items[2].asset, items[0].asset, items[1].asset]
    assert sorted(ArchiveItem.objects.values_list("reuse_count", flat=True)) == [1, 1, 1]


def test_more_than_ten_items_do_not_make_a_carousel(world: World, editor_client: Client) -> None:
    items = [archived_item(world, title=f"Bilde {n}") for n in range(11)]
    response = editor_client.post(
        reverse("publishing:archive_reuse"), {"item": [item.pk for item in items]}, follow=True
    )
    assert "Choose one item for a post, or 2 to 10 for a carousel." in response.content.decode()
    assert not Post.objects.filter(status=Post.Status.DRAFT).exists()


def test_a_video_is_reused_as_a_reel(world: World, editor_client: Client) -> None:
    item = archived_item(world, title="Pappatreff", kind=Asset.Kind.VIDEO)
    editor_client.post(reverse("publishing:archive_reuse"), {"item": item.pk})
    assert Post.objects.get(status=Post.Status.DRAFT).media_kind == Post.MediaKind.REEL


@pytest.mark.parametrize("state", [CONSENT_WITHDRAWN, CONSENT_EXPIRED, CONSENT_MISSING, CONSENT_NO_REUSE])
def test_a_consent_blocked_item_is_refused_for_reuse_and_audited(
    world: World, editor_client: Client, state: str
) -> None:
    item = archived_item(world, title="Sommerfest", consent=state)
    response = editor_client.post(reverse("publishing:archive_reuse"), {"item": item.pk}, follow=True)
    assert response.status_code == 200
    assert "“Sommerfest” cannot be downloaded or reused:" in response.content.decode()
    assert not Post.objects.filter(status=Post.Status.DRAFT).exists()
    assert not ArchiveReuse.objects.exists()
    assert AuditEntry.objects.filter(action="archive.reuse_refused", actor=world.editor).count() == 1


def test_librarians_download_but_do_not_reuse_into_posts(world: World, librarian_client: Client) -> None:
    item = archived_item(world, title="Sommerles")
    assert librarian_client.post(reverse("publishing:archive_reuse"), {"item": item.pk}).status_code == 403
    assert not Post.objects.filter(status=Post.Status.DRAFT).exists()


def test_the_gates_apply_again_when_the_reused_draft_is_scheduled(world: World) -> None:
    """Consent covering reuse from the archive, but not publishing: the draft is made, scheduling is refused."""
    ChannelFactory(county=world.county)
    item = archived_item(world, title="Lesekrok", consent=None)
    person = give_consent(item.asset, "ok")
    Consent.objects.filter(person=person.person).update(covers_publishing=False)
    archive.refresh_for_assets([item.asset_id])
    item.refresh_from_db()
    post = archive.reuse_in_new_post(by=world.editor, items=[item])
    post.scheduled_at = timezone.now() + timedelta(days=2)
    post.save(update_fields=["scheduled_at"])
    services.submit_post(by=world.editor, post=post)
    services.approve_post(by=second_editor(world.county_library), post=post)
    with pytest.raises(ValidationError) as refused:
        services.schedule_post(by=world.editor, post=post)
    assert any("consent" in message.lower() for message in refused.value.messages)


# --- Archiving an asset that was never published ---


def test_an_editor_keeps_an_unpublished_asset_in_the_archive_from_its_page(
    world: World, editor_client: Client, librarian_client: Client
) -> None:
    asset = make_asset(county=world.county, library=world.library, title="Godt bilde fra opptaksdagen")
    page = editor_client.get(asset.get_absolute_url()).content.decode()
    assert "Keep in the archive" in page
    assert "Keep in the archive" not in librarian_client.get(asset.get_absolute_url()).content.decode()
    assert librarian_client.post(reverse("publishing:archive_asset", args=[asset.pk])).status_code == 403
    response = editor_client.post(reverse("publishing:archive_asset", args=[asset.pk]))
    item = ArchiveItem.objects.get(asset=asset)
    assert response["Location"] == item_url(item)
    assert (item.source, item.archived_by, item.post) == (ArchiveItem.Source.ARCHIVED, world.editor, None)
    assert "In the archive" in editor_client.get(asset.get_absolute_url()).content.decode()
    # Librarians find it in the search (nobody is shown in it, so it is reusable).
    response = librarian_client.get(reverse("publishing:archive"), {"q": "opptaksdagen"})
    assert [str(found) for found, _ in response.context["cards"]] == ["Godt bilde fra opptaksdagen"]


def test_an_asset_still_processing_is_not_archived(world: World, editor_client: Client) -> None:
    asset = make_asset(county=world.county, library=world.library, status=Asset.Status.PROCESSING)
    response = editor_client.post(reverse("publishing:archive_asset", args=[asset.pk]), follow=True)
    assert "Only a file whose Instagram version is ready can be archived." in response.content.decode()
    assert not ArchiveItem.objects.exists()


# --- Concepts' re-posts from the archive ---


@pytest.fixture
def dads_meetup(world: World) -> Concept:
    """The design's example, "dads' meetup, last Tuesday of the month", re-posting from the archive."""
    return ConceptFactory(
        county=world.county,
        name="Pappatreff",
        content_type=ContentType.OFFERS,
        cadence_rule="FREQ=MONTHLY;BYDAY=-1TU",
        time_of_day=time(18, 0),
        owner=world.editor,
        reposts_from_archive=True,
    )


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def test_the_daily_task_drafts_one_repost_per_open_slot_even_when_run_twice(
    world: World,
    dads_meetup: Concept,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    older = archived_item(
        world, title="Pappatreff i mars", concept=dads_meetup, published_at=_at(date(2025, 3, 25), 18)
    )
    newer = archived_item(world, title="Pappatreff i mai", concept=dads_meetup, published_at=_at(date(2025, 5, 27), 18))
    ArchiveReuse.objects.create(item=older, post=older.post, via=ArchiveReuse.Via.REUSE, at=timezone.now())
    archive.refresh_items([older.pk])
    # A week before the last Tuesday of March 2026 (the 31st): that slot has no post yet.
    now = _at(date(2026, 3, 24), 7)
    with django_capture_on_commit_callbacks(execute=True):
        made = archive.draft_concept_reposts(now=now)
    assert [(repost.at, repost.item) for repost in made] == [(_at(date(2026, 3, 31), 18), newer)]
    assert archive.draft_concept_reposts(now=now) == []
    post = made[0].post
    assert (post.status, post.concept, post.responsible, post.scheduled_at) == (
        Post.Status.DRAFT,
        dads_meetup,
        world.editor,
        _at(date(2026, 3, 31), 18),
    )
    assert post.title == "Pappatreff: re-post of “Pappatreff i mai”"
    assert ConceptRepost.objects.get().post == post
    assert ArchiveReuse.objects.get(post=post).via == ArchiveReuse.Via.CONCEPT
    [message] = [message for message in mail.outbox if "Pappatreff" in message.subject]
    assert message.to == [world.editor.email]
    assert post.get_absolute_url() in message.body


def test_the_celery_task_twice_makes_one_draft_per_slot(world: World) -> None:
    weekly = ConceptFactory(
        county=world.county, name="Ukas boktips", cadence_rule="FREQ=WEEKLY;BYDAY=TU", time_of_day=time(12, 0),
        owner=world.editor, reposts_from_archive=True,
    )  # fmt: skip
    archived_item(world, title="Boktips 1", concept=weekly)
    archived_item(world, title="Boktips 2", concept=weekly)
    # Every Tuesday from now to the lead time (one or two) gets a draft, once.
    first = draft_concept_reposts.apply().get()
    second = draft_concept_reposts.apply().get()
    assert 1 <= len(first) <= 2
    assert second == []
    assert sorted(first) == sorted(ConceptRepost.objects.values_list("post_id", flat=True))
    assert Post.objects.filter(status=Post.Status.DRAFT).count() == len(first)
    # Two slots take two different items: the one reused least recently comes first.
    assert len(set(ConceptRepost.objects.values_list("item_id", flat=True))) == len(first)


def test_a_slot_that_has_a_post_or_no_reusable_material_gets_no_repost(world: World, dads_meetup: Concept) -> None:
    now = _at(date(2026, 3, 24), 7)
    blocked = archived_item(world, title="Pappatreff med Per", concept=dads_meetup, consent=CONSENT_WITHDRAWN)
    assert archive.draft_concept_reposts(now=now) == []
    # Nothing reusable: the slot is not claimed, so material archived later can still fill it.
    assert not ConceptRepost.objects.exists()
    assert blocked.reuse_count == 0
    archived_item(world, title="Pappatreff uten folk", concept=dads_meetup, consent=None)
    Post.objects.create(
        county=world.county, title="Planlagt", concept=dads_meetup, scheduled_at=_at(date(2026, 3, 31), 18)
    )
    assert archive.draft_concept_reposts(now=now) == []


def test_a_cancelled_repost_is_not_drafted_again(world: World, dads_meetup: Concept) -> None:
    archived_item(world, title="Pappatreff", concept=dads_meetup)
    now = _at(date(2026, 3, 24), 7)
    [repost] = archive.draft_concept_reposts(now=now)
    services.cancel_post(by=world.editor, post=repost.post)
    assert archive.draft_concept_reposts(now=now) == []


def test_the_concept_form_offers_reposts_and_needs_an_owner_and_a_cadence(
    world: World, coordinator_client: Client
) -> None:
    url = reverse("production:concept_create")
    assert "draft re-posts from the archive" in coordinator_client.get(url).content.decode().lower()
    response = coordinator_client.post(
        url,
        {"name": "Pappatreff", "content_type": ContentType.OFFERS, "cadence_kind": "adhoc", "starts_on": "2026-01-01",
         "time_of_day": "18:00", "is_active": "on", "reposts_from_archive": "on"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Re-posts follow the cadence: choose weekly or monthly." in response.content.decode()
    response = coordinator_client.post(
        url,
        {"name": "Pappatreff", "content_type": ContentType.OFFERS, "cadence_kind": "monthly", "weekday": "TU",
         "ordinal": "-1", "starts_on": "2026-01-01", "time_of_day": "18:00", "owner": world.editor.pk,
         "holiday_rule": "publish", "is_active": "on", "reposts_from_archive": "on"},
    )  # fmt: skip
    concept = Concept.objects.get(name="Pappatreff")
    assert response.status_code == 302
    assert (concept.reposts_from_archive, concept.cadence_rule) == (True, "FREQ=MONTHLY;BYDAY=-1TU")
