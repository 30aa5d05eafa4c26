"""Assets: renditions made by the worker, the media pages, crops, subtitles, and access to them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from libraries.models import AuditEntry
from production import tasks
from production.models import Asset, AssetPerson, Consent, Idea
from production.processing.inspection import inspect_upload
from production.services import media as asset_services
from tests.conftest import World
from tests.factories.media import (
    has_exif_or_gps,
    heic_bytes,
    jpeg_bytes,
    jpeg_scan,
    make_asset,
    png_bytes,
    truncated_jpeg,
    video_bytes,
)
from tests.factories.production import IdeaFactory, RecordingDayFactory
from tests.factories.publishing import show_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(world: World) -> Idea:
    return IdeaFactory(library=world.library, status=Idea.Status.RECORDED, title="Lesesirkelen")


def stored_files(asset: Asset) -> list[str]:
    folder = Path(settings.MEDIA_ROOT) / "assets" / str(asset.county_id) / str(asset.uid)
    return sorted(path.name for path in folder.iterdir())


def read(field) -> bytes:  # type: ignore[no-untyped-def]
    with field.open("rb") as handle:
        return handle.read()


def picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- Renditions ---


def test_photo_rendition_fits_instagram_and_carries_no_exif_or_gps(world: World, idea: Idea) -> None:
    data = jpeg_bytes((1600, 1200), gps=True)
    assert has_exif_or_gps(data)
    asset = make_asset(idea, by=world.editor, data=data, processed=False)
    assert asset.status == Asset.Status.PROCESSING

    assert tasks.process_asset(asset.pk) == "ready"  # the task function, run here

    asset.refresh_from_db()
    rendition = picture(read(asset.rendition))
    assert (rendition.format, rendition.size, rendition.mode) == ("JPEG", (1440, 1080), "RGB")
    assert not has_exif_or_gps(read(asset.rendition))
    thumbnail = picture(read(asset.thumbnail))
    assert thumbnail.format == "WEBP"
    assert max(thumbnail.size) == 480
    assert not has_exif_or_gps(read(asset.thumbnail))
    assert jpeg_scan(read(asset.original)) == jpeg_scan(data)  # the picture in the original stays untouched
    assert asset.instagram_check["verdict"] == "ok"
    assert asset.renditions["rendition"]["width"] == 1440
    assert asset.renditions["crop"] == asset.crop_key


def test_processing_twice_gives_the_same_result_without_copies(world: World, idea: Idea) -> None:
    asset = make_asset(idea, by=world.editor, processed=False)
    tasks.process_asset(asset.pk)
    asset.refresh_from_db()
    first = (stored_files(asset), read(asset.rendition), asset.renditions, asset.updated_at)

    assert tasks.process_asset(asset.pk) == "ready"  # redelivered: nothing to do
    asset.refresh_from_db()
    assert (stored_files(asset), read(asset.rendition), asset.renditions, asset.updated_at) == first

    # Even made again from scratch, the files keep their names instead of piling up.
    Asset.objects.filter(pk=asset.pk).update(status=Asset.Status.PROCESSING, renditions={})
    tasks.process_asset(asset.pk)
    asset.refresh_from_db()
    assert stored_files(asset) == first[0] == ["original.jpg", "rendition.jpg", "thumbnail.webp"]
    assert asset.status == Asset.Status.READY


def test_a_delivery_that_stores_the_renditions_takes_its_crash_count_back_in_the_same_update(
    world: World, idea: Idea, django_assert_max_num_queries
) -> None:
    asset = make_asset(idea, by=world.editor, processed=False)

    # The claim (counting this delivery), the asset, then in a transaction (a savepoint here) the asset
    # locked and the update that stores the files, says ready and takes the count back; none after it.
    with django_assert_max_num_queries(6) as done:
        assert asset_services.process_asset(asset_id=asset.pk) is not None

    updates = [query["sql"] for query in done.captured_queries if query["sql"].startswith("UPDATE")]
    assert len(updates) == 2
    assert '"processing_crashes" = 0' not in updates[0]
    assert '"processing_crashes" = 0' in updates[1]
    asset.refresh_from_db()
    assert (asset.status, asset.processing_crashes) == (Asset.Status.READY, 0)


def test_changing_the_crop_makes_the_rendition_again(
    world: World, idea: Idea, django_capture_on_commit_callbacks, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    asset = make_asset(idea, by=world.editor, data=jpeg_bytes((1600, 1200)))  # red left half, blue right half
    thumbnail_before = read(asset.thumbnail)
    with django_capture_on_commit_callbacks(execute=True):
        asset_services.change_crop(by=world.editor, asset=asset, aspect="1:1", focus_x=0.0, focus_y=0.5)
    asset.refresh_from_db()
    assert asset.status == Asset.Status.READY
    rendition = picture(read(asset.rendition)).convert("RGB")
    assert rendition.size == (1200, 1200)
    red, _green, blue = rendition.getpixel((300, 600))  # type: ignore[misc]
    assert red > 150 > blue  # the left edge was kept
    assert asset.instagram_check["verdict"] == "will_be_cropped"
    assert read(asset.thumbnail) == thumbnail_before  # the crop does not touch the thumbnail
    assert AuditEntry.objects.filter(action="asset.crop_changed", object_id=str(asset.pk)).exists()


@pytest.mark.parametrize(
    ("data", "name", "size"),
    [(heic_bytes((1200, 900)), "IMG_0001.HEIC", (1200, 900)), (png_bytes((900, 900)), "logo.png", (900, 900))],
    ids=["heic", "png-with-transparency"],
)
def test_phone_and_png_photos_get_a_jpeg_rendition(
    world: World, idea: Idea, data: bytes, name: str, size: tuple[int, int]
) -> None:
    asset = make_asset(idea, by=world.editor, data=data, name=name)
    assert asset.status == Asset.Status.READY
    rendition = picture(read(asset.rendition))
    assert rendition.format == "JPEG"
    assert rendition.size == size
    assert asset.original.name.endswith(".heic" if name.endswith("HEIC") else ".png")


def test_video_gets_a_poster_frame_a_thumbnail_and_a_reel_check(world: World, idea: Idea, tmp_path: Path) -> None:
    asset = make_asset(idea, by=world.editor, data=video_bytes(tmp_path, seconds=3.5), name="klipp.mp4")
    assert asset.status == Asset.Status.READY
    poster = picture(read(asset.poster))
    assert (poster.format, poster.size) == ("JPEG", (320, 568))
    assert picture(read(asset.thumbnail)).size == (270, 480)
    # The file to publish is the reel rendition the worker made (tests/production/test_reel_renditions.py).
    assert asset.rendition.name.endswith("/rendition.mp4")
    assert asset.instagram_check["verdict"] == "ok"
    assert asset.instagram_check["carousel"]["verdict"] == "rejected"  # 9:16 is too tall for a carousel
    assert stored_files(asset) == ["original.mp4", "poster.jpg", "rendition.mp4", "thumbnail.webp"]


def test_a_file_the_worker_cannot_read_fails_with_a_reason_and_can_be_retried(
    world: World, idea: Idea, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    good = ContentFile(jpeg_bytes((800, 600)), name="ok.jpg")
    # A file damaged in storage after it was checked.
    asset = asset_services.add_asset(
        by=world.editor,
        target=idea,
        source=ContentFile(truncated_jpeg(), name="ok.jpg"),
        original_name="ok.jpg",
        info=inspect_upload(good),
        enqueue=False,
    )
    assert tasks.process_asset(asset.pk) == "failed"
    asset.refresh_from_db()
    assert "damaged or incomplete" in asset.processing_error
    with django_capture_on_commit_callbacks() as queued:
        asset_services.retry_processing(by=world.editor, asset=asset)
    assert len(queued) == 1
    asset.refresh_from_db()
    assert (asset.status, asset.processing_error) == (Asset.Status.PROCESSING, "")


def test_a_new_upload_is_processed_after_commit_only(
    world: World, idea: Idea, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks() as queued:
        make_asset(idea, by=world.editor, processed=False)
    assert queued == []  # enqueue=False: the demo and these tests process at once
    upload = ContentFile(jpeg_bytes((640, 480)), name="a.jpg")
    with django_capture_on_commit_callbacks() as queued:
        asset_services.add_asset(
            by=world.editor, target=idea, source=upload, original_name="a.jpg", info=inspect_upload(upload)
        )
    assert len(queued) == 1


# --- Pages ---


def test_idea_page_lists_its_media_with_status_instagram_verdict_and_consent(
    world: World, idea: Idea, librarian_client: Client, tmp_path: Path
) -> None:
    photo = make_asset(idea, by=world.librarian, name="skranken.jpg")
    video = make_asset(idea, by=world.librarian, data=video_bytes(tmp_path), name="film.mp4", processed=False)
    show_person(photo, name="Kari", category=AssetPerson.Category.STAFF, consent=False)
    page = librarian_client.get(reverse("production:idea_detail", args=[idea.pk])).text
    assert "skranken.jpg" in page
    assert "film.mp4" in page
    assert photo.thumbnail_url.replace("&", "&amp;") in page
    assert "Fine for Instagram" in page
    assert "Consent missing" in page
    assert "Alt text missing" in page
    assert "Subtitles missing" in page
    # Only the card still processing asks for itself again every two seconds.
    assert page.count('hx-trigger="every 2s"') == 1
    assert f'hx-get="{reverse("production:asset_card", args=[video.pk])}"' in page
    assert 'data-endpoint="' + reverse("production:idea_upload_create", args=[idea.pk]) in page


def test_a_card_stops_polling_and_announces_when_ready(world: World, idea: Idea, editor_client: Client) -> None:
    asset = make_asset(idea, by=world.editor, processed=False)
    url = reverse("production:asset_card", args=[asset.pk])
    processing = editor_client.get(url, headers={"HX-Request": "true"}).text
    assert 'hx-trigger="every 2s"' in processing
    assert "hx-swap-oob" not in processing
    asset_services.process_asset(asset_id=asset.pk)
    ready = editor_client.get(url, headers={"HX-Request": "true"}).text
    assert "hx-trigger" not in ready
    assert 'hx-swap-oob="innerHTML:#asset-announcer"' in ready
    assert "is ready" in ready


def test_a_photo_being_made_is_asked_about_by_one_loop_on_its_page(
    world: World, idea: Idea, editor_client: Client
) -> None:
    asset = make_asset(idea, by=world.editor, processed=False)
    page = editor_client.get(asset.get_absolute_url()).text
    assert page.count('hx-trigger="every') == 1
    assert f'hx-get="{reverse("production:asset_status", args=[asset.pk])}" hx-trigger="every 2s"' in page


def test_an_upload_row_follows_its_file_until_it_is_ready_then_stops_asking(
    world: World, idea: Idea, librarian_client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    asset = make_asset(idea, by=world.librarian, processed=False)
    url = reverse("production:asset_upload_state", args=[asset.pk])
    # The session and its user, the memberships (the county access), the asset.
    with django_assert_max_num_queries(4):
        processing = librarian_client.get(url, headers={"HX-Request": "true"})
    assert "Making the Instagram version" in processing.text
    assert f'hx-get="{url}" hx-trigger="every 3s" hx-swap="outerHTML"' in processing.text
    assert 'data-asset-state="processing"' in processing.text
    assert "HX-Trigger" not in processing.headers

    asset_services.process_asset(asset_id=asset.pk)
    ready = librarian_client.get(url, headers={"HX-Request": "true"})
    assert "The Instagram version is ready." in ready.text
    assert 'data-asset-state="ready"' in ready.text
    assert "hx-trigger" not in ready.text
    # The compose form's list of media to choose from is redrawn with the file ready.
    assert ready.headers["HX-Trigger"] == "asset-processed"


def test_an_upload_row_says_why_its_file_could_not_be_made(world: World, idea: Idea, editor_client: Client) -> None:
    asset = make_asset(idea, by=world.editor, processed=False)
    Asset.objects.filter(pk=asset.pk).update(
        status=Asset.Status.FAILED, processing_error="The video has no picture track."
    )
    failed = editor_client.get(reverse("production:asset_upload_state", args=[asset.pk])).text
    assert 'data-asset-state="failed"' in failed
    assert "could not be made: The video has no picture track." in failed
    assert "hx-trigger" not in failed


def test_an_upload_rows_state_keeps_the_assets_gate(
    world: World, idea: Idea, outsider_client: Client, client: Client
) -> None:
    asset = make_asset(idea, by=world.librarian, processed=False)
    url = reverse("production:asset_upload_state", args=[asset.pk])
    assert outsider_client.get(url, headers={"HX-Request": "true"}).status_code == 404
    anonymous = client.get(url, headers={"HX-Request": "true"})
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("account_login"))


def test_the_media_list_partial_refreshes_after_an_upload(world: World, idea: Idea, librarian_client: Client) -> None:
    make_asset(idea, by=world.editor, name="ny.jpg")
    url = reverse("production:idea_assets", args=[idea.pk])
    partial = librarian_client.get(url, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "ny.jpg" in partial.text
    assert "<html" not in partial.text
    assert librarian_client.get(url).status_code == 302


def test_idea_page_query_count_does_not_grow_with_media(
    world: World, idea: Idea, librarian_client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    first = make_asset(idea, by=world.editor)
    person = show_person(first, name="Kari", category=AssetPerson.Category.STAFF, consent=False)
    Consent.objects.create(person=person.person, given_at=person.created_at.date(), evidence_note="Muntlig")
    url = reverse("production:idea_detail", args=[idea.pk])
    # user, memberships (county access), the idea, its slot, the media (assets with their
    # library, their people, the people's consents), the libraries involved, attachments, comments,
    # the posts made from it that are published, its place in the network of counties
    with django_assert_max_num_queries(12) as few:
        librarian_client.get(url)
    for number in range(8):
        asset = make_asset(idea, by=world.editor, processed=number % 2 == 0)
        person = show_person(asset, name=f"Person {number}", category=AssetPerson.Category.PATRON, consent=False)
        Consent.objects.create(person=person.person, given_at=person.created_at.date(), evidence_note="Muntlig")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = librarian_client.get(url)
    assert len(response.context["assets"]) == 9


def test_recording_day_page_lists_its_media_with_a_constant_number_of_queries(
    world: World, editor_client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    day = RecordingDayFactory(county=world.county, host_library=world.library)
    make_asset(day, by=world.editor)
    url = reverse("production:recording_day_detail", args=[day.pk])
    # user, memberships, MFA, the day, the day with its run sheet, sign-ups, the sign-up check,
    # the media (assets with their library, their people), responsible people, participating
    # libraries, and the slot form's presenters
    with django_assert_max_num_queries(13) as few:
        editor_client.get(url)
    for _number in range(6):
        make_asset(day, by=world.editor)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = editor_client.get(url)
    assert len(response.context["assets"]) == 7
    assert response.context["can_upload"] is True


def test_asset_page_query_count_does_not_grow_with_people(
    world: World, idea: Idea, editor_client: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    asset = make_asset(idea, by=world.editor)
    person = show_person(asset, name="Kari", category=AssetPerson.Category.STAFF, consent=False)
    Consent.objects.create(person=person.person, given_at=person.created_at.date(), evidence_note="Muntlig")
    url = reverse("production:asset_detail", args=[asset.pk])
    # user, memberships, MFA, the asset (access), the asset again with its library, idea, day
    # and uploader, its people, their consents with who recorded them
    with django_assert_max_num_queries(7) as few:
        editor_client.get(url)
    for number in range(6):
        person = show_person(asset, name=f"P{number}", category=AssetPerson.Category.CHILD, consent=False)
        Consent.objects.create(
            person=person.person,
            given_at=person.created_at.date(),
            person_is_minor=True,
            given_by="Mor",
            recorded_by=world.editor,
            evidence_note="Skjema",
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = editor_client.get(url)
    assert len(response.context["people_rows"]) == 7


def test_asset_page_asks_for_alt_text_until_it_is_written(world: World, idea: Idea, librarian_client: Client) -> None:
    asset = make_asset(idea, by=world.librarian)
    url = reverse("production:asset_detail", args=[asset.pk])
    assert "Alt text is missing" in librarian_client.get(url).text
    response = librarian_client.post(
        url,
        {
            "title": "Lesesirkelen i biblioteket",
            "alt_text": "  Fem personer rundt et bord med bøker.  ",
            "credit_line": "Foto: Sandnes bibliotek",
            "tags_text": "lesesirkel, #Høst, lesesirkel",
        },
    )
    assert response.status_code == 302
    asset.refresh_from_db()
    assert asset.alt_text == "Fem personer rundt et bord med bøker."
    assert asset.tags == ["lesesirkel", "Høst"]
    assert asset.credit_line == "Foto: Sandnes bibliotek"
    assert "Alt text is missing" not in librarian_client.get(url).text
    assert AuditEntry.objects.filter(action="asset.changed", object_id=str(asset.pk)).exists()


def test_librarian_sees_but_cannot_change_another_librarys_media(world: World, editor_client: Client, client) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import client_for

    other_idea = IdeaFactory(library=world.other_library)
    asset = make_asset(other_idea, by=world.editor)
    librarian = client_for(world.librarian)
    url = reverse("production:asset_detail", args=[asset.pk])
    page = librarian.get(url)
    assert page.status_code == 200
    assert "Save the details" not in page.text
    assert librarian.post(url, {"title": "Nytt"}).status_code == 403
    assert (
        librarian.post(
            reverse("production:asset_crop", args=[asset.pk]), {"aspect": "1:1", "focus_x": 50, "focus_y": 50}
        ).status_code
        == 403
    )
    assert librarian.post(reverse("production:asset_delete", args=[asset.pk])).status_code == 403
    assert editor_client.post(url, {"title": "Nytt"}).status_code == 302


def test_another_countys_media_page_and_files_are_404(world: World, idea: Idea, outsider_client: Client) -> None:
    asset = make_asset(idea, by=world.editor)
    assert outsider_client.get(reverse("production:asset_detail", args=[asset.pk])).status_code == 404
    for which in ("original", "thumbnail", "rendition"):
        assert outsider_client.get(reverse("production:asset_file", args=[asset.pk, which])).status_code == 404
    assert outsider_client.get(reverse("production:idea_assets", args=[idea.pk])).status_code == 404


def test_crop_form_saves_the_shape_and_position(
    world: World, idea: Idea, editor_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    asset = make_asset(idea, by=world.editor)
    page = editor_client.get(reverse("production:asset_detail", args=[asset.pk])).text
    assert "data-crop-preview" in page
    assert 'type="range"' in page
    with django_capture_on_commit_callbacks() as queued:
        response = editor_client.post(
            reverse("production:asset_crop", args=[asset.pk]), {"aspect": "4:5", "focus_x": 20, "focus_y": 50}
        )
    assert response.status_code == 302
    asset.refresh_from_db()
    assert (asset.aspect, asset.crop_focus_x, asset.crop_focus_y, asset.status) == ("4:5", 0.2, 0.5, "processing")
    assert len(queued) == 1
    # The same crop again changes nothing and queues nothing.
    asset_services.process_asset(asset_id=asset.pk)
    with django_capture_on_commit_callbacks() as queued:
        editor_client.post(
            reverse("production:asset_crop", args=[asset.pk]), {"aspect": "4:5", "focus_x": 20, "focus_y": 50}
        )
    assert queued == []


SRT = (
    b"1\r\n00:00:00,500 --> 00:00:02,000\r\nVelkommen til <i>biblioteket</i>!\r\n\r\n"
    b"2\r\n00:00:02,100 --> 00:00:03,000\r\nHa det!\r\n"
)


def test_srt_subtitles_are_checked_and_kept_as_webvtt(
    world: World, idea: Idea, editor_client: Client, tmp_path: Path
) -> None:
    asset = make_asset(idea, by=world.editor, data=video_bytes(tmp_path), name="film.mp4")
    url = reverse("production:asset_subtitles", args=[asset.pk])
    response = editor_client.post(url, {"file": ContentFile(SRT, name="film.srt")})
    assert response.status_code == 302
    asset.refresh_from_db()
    vtt = read(asset.subtitles).decode()
    assert vtt.startswith("WEBVTT")
    assert "00:00:00.500 --> 00:00:02.000" in vtt
    assert asset.has_subtitles
    served = editor_client.get(asset.subtitles_url)
    assert served["Content-Type"] == "text/vtt; charset=utf-8"
    # Another file replaces it, under the same name.
    editor_client.post(url, {"file": ContentFile(b"WEBVTT\n\n00:00.000 --> 00:01.000\nHei\n", name="ny.vtt")})
    asset.refresh_from_db()
    assert read(asset.subtitles).decode().endswith("Hei\n")
    assert stored_files(asset) == ["original.mp4", "poster.jpg", "rendition.mp4", "subtitles.vtt", "thumbnail.webp"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Just some text\n", "This is not a subtitle file"),
        (b"1\n00:00:01,000 --> 00:00:40,000\nFor lenge\n", "but the video lasts"),
    ],
)
def test_bad_subtitles_are_refused_with_a_reason(
    world: World, idea: Idea, editor_client: Client, tmp_path: Path, content: bytes, message: str
) -> None:
    asset = make_asset(idea, by=world.editor, data=video_bytes(tmp_path), name="film.mp4")
    response = editor_client.post(
        reverse("production:asset_subtitles", args=[asset.pk]), {"file": ContentFile(content, name="x.srt")}
    )
    assert response.status_code == 400
    assert message in response.text
    asset.refresh_from_db()
    assert not asset.subtitles


def test_deleting_an_asset_removes_its_files_and_people(
    world: World, idea: Idea, editor_client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    asset = make_asset(idea, by=world.editor)
    show_person(asset, name="Kari", category=AssetPerson.Category.STAFF, consent=False)
    folder = Path(settings.MEDIA_ROOT) / asset.original.name
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(reverse("production:asset_delete", args=[asset.pk]))
    assert response.status_code == 302
    assert not Asset.objects.exists()
    assert not AssetPerson.objects.exists()
    assert not folder.exists()
    assert not list(folder.parent.iterdir())
    assert AuditEntry.objects.filter(action="asset.deleted").exists()
