"""The worker makes every video's Instagram version (production/services/media.py, the engine in transcode.py).

The rendition is read back with PyAV the way Meta would (tests/factories/media.py); the original stays as
uploaded; subtitles are burned in and a change of subtitles makes it again; a refusal says why and keeps
the upload; the file Instagram fetches from the signed address is the rendition.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from PIL import Image

from libraries.models import AuditEntry
from production import tasks
from production.models import Asset, Idea
from production.services import media as asset_services
from production.signed_urls import public_file, public_rendition_url
from publishing.models import Post
from tests.conftest import World
from tests.factories.clips import assert_meets_spec, h264_mp4, hevc_mov, require_media_tools
from tests.factories.media import make_asset
from tests.factories.production import IdeaFactory
from tests.factories.publishing import make_post

pytestmark = pytest.mark.django_db

VTT = b"WEBVTT\n\n00:00.200 --> 00:03.000\nVelkommen til biblioteket, bl\xc3\xa5b\xc3\xa6r og \xc3\xb8l!\n"


@dataclass(frozen=True)
class Videos:
    hevc_mov: bytes
    h264: bytes
    too_short: bytes


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Videos:
    require_media_tools()
    folder = tmp_path_factory.mktemp("reel-clips")
    return Videos(
        hevc_mov=hevc_mov(folder / "phone.mov").read_bytes(),
        h264=h264_mp4(folder / "clip.mp4").read_bytes(),
        too_short=h264_mp4(folder / "short.mp4", seconds=2).read_bytes(),
    )


@pytest.fixture
def idea(world: World) -> Idea:
    return IdeaFactory(library=world.library, status=Idea.Status.RECORDED, title="Lesesirkelen")


def read(field) -> bytes:  # type: ignore[no-untyped-def]
    with field.open("rb") as handle:
        return handle.read()


def queued_processing(callbacks: list) -> int:  # type: ignore[type-arg]
    return sum("_enqueue_processing" in callback.__qualname__ for callback in callbacks)


def local(field) -> Path:  # type: ignore[no-untyped-def]
    return Path(field.storage.path(field.name))


def test_a_phone_mov_gets_an_h264_mp4_rendition_and_the_original_is_kept(
    world: World, idea: Idea, videos: Videos
) -> None:
    asset = make_asset(idea, by=world.editor, data=videos.hevc_mov, name="IMG_0001.MOV", processed=False)
    stored = hashlib.sha256(read(asset.original)).hexdigest()
    assert tasks.process_asset(asset.pk) == "ready"
    asset.refresh_from_db()
    assert asset.processing_progress == 100
    assert asset.original.name.endswith("/original.mov")
    assert hashlib.sha256(read(asset.original)).hexdigest() == stored  # the archive's copy, as uploaded
    assert asset.rendition.name.endswith("/rendition.mp4")
    streams = assert_meets_spec(local(asset.rendition))
    assert (streams.width, streams.height) == (240, 426)
    assert streams.audio == ("aac", 48_000, 2)
    assert asset.renditions["reel"]["video_codec"] == "h264"
    assert asset.renditions["reel"]["captions"] == 0
    # Instagram fetches the rendition as an MP4, whatever was uploaded.
    assert public_file(asset).extension == "mp4"


def test_instagram_fetches_the_rendition_from_the_signed_address(world: World, idea: Idea, videos: Videos) -> None:
    asset = make_asset(idea, by=world.editor, data=videos.hevc_mov, name="IMG_0002.MOV")
    asset.no_people_confirmed_at = asset.created_at
    asset.save(update_fields=["no_people_confirmed_at"])
    url = public_rendition_url(asset)
    assert url.endswith(".mp4")
    response = Client().get("/" + url.split("/", 3)[3])
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert b"".join(response.streaming_content) == read(asset.rendition)


def test_subtitles_are_burned_in_and_a_change_makes_the_rendition_again(
    world: World, idea: Idea, videos: Videos, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    asset = make_asset(idea, by=world.editor, data=videos.h264, name="film.mp4")
    plain = read(asset.rendition)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        asset_services.set_subtitles(by=world.editor, asset=asset, data=VTT)
    assert queued_processing(queued) == 1  # the worker makes it again
    asset.refresh_from_db()
    assert asset.status == Asset.Status.PROCESSING
    assert tasks.process_asset(asset.pk) == "ready"
    asset.refresh_from_db()
    assert asset.renditions["reel"]["captions"] == 1
    captioned = read(asset.rendition)
    assert captioned != plain
    assert_meets_spec(local(asset.rendition))
    # The sidecar stays for the archive and downloads.
    assert read(asset.subtitles).startswith(b"WEBVTT")

    with django_capture_on_commit_callbacks(execute=False) as queued:
        asset_services.remove_subtitles(by=world.editor, asset=asset)
    assert queued_processing(queued) == 1
    assert tasks.process_asset(asset.pk) == "ready"
    asset.refresh_from_db()
    assert asset.renditions["reel"]["captions"] == 0


def test_a_rendition_made_for_old_subtitles_is_not_stored(world: World, idea: Idea, videos: Videos) -> None:
    asset = make_asset(idea, by=world.editor, data=videos.h264, name="film.mp4", processed=False)
    real = asset_services._make_renditions

    def change_subtitles_meanwhile(asset: Asset, workdir: Path):  # type: ignore[no-untyped-def]
        made = real(asset, workdir)
        asset_services.set_subtitles(by=world.editor, asset=asset, data=VTT)
        return made

    asset_services._make_renditions = change_subtitles_meanwhile  # type: ignore[assignment]
    try:
        asset_services.process_asset(asset_id=asset.pk)
    finally:
        asset_services._make_renditions = real  # type: ignore[assignment]
    asset.refresh_from_db()
    assert asset.status == Asset.Status.PROCESSING  # left to the run queued with the new subtitles
    assert not asset.rendition
    asset_services.process_asset(asset_id=asset.pk)
    asset.refresh_from_db()
    assert (asset.status, asset.renditions["reel"]["captions"]) == (Asset.Status.READY, 1)


def test_a_refused_video_says_why_in_the_uploaders_language_and_keeps_the_upload(
    world: World, idea: Idea, videos: Videos
) -> None:
    asset = make_asset(idea, by=world.editor, data=videos.too_short, name="kort.mp4", processed=False)
    stored = read(asset.original)
    assert tasks.process_asset(asset.pk, "nb") == "failed"
    asset.refresh_from_db()
    assert "en reel må vare minst 3 sekunder" in asset.processing_error
    assert read(asset.original) == stored
    assert not asset.rendition


def test_a_video_task_gets_time_by_its_duration_and_stays_under_the_broker_timeout() -> None:
    photo = asset_services.processing_time_limits(None)
    assert photo == (tasks.PROCESS_SOFT_TIME_LIMIT, tasks.PROCESS_TIME_LIMIT)
    ten_seconds, one_minute = asset_services.processing_time_limits(10), asset_services.processing_time_limits(60)
    assert photo[0] < ten_seconds[0] < one_minute[0]
    assert ten_seconds[0] < ten_seconds[1]
    fifteen_minutes = asset_services.processing_time_limits(15 * 60)
    assert fifteen_minutes[1] <= settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] / 2


def test_a_video_upload_is_queued_on_the_media_queue_with_its_time_limit(
    world: World, idea: Idea, videos: Videos, django_capture_on_commit_callbacks, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from celery import current_app

    sent: list[tuple[str, dict[str, object]]] = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, args=None, kwargs=None, **options: sent.append((name, options))
    )
    with django_capture_on_commit_callbacks(execute=True), translation.override("en"):
        make_asset(idea, by=world.editor, data=videos.h264, name="film.mp4", processed=False)
        asset = Asset.objects.latest("pk")
        asset_services._enqueue_processing(asset.pk, duration=asset.duration)
    name, options = sent[-1]
    assert name == "production.process_asset"
    assert (options["soft_time_limit"], options["time_limit"]) == asset_services.processing_time_limits(asset.duration)
    assert current_app.amqp.router.route({}, name)["queue"].name == "media"


# --- Progress, cancelling and the cover on the asset's page ---


def test_the_page_shows_percent_done_live_and_a_cancel_button(
    world: World, idea: Idea, videos: Videos, editor_client: Client
) -> None:
    asset = make_asset(idea, by=world.editor, data=videos.h264, name="film.mp4", processed=False)
    Asset.objects.filter(pk=asset.pk).update(processing_progress=42)
    progress_url = reverse("production:asset_progress", args=[asset.pk])
    page = editor_client.get(asset.get_absolute_url(), headers={"Accept-Language": "en"}).text
    assert f'hx-get="{progress_url}" hx-trigger="every 2s"' in page
    partial = editor_client.get(progress_url).text
    assert 'value="42"' in partial
    assert "42 % done" in partial
    assert reverse("production:asset_cancel", args=[asset.pk]) in partial


def test_a_video_being_made_is_asked_about_by_one_loop_only(
    world: World, idea: Idea, videos: Videos, editor_client: Client
) -> None:
    asset = make_asset(idea, by=world.editor, data=videos.h264, name="film.mp4", processed=False)
    page = editor_client.get(asset.get_absolute_url()).text
    # The progress bar asks; the status part around it (preview, Instagram check) waits for its last answer.
    assert page.count('hx-trigger="every') == 1
    status_url = reverse("production:asset_status", args=[asset.pk])
    assert f'hx-get="{status_url}" hx-trigger="asset-processed from:body"' in page
    # Redrawn while the video is still being made, the status part adds no second loop either.
    redrawn = editor_client.get(status_url, headers={"HX-Request": "true"}).text
    assert redrawn.count('hx-trigger="every') == 1

    progress_url = reverse("production:asset_progress", args=[asset.pk])
    assert "HX-Trigger" not in editor_client.get(progress_url).headers
    Asset.objects.filter(pk=asset.pk).update(status=Asset.Status.READY)
    done = editor_client.get(progress_url)
    assert done.headers["HX-Trigger"] == "asset-processed"
    assert "hx-trigger" not in done.text
    final = editor_client.get(status_url, headers={"HX-Request": "true"}).text
    assert "hx-trigger" not in final


def test_cancelling_stops_the_worker_keeps_the_upload_and_can_be_tried_again(
    world: World, idea: Idea, videos: Videos, editor_client: Client, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    asset = make_asset(idea, by=world.editor, data=videos.h264, name="film.mp4", processed=False)
    stored = read(asset.original)
    monkeypatch.setattr(asset_services._Progress, "CANCEL_CHECK_SECONDS", 0.0)
    real_report = asset_services._Progress.__call__

    def cancel_on_first_report(self, fraction: float) -> None:  # type: ignore[no-untyped-def]
        real_report(self, fraction)
        if Asset.objects.filter(pk=self.asset_id, status=Asset.Status.PROCESSING).exists():
            response = editor_client.post(reverse("production:asset_cancel", args=[self.asset_id]))
            assert response.status_code == 302

    monkeypatch.setattr(asset_services._Progress, "__call__", cancel_on_first_report)
    assert tasks.process_asset(asset.pk, "en") == "failed"
    asset.refresh_from_db()
    assert asset.processing_error.startswith("Cancelled by ")
    assert not asset.rendition  # the encoder was stopped; nothing stored
    assert read(asset.original) == stored
    monkeypatch.undo()
    asset_services.retry_processing(by=world.editor, asset=asset)
    assert tasks.process_asset(asset.pk) == "ready"


def test_the_editor_picks_a_frame_or_uploads_a_picture_as_the_cover(
    world: World, idea: Idea, videos: Videos, editor_client: Client
) -> None:
    asset = make_asset(idea, by=world.editor, data=videos.h264, name="film.mp4")
    url = reverse("production:asset_cover", args=[asset.pk])
    poster_before = read(asset.poster)
    assert editor_client.post(url, {"seconds": "2,5"}).status_code == 302
    asset.refresh_from_db()
    assert asset.cover_offset_ms == 2500
    assert read(asset.poster) != poster_before  # the preview shows the chosen moment
    page = editor_client.get(asset.get_absolute_url()).text
    assert 'id="cover"' in page
    assert asset.poster_url.replace("&", "&amp;") in page

    image = io.BytesIO()
    Image.new("RGB", (1080, 1920), (20, 200, 90)).save(image, "PNG")
    upload = SimpleUploadedFile("forside.png", image.getvalue(), content_type="image/png")
    assert editor_client.post(url, {"image": upload}).status_code == 302
    asset.refresh_from_db()
    cover = Image.open(io.BytesIO(read(asset.cover)))
    assert (cover.format, cover.size) == ("JPEG", (1080, 1920))
    assert read(asset.poster) == read(asset.cover)
    served = editor_client.get(asset.cover_url)
    assert served["Content-Type"] == "image/jpeg"

    editor_client.post(url, {"seconds": "99"})  # past the end: refused with the reason
    asset.refresh_from_db()
    assert asset.cover_offset_ms == 2500


# --- Videos stored before renditions ---


def as_before_renditions(asset: Asset) -> Asset:
    """A video as stored before the worker made reel renditions: its Instagram version was its original."""
    Asset.objects.filter(pk=asset.pk).update(rendition=asset.original.name, renditions={})
    asset.refresh_from_db()
    return asset


def test_videos_stored_before_renditions_get_theirs_from_a_command_and_keep_their_original(
    world: World, idea: Idea, videos: Videos, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    old = as_before_renditions(make_asset(idea, by=world.editor, data=videos.hevc_mov, name="IMG_0003.MOV"))
    stored = read(old.original)
    in_a_scheduled_post = as_before_renditions(make_asset(idea, by=world.editor, data=videos.h264, name="b.mp4"))
    make_post(county=world.county, author=world.editor, assets=[in_a_scheduled_post], status=Post.Status.SCHEDULED)
    done = make_asset(idea, by=world.editor, data=videos.h264, name="new.mp4")  # made since: left alone

    output = io.StringIO()
    call_command("make_reel_renditions", "--dry-run", stdout=output)
    assert "1 video(s) would be queued" in output.getvalue()
    assert Asset.objects.get(pk=old.pk).status == Asset.Status.READY

    output = io.StringIO()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        call_command("make_reel_renditions", stdout=output)
    assert queued_processing(queued) == 1
    assert "1 in posts on their way out left for a later run" in output.getvalue()
    assert f"#{in_a_scheduled_post.pk}" in output.getvalue()
    assert Asset.objects.get(pk=in_a_scheduled_post.pk).status == Asset.Status.READY
    assert AuditEntry.objects.filter(action="asset.reel_rendition_queued", object_id=str(old.pk)).exists()

    assert tasks.process_asset(old.pk) == "ready"
    old.refresh_from_db()
    assert old.rendition.name.endswith("/rendition.mp4")
    assert_meets_spec(local(old.rendition))
    assert read(old.original) == stored  # the archive's copy is never touched
    assert public_file(old).extension == "mp4"

    with django_capture_on_commit_callbacks(execute=False) as queued:
        call_command("make_reel_renditions", "--all", stdout=io.StringIO())
    assert queued_processing(queued) == 1  # only the scheduled post's video was left
    assert Asset.objects.get(pk=done.pk).status == Asset.Status.READY
