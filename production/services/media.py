"""Workflows for media: adding uploads, making renditions, crops, subtitles, the people shown and their consent.

Split from services.py (planning) because media is its own concept, as the
models are (production/assets.py). Every status change goes through one
function here: it checks the transition, writes the audit entry and enqueues
tasks or mail only after the transaction commits. Views and tasks call these;
nothing else writes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, ProtectedError, QuerySet
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from libraries.models import County, Library, User
from libraries.services import (
    absolute_url,
    audit,
    coordinator_emails,
    run_task_on_commit,
    send_templated_mail_on_commit,
)
from production.models import (
    Asset,
    AssetPerson,
    Consent,
    ConsentState,
    Idea,
    Person,
    RecordingDay,
    RunSheetSlot,
    people_with_consents,
)
from production.processing import metadata, transcode
from production.processing.files import MediaInfo, MediaRejected, detect_format
from production.processing.images import Aspect, make_image_rendition, make_image_renditions, make_thumbnail
from production.processing.instagram import instagram_check_image, instagram_check_video
from production.processing.subtitles import SubtitleInfo, srt_to_vtt, validate_subtitles
from production.processing.transcode import TranscodeCancelled
from production.processing.video import make_poster_frame

logger = logging.getLogger(__name__)

type UploadTarget = Idea | RecordingDay
# What an upload is filed to: an idea, a recording day, or the county itself (an editor uploading from the
# compose form with neither chosen: the county library's media).
type AssetTarget = Idea | RecordingDay | County

# The stored file's extension comes from what the bytes are, never from the name it was uploaded with.
ORIGINAL_EXTENSIONS: dict[str, str] = {"jpeg": "jpg", "png": "png", "heif": "heic", "mp4": "mp4", "mov": "mov"}
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
MAX_TAGS = 20


def rejection_error(error: MediaRejected) -> ValidationError:
    """A refusal from production.processing as a form error (in the language active now)."""
    return ValidationError(str(error), code=error.code)


# --- Storing files ---


class _LocalFile(File):  # type: ignore[type-arg]  # File is generic over str/bytes in the stubs
    """A finished upload on local disk. FileSystemStorage moves it into place instead of copying
    (it asks for `temporary_file_path`); any other storage streams it in chunks."""

    def __init__(self, path: Path) -> None:
        super().__init__(path.open("rb"), name=path.name)
        self._path = path

    def temporary_file_path(self) -> str:
        return str(self._path)


def _stored_name(field_file: FieldFile) -> str:
    if not field_file.name:
        raise FileNotFoundError("No file is stored in this field.")
    return field_file.name


def _replace_file(field_file: FieldFile, filename: str, content: File) -> None:  # type: ignore[type-arg]  # django-stubs' File is generic over the content type, which varies here
    """Store `content` under the asset's folder as `filename`, replacing what was there.

    The names are fixed (thumbnail.webp, rendition.jpg, …), so running the
    worker again overwrites instead of piling up copies.
    """
    name = field_file.field.generate_filename(field_file.instance, filename)
    field_file.storage.delete(name)
    field_file.save(filename, content, save=False)


def _delete_files_on_commit(names: Iterable[str | None], storage: Any) -> None:
    to_delete = sorted({name for name in names if name})

    def delete() -> None:
        for name in to_delete:
            try:
                storage.delete(name)
            except OSError:
                logger.exception("Could not delete the stored file %s", name)

    transaction.on_commit(delete)


@contextmanager
def _readable_path(field_file: FieldFile) -> Iterator[Path]:
    """The stored file as a local path: the file itself on disk, or a temporary download (S3)."""
    name = _stored_name(field_file)
    try:
        local = field_file.storage.path(name)
    except NotImplementedError:
        local = None
    if local is not None:
        yield Path(local)
        return
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as copy:
        with field_file.storage.open(name, "rb") as stored:
            shutil.copyfileobj(stored, copy, 1024 * 1024)
        copy.flush()
        yield Path(copy.name)


# --- Adding uploads ---


def add_asset(
    *,
    by: User,
    target: AssetTarget,
    source: Path | File,  # type: ignore[type-arg]  # django-stubs' File is generic over the content type, which varies here
    original_name: str,
    info: MediaInfo,
    enqueue: bool = True,
) -> Asset:
    """A checked upload becomes an asset of an idea or a recording day, and the worker makes its renditions.

    `source` is the checked file: a path (the finished resumable upload,
    moved into storage on disk) or a Django file (the plain form). The
    original is stored as uploaded, less its location and personal metadata
    unless the county keeps them (production/metadata/; `MediaRejected`
    for a file whose metadata cannot be read). Nothing is left behind when
    this fails. `enqueue=False` leaves processing to the caller (the demo does it at once).
    """
    if isinstance(target, Idea):
        county, library = target.library.county, target.library
    elif isinstance(target, RecordingDay):
        county, library = target.county, target.host_library
    else:
        county, library = target, county_library_of(target)
    original = metadata.prepare_original(source, info=info, keep=county.keep_original_metadata)
    info = original.info
    asset = Asset(
        county=county,
        library=library,
        idea=target if isinstance(target, Idea) else None,
        recording_day=target if isinstance(target, RecordingDay) else None,
        uploaded_by=by,
        original_name=os.path.basename(original_name.replace("\\", "/"))[:255] or "upload",
        kind=info.kind,
        mime_type=info.mime_type,
        file_size=info.file_size,
        width=info.display_width,
        height=info.display_height,
        duration=info.duration,
        info=info.as_json(),
        status=Asset.Status.PROCESSING,
    )
    content = _LocalFile(original.source) if isinstance(original.source, Path) else original.source
    try:
        asset.original.save(f"original.{ORIGINAL_EXTENSIONS[info.format]}", content, save=False)
    finally:
        content.close()
        original.discard()
    try:
        with transaction.atomic():
            asset.save()
            audit(
                county=county,
                actor=by,
                action="asset.uploaded",
                obj=asset,
                summary=f"{asset.original_name} → {target}",
                kind=asset.kind,
                target=f"{target._meta.model_name}:{target.pk}",
            )
            suggest_presenters(by=by, asset=asset, target=target)
            if enqueue:
                _enqueue_processing(asset.pk, duration=asset.duration if asset.is_video else None)
    except BaseException:
        asset.original.storage.delete(_stored_name(asset.original))
        raise
    return asset


def _enqueue_processing(asset_id: int, *, duration: float | None = None) -> None:
    # The worker writes its failure reasons in the language of whoever started it.
    language = translation.get_language() or settings.LANGUAGE_CODE
    if not duration:
        run_task_on_commit("production.process_asset", asset_id, language)
        return
    # A video: the task may take as long as its transcode (which scales with the duration), on the media queue.
    soft, hard = processing_time_limits(duration)

    def send() -> None:
        from celery import current_app

        current_app.signature("production.process_asset", args=(asset_id, language)).apply_async(
            soft_time_limit=soft, time_limit=hard
        )

    transaction.on_commit(send)


# Seconds the processing task of a photo may take (production/tasks.py has the same numbers).
PROCESS_SOFT_TIME_LIMIT = 240
PROCESS_TIME_LIMIT = 300


def transcode_limit(duration: float) -> int:
    """Seconds the reel rendition of a `duration`-second video may take: the engine's limit, kept under half the
    broker's visibility timeout so a long transcode is never handed to a second worker while it runs."""
    cap = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] // 2 - PROCESS_TIME_LIMIT
    return min(transcode.time_limit(duration), cap)


def processing_time_limits(duration: float | None) -> tuple[int, int]:
    """The processing task's (soft, hard) time limits: a photo's, plus the transcode's for a video."""
    extra = transcode_limit(duration) if duration else 0
    return PROCESS_SOFT_TIME_LIMIT + extra, PROCESS_TIME_LIMIT + extra


# --- Renditions (the worker) ---


@dataclass
class _Made:
    crop: str
    subtitles: str = ""  # the key of the subtitles burned into a video's rendition
    files: dict[str, tuple[str, Path]] = field(default_factory=dict)  # field name → (stored name, local file)
    details: dict[str, Any] = field(default_factory=dict)
    check: dict[str, Any] = field(default_factory=dict)


def _instagram_check(asset: Asset) -> dict[str, Any]:
    """The Instagram check as stored: {verdict, reasons} for the main use (feed photo, reel), plus a video's
    carousel check. The reasons are in the worker's language; pages recompute them in the reader's."""
    info = MediaInfo.from_json(asset.info)
    if asset.is_image:
        check = instagram_check_image(info, cast(Aspect, asset.aspect) if asset.aspect else None)
        return {"use": "feed", "verdict": check.verdict, "reasons": check.reasons}
    reel = instagram_check_video(info, "reel")
    carousel = instagram_check_video(info, "carousel")
    return {
        "use": "reel",
        "verdict": reel.verdict,
        "reasons": reel.reasons,
        "carousel": {"verdict": carousel.verdict, "reasons": carousel.reasons},
    }


def _subtitles(asset: Asset) -> tuple[bytes | None, str]:
    """The subtitle file to burn into a video's rendition, and its key ("" for none)."""
    if not asset.subtitles:
        return None, ""
    with asset.subtitles.open("rb") as handle:
        data = handle.read()
    return data, hashlib.sha256(data).hexdigest()[:16]


def _subtitles_key(asset: Asset) -> str:
    try:
        return _subtitles(asset)[1]
    except FileNotFoundError:
        return ""


def has_reel_rendition(asset: Asset) -> bool:
    """Whether a video's Instagram version is a rendition we made (not the original, as before renditions)."""
    return bool(asset.is_video and asset.rendition and asset.rendition.name != asset.original.name)


class _Progress:
    """The engine's progress and cancel callbacks for one asset, writing and reading the database sparingly."""

    CANCEL_CHECK_SECONDS = 1.0

    def __init__(self, asset_id: int) -> None:
        self.asset_id = asset_id
        self.percent = -1
        self.asked_at = 0.0

    def __call__(self, fraction: float) -> None:
        percent = max(0, min(100, int(fraction * 100)))
        if percent != self.percent:
            self.percent = percent
            Asset.objects.filter(pk=self.asset_id, status=Asset.Status.PROCESSING).update(processing_progress=percent)

    def cancelled(self) -> bool:
        """Stop when an editor cancelled (the asset is no longer processing, see `cancel_processing`)."""
        now = time.monotonic()
        if now - self.asked_at < self.CANCEL_CHECK_SECONDS:
            return False
        self.asked_at = now
        return not Asset.objects.filter(pk=self.asset_id, status=Asset.Status.PROCESSING).exists()


def _cover_seconds(asset: Asset) -> float:
    return asset.cover_offset_ms / 1000 if asset.cover_offset_ms is not None else 1.0


def _make_renditions(asset: Asset, workdir: Path) -> _Made:
    """Make what the asset is missing (or what is out of date) in `workdir`; MediaRejected when it cannot."""
    made = _Made(crop=asset.crop_key)
    done = asset.renditions or {}
    with _readable_path(asset.original) as source:
        if asset.is_video:
            if not asset.poster or "poster" not in done:
                poster = workdir / "poster.jpg"
                made.details["poster"] = asdict(
                    make_poster_frame(
                        source, poster, at_seconds=_cover_seconds(asset), chosen=asset.cover_offset_ms is not None
                    )
                )
                made.files["poster"] = ("poster.jpg", poster)
                thumbnail = workdir / "thumbnail.webp"
                made.details["thumbnail"] = asdict(make_thumbnail(poster, thumbnail))
                made.files["thumbnail"] = ("thumbnail.webp", thumbnail)
            subtitles, made.subtitles = _subtitles(asset)
            if not has_reel_rendition(asset) or (done.get("reel") or {}).get("subtitles") != made.subtitles:
                reel = workdir / "rendition.mp4"
                progress = _Progress(asset.pk)
                made_reel = transcode.make_reel_rendition(
                    source,
                    reel,
                    subtitles=subtitles,
                    progress=progress,
                    cancelled=progress.cancelled,
                    limit_seconds=transcode_limit(asset.duration or 0.0),
                )
                made.details["reel"] = {**asdict(made_reel), "subtitles": made.subtitles}
                made.files["rendition"] = ("rendition.mp4", reel)
        else:
            needs_thumbnail = not asset.thumbnail or "thumbnail" not in done
            needs_rendition = not asset.rendition or done.get("crop") != made.crop
            thumbnail, rendition = workdir / "thumbnail.webp", workdir / "rendition.jpg"
            aspect = cast(Aspect, asset.aspect) if asset.aspect else None
            focus = (asset.crop_focus_x, asset.crop_focus_y)
            if needs_thumbnail and needs_rendition:
                # A new photo: both from one decode, which is most of the work (bench/ingest.py).
                made_rendition, made_thumbnail = make_image_renditions(
                    source, rendition, thumbnail, aspect=aspect, crop_focus=focus
                )
                made.details["thumbnail"] = asdict(made_thumbnail)
                made.details["rendition"] = asdict(made_rendition)
            elif needs_thumbnail:
                made.details["thumbnail"] = asdict(make_thumbnail(source, thumbnail))
            elif needs_rendition:  # a new crop: the thumbnail shows the whole photo and stays
                made.details["rendition"] = asdict(
                    make_image_rendition(source, rendition, aspect=aspect, crop_focus=focus)
                )
            if needs_thumbnail:
                made.files["thumbnail"] = ("thumbnail.webp", thumbnail)
            if needs_rendition:
                made.files["rendition"] = ("rendition.jpg", rendition)
    made.check = _instagram_check(asset)
    return made


def process_asset(*, asset_id: int, language: str | None = None) -> Asset | None:
    """Make an asset's thumbnail and Instagram rendition (poster frame for video) and check it for Instagram.

    Idempotent: an asset that is not processing (done by an earlier delivery,
    or deleted) is left alone, and the files have fixed names, so a second run
    replaces rather than adds. The files are made outside the transaction and
    stored under the row lock only if the crop they were made for is still
    the one wanted: an editor who changes the crop meanwhile has queued
    another run, which stores its own.

    A delivery counts itself in `processing_crashes` before it starts and takes
    the count back however it ends, unless the worker dies in it (killed for
    its memory, a crash in a decoder): the task is acknowledged late and
    rejected when its worker is lost, so the broker hands it out again at once.
    The delivery that finds MEDIA_PROCESSING_MAX_CRASHES deaths behind it fails
    the asset with the reason instead of trying again.
    """
    claimed = Asset.objects.filter(
        pk=asset_id, status=Asset.Status.PROCESSING, processing_crashes__lt=settings.MEDIA_PROCESSING_MAX_CRASHES
    ).update(processing_crashes=F("processing_crashes") + 1, processing_progress=0)
    if not claimed:
        asset = Asset.objects.filter(pk=asset_id).first()
        if asset is None or asset.status != Asset.Status.PROCESSING:
            return asset
        logger.warning("Asset %s stopped the worker %s times; failing it", asset_id, asset.processing_crashes)
        with translation.override(language or settings.LANGUAGE_CODE):
            reason = ngettext(
                "This file stopped the worker %(count)s time while its Instagram version was being made, "
                "so it cannot be processed. Upload it again, or export it from your phone or camera as JPEG "
                "(or MP4 for a video) and upload that.",
                "This file stopped the worker %(count)s times while its Instagram version was being made, "
                "so it cannot be processed. Upload it again, or export it from your phone or camera as JPEG "
                "(or MP4 for a video) and upload that.",
                asset.processing_crashes,
            ) % {"count": asset.processing_crashes}
        return mark_processing_failed(asset_id=asset_id, reason=reason)
    counted_back = False
    try:
        asset, counted_back = _process_claimed(asset_id=asset_id, language=language)
        return asset
    finally:
        # This delivery came back (done, refused, retried or out of time): it was no crash. One that
        # stored its files took its count back in the same UPDATE (committed, or it would not say so).
        if not counted_back:
            Asset.objects.filter(pk=asset_id, processing_crashes__gt=0).update(
                processing_crashes=F("processing_crashes") - 1
            )


def _process_claimed(*, asset_id: int, language: str | None) -> tuple[Asset | None, bool]:
    """The asset after this delivery, and whether its count in `processing_crashes` was taken back."""
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None or asset.status != Asset.Status.PROCESSING:
        return asset, False
    with translation.override(language or settings.LANGUAGE_CODE), tempfile.TemporaryDirectory() as workdir:
        try:
            made = _make_renditions(asset, Path(workdir))
        except TranscodeCancelled:
            logger.info("Making the rendition of asset %s was cancelled", asset_id)
            return Asset.objects.filter(pk=asset_id).first(), False
        except MediaRejected as error:
            logger.info("Asset %s could not be processed: %s", asset_id, error.code)
            return mark_processing_failed(asset_id=asset_id, reason=str(error)), False
        except FileNotFoundError:
            logger.exception("The original of asset %s is missing from storage", asset_id)
            return mark_processing_failed(
                asset_id=asset_id, reason=_("The uploaded file is missing from storage. Upload it again.")
            ), False
        with transaction.atomic():
            locked = Asset.objects.select_for_update().filter(pk=asset_id).first()
            if locked is None or locked.status != Asset.Status.PROCESSING or locked.crop_key != made.crop:
                return locked, False
            if locked.is_video and _subtitles_key(locked) != made.subtitles:
                return locked, False  # the subtitles changed meanwhile: the run queued then burns the new ones
            for field_name, (filename, path) in made.files.items():
                if field_name == "rendition" and locked.rendition.name == locked.original.name:
                    locked.rendition.name = ""  # before renditions, a video's was its original: never delete that
                with path.open("rb") as handle:
                    _replace_file(getattr(locked, field_name), filename, File(handle))
            locked.renditions = {**(locked.renditions or {}), **made.details, "crop": made.crop}
            locked.processing_progress = 100
            locked.instagram_check = made.check
            locked.status = Asset.Status.READY
            locked.processing_error = ""
            locked.processing_crashes = max(locked.processing_crashes - 1, 0)  # exact: the row is locked
            locked.save(
                update_fields=[
                    "thumbnail",
                    "rendition",
                    "poster",
                    "renditions",
                    "instagram_check",
                    "status",
                    "processing_error",
                    "processing_progress",
                    "processing_crashes",
                    "updated_at",
                ]
            )
    return locked, True


def mark_processing_failed(*, asset_id: int, reason: str) -> Asset | None:
    """Processing failed for good: the asset says why, and an editor can try again or upload it anew."""
    Asset.objects.filter(pk=asset_id, status=Asset.Status.PROCESSING).update(
        status=Asset.Status.FAILED, processing_error=reason[:2000], processing_crashes=0, updated_at=timezone.now()
    )
    return Asset.objects.filter(pk=asset_id).first()


def _move_asset(*, asset: Asset, to: Asset.Status) -> None:
    """Move an asset along one allowed transition (in the caller's transaction), or say why not."""
    if to not in Asset.TRANSITIONS[asset.status]:
        raise ValidationError(
            _("A media file that is %(current)s cannot become %(next)s.")
            % {"current": asset.get_status_display().lower(), "next": Asset.Status(to).label.lower()}
        )
    moved = Asset.objects.filter(pk=asset.pk, status=asset.status).update(
        status=to, processing_error="", updated_at=timezone.now()
    )
    if moved != 1:
        raise ValidationError(_("Someone else changed this media file just now. Reload the page and try again."))
    asset.status = to
    asset.processing_error = ""


def change_crop(*, by: User, asset: Asset, aspect: str, focus_x: float, focus_y: float) -> Asset:
    """The editor chooses the Instagram crop of a photo; the worker makes the rendition again."""
    if not asset.is_image:
        raise ValidationError(_("Only photos are cropped; Instagram shows a video as it was recorded."))
    focus_x, focus_y = (round(min(max(value, 0.0), 1.0), 3) for value in (focus_x, focus_y))
    if (asset.aspect, asset.crop_focus_x, asset.crop_focus_y) == (aspect, focus_x, focus_y):
        return asset
    with transaction.atomic():
        asset = Asset.objects.select_for_update().get(pk=asset.pk)
        old = asset.crop_key
        asset.aspect, asset.crop_focus_x, asset.crop_focus_y = aspect, focus_x, focus_y
        asset.save(update_fields=["aspect", "crop_focus_x", "crop_focus_y", "updated_at"])
        if asset.status != Asset.Status.PROCESSING:
            _move_asset(asset=asset, to=Asset.Status.PROCESSING)
        audit(
            county=asset.county,
            actor=by,
            action="asset.crop_changed",
            obj=asset,
            summary=f"{asset}: {old} → {asset.crop_key}",
        )
        _enqueue_processing(asset.pk)
    return asset


def retry_processing(*, by: User, asset: Asset) -> Asset:
    """Try again to make the renditions of an asset whose processing failed."""
    with transaction.atomic():
        _move_asset(asset=asset, to=Asset.Status.PROCESSING)
        audit(county=asset.county, actor=by, action="asset.processing_retried", obj=asset, summary=str(asset))
        _enqueue_processing(asset.pk, duration=asset.duration if asset.is_video else None)
    return asset


def cancel_processing(*, by: User, asset: Asset) -> Asset:
    """Stop making a video's Instagram version: the upload is kept, and the editor can try again later.

    The asset fails at once with the reason; the worker sees that it is no longer processing (it asks every
    second, `_Progress.cancelled`), kills the encoder and stores nothing.
    """
    if not asset.is_video:
        raise ValidationError(_("Only the Instagram version of a video can be cancelled."))
    with transaction.atomic():
        _move_asset(asset=asset, to=Asset.Status.FAILED)
        reason = _("Cancelled by %(name)s. The upload is kept; choose “Try again” to make the Instagram version.") % {
            "name": by.get_full_name() or by.email
        }
        Asset.objects.filter(pk=asset.pk).update(processing_error=reason, processing_crashes=0)
        asset.processing_error = reason
        audit(county=asset.county, actor=by, action="asset.processing_cancelled", obj=asset, summary=str(asset))
    return asset


def videos_without_reel_rendition() -> QuerySet[Asset]:
    """Ready videos whose Instagram version is still their original: stored before the worker made renditions."""
    return Asset.objects.filter(kind=Asset.Kind.VIDEO, status=Asset.Status.READY, rendition=F("original"))


def make_missing_reel_rendition(*, asset: Asset) -> None:
    """Have the worker make the Instagram version of a video stored before renditions (audited, no actor)."""
    if not asset.is_video or has_reel_rendition(asset):
        raise ValidationError(_("This video already has its Instagram version."))
    with transaction.atomic():
        _remake_reel(asset)
        audit(county=asset.county, actor=None, action="asset.reel_rendition_queued", obj=asset, summary=str(asset))


def _remake_reel(asset: Asset) -> None:
    """The subtitles of a video changed: its Instagram version is made again (in the caller's transaction)."""
    if asset.status != Asset.Status.PROCESSING:
        _move_asset(asset=asset, to=Asset.Status.PROCESSING)
    Asset.objects.filter(pk=asset.pk).update(processing_progress=0)
    _enqueue_processing(asset.pk, duration=asset.duration)


# --- Details, subtitles, deleting ---


def clean_tags(text: str) -> list[str]:
    """Comma-separated tags as a list: trimmed, without duplicates (ignoring case), at most MAX_TAGS."""
    tags: list[str] = []
    seen: set[str] = set()
    for raw in text.split(","):
        tag = " ".join(raw.split()).lstrip("#")[:50]
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationError(_("Use at most %(max)s tags.") % {"max": MAX_TAGS})
    return tags


def update_asset(*, by: User, asset: Asset, changed: list[str]) -> Asset:
    """Save the named descriptive fields (title, alt text, credit line, tags, burned-in subtitles)."""
    allowed = {"title", "alt_text", "credit_line", "tags", "subtitles_burned_in"}
    fields = [name for name in changed if name in allowed]
    if not fields:
        return asset
    if asset.is_image and "subtitles_burned_in" in fields:
        fields.remove("subtitles_burned_in")
    asset.alt_text = asset.alt_text.strip()
    with transaction.atomic():
        asset.save(update_fields=[*fields, "updated_at"])
        audit(county=asset.county, actor=by, action="asset.changed", obj=asset, summary=str(asset), fields=fields)
        _refresh_archive([asset.pk])
    return asset


def set_subtitles(*, by: User, asset: Asset, data: bytes) -> SubtitleInfo:
    """Check a WebVTT or SRT file and keep it as WebVTT, the one format we store and play."""
    if not asset.is_video:
        raise ValidationError(_("Only videos have subtitles; describe a photo with alt text."))
    try:
        info = validate_subtitles(data)
        text = srt_to_vtt(data) if info.format == "srt" else data.decode("utf-8-sig")
    except MediaRejected as error:
        raise rejection_error(error) from error
    if asset.duration and info.last_cue_end > asset.duration + 2:
        raise ValidationError(
            _(
                "The subtitles run until %(end)s seconds, but the video lasts %(duration)s seconds. "
                "Are they for another video?"
            )
            % {"end": round(info.last_cue_end), "duration": round(asset.duration)}
        )
    vtt = text.replace("\r\n", "\n").replace("\r", "\n")
    with transaction.atomic():
        asset = Asset.objects.select_for_update().get(pk=asset.pk)
        _replace_file(asset.subtitles, "subtitles.vtt", ContentFile(vtt.encode("utf-8")))
        asset.save(update_fields=["subtitles", "updated_at"])
        audit(
            county=asset.county,
            actor=by,
            action="asset.subtitles_added",
            obj=asset,
            summary=str(asset),
            format=info.format,
            cues=info.cue_count,
        )
        _remake_reel(asset)
    return info


def remove_subtitles(*, by: User, asset: Asset) -> None:
    if not asset.subtitles:
        return
    with transaction.atomic():
        _delete_files_on_commit([asset.subtitles.name], asset.subtitles.storage)
        asset.subtitles.name = ""
        asset.save(update_fields=["subtitles", "updated_at"])
        audit(county=asset.county, actor=by, action="asset.subtitles_removed", obj=asset, summary=str(asset))
        _remake_reel(asset)


def delete_asset(*, by: User, asset: Asset) -> None:
    """Delete an upload and its files, with who is tagged in it (not once it is in a post).

    The people stay in the county's register with their consents: those cover their other media too.
    """
    names = [
        asset.original.name,
        asset.thumbnail.name,
        asset.rendition.name,
        asset.poster.name,
        asset.subtitles.name,
        asset.cover.name,
    ]
    storage = asset.original.storage
    try:
        with transaction.atomic():
            audit(
                county=asset.county,
                actor=by,
                action="asset.deleted",
                obj=asset,
                summary=str(asset),
                original_name=asset.original_name,
            )
            asset.delete()
            _delete_files_on_commit(names, storage)
    except ProtectedError as error:
        raise ValidationError(
            _("This media file is used in a post or in the archive, so it cannot be deleted.")
        ) from error


# --- People shown and their consent ---


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Write the person's name, or describe them (“girl in red jacket”).")})
    return name


def create_person(
    *,
    by: User | None,
    county: County,
    name: str,
    category: str,
    guardian: str = "",
    contact_email: str = "",
    language: str = "",
) -> Person:
    """A new entry in the county's register of people (audited; the name stays out of the audit log's data)."""
    person = Person(
        county=county,
        name=_clean_name(name),
        category=category,
        guardian=" ".join(guardian.split()),
        contact_email=contact_email.strip(),
        language=language or settings.LANGUAGE_CODE,
        created_by=by,
    )
    person.full_clean(exclude=["county", "created_by"])
    with transaction.atomic():
        person.save()
        audit(county=county, actor=by, action="person.registered", obj=person, summary=person.name)
    return person


def tag_person(*, by: User | None, asset: Asset, person: Person, suggested: bool = False) -> AssetPerson:
    """Someone from the register is shown in the asset; an editor's "no identifiable people" confirmation
    no longer holds. Tagging someone already tagged there is refused with a reason (nothing changes)."""
    if person.county_id != asset.county_id:
        raise ValidationError(_("Only people in this county's register can be tagged."))
    with transaction.atomic():
        Asset.objects.select_for_update().filter(pk=asset.pk).first()
        if AssetPerson.objects.filter(asset=asset, person=person).exists():
            raise ValidationError(
                _("%(name)s is already tagged in “%(asset)s”.") % {"name": person.name, "asset": asset}
            )
        tag = AssetPerson.objects.create(asset=asset, person=person, suggested=suggested)
        # Undone for good: taking the person off again leaves the asset not reviewed, not confirmed.
        unconfirmed = Asset.objects.filter(pk=asset.pk, no_people_confirmed_at__isnull=False).update(
            no_people_confirmed_at=None, no_people_confirmed_by=None
        )
        asset.no_people_confirmed_at, asset.no_people_confirmed_by = None, None
        audit(
            county=asset.county,
            actor=by,
            action="asset.person_added",
            obj=asset,
            summary=f"{person.name} ({person.category}) in {asset}",
            person=person.pk,
            suggested=suggested,
            no_people_confirmation_undone=bool(unconfirmed),
        )
        _mark_lapsed_if_blocked([asset.pk])
        _refresh_archive([asset.pk])
    return tag


def presenters_of(target: UploadTarget) -> list[Person]:
    """The register entries of who presents what was recorded: a recording day's presenters, or for an idea
    on a run sheet, its slot's presenters (DESIGN.md §3)."""
    if isinstance(target, RecordingDay):
        signups = Person.objects.filter(presenter_signups__recording_day=target)
    else:
        slot = RunSheetSlot.objects.filter(idea=target).first()
        if slot is None:
            return []
        signups = Person.objects.filter(
            presenter_signups__recording_day_id=slot.recording_day_id,
            presenter_signups__person__in=slot.presenters.all(),
        )
    return list(signups.distinct().order_by("name", "pk"))


def suggest_presenters(*, by: User | None, asset: Asset, target: AssetTarget) -> list[AssetPerson]:
    """Media uploaded for a recording day or a slot's idea are tagged with its presenters, as suggestions for an
    editor to confirm (or remove). A suggested tag counts as shown: the asset's consent comes from them. The
    county's own uploads have no presenters."""
    if not isinstance(target, (Idea, RecordingDay)):
        return []
    people = [person for person in presenters_of(target) if person.county_id == asset.county_id]
    if not people:
        return []
    tags = AssetPerson.objects.bulk_create(
        [AssetPerson(asset=asset, person=person, suggested=True) for person in people]
    )
    for person in people:  # one entry per person, so erasing one of them finds theirs (`people.erase_person`)
        audit(
            county=asset.county,
            actor=by,
            action="asset.person_suggested",
            obj=asset,
            summary=f"{person.name} ({person.category}) in {asset}",
            person=person.pk,
        )
    _mark_lapsed_if_blocked([asset.pk])
    return tags


def confirm_suggested_person(*, by: User, tag: AssetPerson) -> AssetPerson:
    """An editor confirms that a suggested person (a presenter) is indeed shown. Confirming twice changes nothing."""
    if tag.person is None:
        raise ValidationError(_("This person was erased from the register; the tag stays and keeps the media blocked."))
    with transaction.atomic():
        confirmed = AssetPerson.objects.filter(pk=tag.pk, suggested=True).update(suggested=False)
        tag.suggested = False
        if confirmed:
            audit(
                county=tag.asset.county,
                actor=by,
                action="asset.person_confirmed",
                obj=tag.asset,
                summary=f"{tag.person.name} in {tag.asset}",
                person=tag.person_id,
            )
    return tag


def add_person(
    *,
    by: User,
    asset: Asset,
    name: str,
    category: str,
    guardian: str = "",
    contact_email: str = "",
    language: str = "",
) -> AssetPerson:
    """Someone recognisable is shown who is not in the register yet: register them and tag them."""
    with transaction.atomic():
        person = create_person(
            by=by,
            county=asset.county,
            name=name,
            category=category,
            guardian=guardian,
            contact_email=contact_email,
            language=language,
        )
        return tag_person(by=by, asset=asset, person=person)


def confirm_no_people(*, by: User, asset: Asset) -> Asset:
    """An editor looked: nobody in the asset can be recognised, so it needs nobody's consent (DESIGN.md §3).

    Only for an asset with nobody registered; adding a person later undoes it (`add_person`).
    Confirming again changes nothing.
    """
    with transaction.atomic():
        asset = Asset.objects.select_for_update().get(pk=asset.pk)
        if asset.people.exists():
            raise ValidationError(
                _(
                    "People are registered as shown in “%(asset)s”, so it cannot be confirmed to show nobody. "
                    "Take them off the list first if they were added by mistake."
                )
                % {"asset": asset}
            )
        if asset.no_people_confirmed_at is not None:
            return asset
        asset.no_people_confirmed_at, asset.no_people_confirmed_by = timezone.now(), by
        asset.save(update_fields=["no_people_confirmed_at", "no_people_confirmed_by", "updated_at"])
        audit(county=asset.county, actor=by, action="asset.no_people_confirmed", obj=asset, summary=str(asset))
        _refresh_archive([asset.pk])
    return asset


def remove_person(*, by: User, person: AssetPerson) -> None:
    """Take a tag off an asset that was put there by mistake (the register entry stays).

    Refused for someone whose consent was withdrawn or expired: taking them off
    would release media they asked to be kept out of, so that needs the register
    (erase, or a new consent), not a quiet untag.
    """
    asset = person.asset
    state = person.consent_state()
    if person.person is None or state == ConsentState.WITHDRAWN:
        raise ValidationError(
            _(
                "%(name)s has withdrawn their consent (or it has expired), so the tag stays and keeps the media "
                "blocked. If they are not in it after all, an editor can correct it in the register."
            )
            % {"name": person.name}
        )
    with transaction.atomic():
        audit(
            county=asset.county,
            actor=by,
            action="asset.person_removed",
            obj=asset,
            summary=f"{person.name} in {asset}",
            person=person.person_id,
        )
        person.delete()
        _refresh_archive([asset.pk])


def _evidence_extension(upload: File) -> str:  # type: ignore[type-arg]  # django-stubs' File is generic over the content type, which varies here
    """The signed form must be a PDF or a photo of the form; the type comes from the bytes."""
    if (upload.size or 0) > EVIDENCE_MAX_BYTES:
        raise ValidationError({"evidence": _("The signed form is larger than 10 MB. Scan it at a lower resolution.")})
    upload.seek(0)
    head = upload.read(1024)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    detected = detect_format(head)
    if detected in ("jpeg", "png", "heif"):
        return ORIGINAL_EXTENSIONS[detected]
    raise ValidationError({"evidence": _("The signed form must be a PDF or a photo of the form (JPEG, PNG or HEIC).")})


def record_consent(
    *,
    by: User | None,
    person: Person | AssetPerson,
    covers_publishing: bool,
    covers_archive_reuse: bool,
    given_at: date,
    valid_until: date | None,
    person_is_minor: bool,
    given_by: str = "",
    covers_sharing: bool = False,
    evidence: File | None = None,  # type: ignore[type-arg]  # django-stubs' File is generic over the content type, which varies here
    evidence_note: str = "",
    digital_record: dict[str, Any] | None = None,
) -> Consent:
    """Record what someone in the register (or their guardian) agreed to, once for every asset they are
    tagged in, with the signed form, a note, or the digital consent's record as evidence."""
    if isinstance(person, AssetPerson):
        if person.person is None:
            raise ValidationError(_("This person was erased from the register; no consent can be recorded."))
        person = person.person
    today = timezone.localdate()
    given_by = " ".join(given_by.split())
    errors: dict[str, str] = {}
    if not covers_publishing and not covers_archive_reuse:
        errors["covers_publishing"] = _("Choose what the consent covers: publishing, reuse from the archive, or both.")
    if given_at > today:
        errors["given_at"] = _("The consent cannot be given in the future.")
    if valid_until is not None and valid_until < given_at:
        errors["valid_until"] = _("Valid until must be on or after the day consent was given.")
    elif valid_until is not None and valid_until < today:
        errors["valid_until"] = _("This consent has already expired; record one that is valid now.")
    if (person_is_minor or person.is_child) and not given_by:
        errors["given_by"] = _(
            "People under %(age)s need a guardian's consent: write the name of the guardian who gave it."
        ) % {"age": settings.CONSENT_MINOR_AGE}
    if evidence is None and not evidence_note.strip() and not digital_record:
        errors["evidence_note"] = _(
            "Upload the signed form, or write a note on how consent was given (by whom, when, where it is kept)."
        )
    if errors:
        raise ValidationError(errors)
    extension = _evidence_extension(evidence) if evidence is not None else ""
    consent = Consent(
        person=person,
        covers_publishing=covers_publishing,
        covers_archive_reuse=covers_archive_reuse,
        covers_sharing=covers_sharing,
        digital_record=digital_record or {},
        given_at=given_at,
        valid_until=valid_until,
        person_is_minor=person_is_minor,
        given_by=given_by,
        evidence_note=evidence_note.strip(),
        recorded_by=by,
    )
    if evidence is not None:
        # An unguessable name: the form names a person, and often a child.
        consent.evidence.save(f"{uuid.uuid4().hex}.{extension}", evidence, save=False)
    try:
        with transaction.atomic():
            consent.save()
            asset_ids = list(AssetPerson.objects.filter(person=person).values_list("asset_id", flat=True))
            audit(
                county=person.county,
                actor=by,
                action="consent.recorded",
                obj=consent,
                summary=person.name,
                person=person.pk,
                assets=asset_ids,
                publishing=covers_publishing,
                archive_reuse=covers_archive_reuse,
                sharing=covers_sharing,
                valid_until=valid_until.isoformat() if valid_until else None,
                minor=person_is_minor,
                digital=bool(digital_record),
            )
            _clear_lapse_mark_if_resolved(asset_ids)
            if asset_ids:
                _refresh_archive(asset_ids)
    except BaseException:
        if consent.evidence:
            consent.evidence.storage.delete(_stored_name(consent.evidence))
        raise
    return consent


def _clear_lapse_mark_if_resolved(asset_ids: list[int]) -> None:
    assets = Asset.objects.filter(pk__in=asset_ids, consent_lapsed_at__isnull=False).prefetch_related(
        people_with_consents()
    )
    resolved = [asset.pk for asset in assets if asset.consent_state() != ConsentState.WITHDRAWN]
    if resolved:
        Asset.objects.filter(pk__in=resolved).update(consent_lapsed_at=None)


def _mark_lapsed_if_blocked(asset_ids: list[int]) -> None:
    """Tagging someone whose consent was withdrawn (or who was erased) marks the asset as lapsed too."""
    assets = Asset.objects.filter(pk__in=asset_ids, consent_lapsed_at__isnull=True).prefetch_related(
        people_with_consents()
    )
    blocked = [asset.pk for asset in assets if asset.consent_state() == ConsentState.WITHDRAWN]
    if blocked:
        Asset.objects.filter(pk__in=blocked).update(consent_lapsed_at=timezone.now())


@dataclass(frozen=True)
class MediaChange:
    """What changed about some assets, for the apps above production to act on.

    `lapsed_reason` is set when consent of someone shown was withdrawn or
    expired: what was approved showing them must go back to review.
    """

    asset_ids: list[int]
    by: User | None = None
    lapsed_reason: str = ""
    # Set by the caller that e-mails the coordinators itself (a consent lapsed): the hooks then leave the
    # telling to it and add what they did to `pulled_back` (title, address), so there is one e-mail.
    tell_coordinators: bool = True
    pulled_back: list[tuple[str, str]] = field(default_factory=list)
    # The same for posts of other counties (borrowed copies, the network): county id → (title, address).
    pulled_back_elsewhere: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    # The county whose consent lapsed: posts of other counties go into `pulled_back_elsewhere`.
    county_id: int | None = None


def _media_changed(change: MediaChange) -> None:
    """Tell the apps above what changed, in the caller's transaction.

    Production does not import them (dependencies point down): they register a
    callable in settings.MEDIA_CHANGED_HOOKS. Publishing's refreshes the
    archive's copy of each asset's text and consent and pulls back posts
    (publishing/media_changes.py).
    """
    for path in settings.MEDIA_CHANGED_HOOKS:
        import_string(path)(change)


def _refresh_archive(asset_ids: list[int]) -> None:
    _media_changed(MediaChange(asset_ids=asset_ids))


def withdraw_consent(*, by: User | None, consent: Consent, note: str = "") -> list[Consent]:
    """The person (or their guardian) takes their consent back, once for everything they are in.

    Every consent of theirs still in force is withdrawn; what follows for every
    asset they are tagged in is `consent_lapsed`, in this one transaction
    (posts pulled back, the archive refreshed, one e-mail to the coordinators).
    """
    person = consent.person
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Consent.objects.select_for_update()
            .filter(person=person, withdrawn_at__isnull=True)
            .values_list("pk", flat=True)
        )
        if not ids:
            raise ValidationError(_("This consent was already withdrawn."))
        Consent.objects.filter(pk__in=ids).update(withdrawn_at=now, withdrawal_note=note.strip(), lapse_handled_at=now)
        withdrawn = list(Consent.objects.filter(pk__in=ids).select_related("person").order_by("pk"))
        consent_lapsed(county=person.county, consents=withdrawn, by=by, reason="withdrawn", note=note.strip())
    return withdrawn


def expire_consents(*, today: date | None = None) -> int:
    """The nightly run: consents past their last valid day lapse, once each.

    Claimed under `FOR UPDATE SKIP LOCKED` and marked handled in the same
    transaction, so beat ticking twice (or a redelivered task, or two
    workers at once) deals with each consent exactly once. A consent that a
    newer one has replaced expires quietly.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        expired = list(
            Consent.objects.expired_unhandled(today)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("person__county")
            .prefetch_related("person__consents")
            .order_by("pk")
        )
        if not expired:
            return 0
        Consent.objects.filter(pk__in=[consent.pk for consent in expired]).update(lapse_handled_at=timezone.now())
        by_county: dict[int, list[Consent]] = defaultdict(list)
        for consent in expired:
            if consent.person.current_consent() == consent:
                by_county[consent.person.county_id].append(consent)
        for consents in by_county.values():
            consent_lapsed(county=consents[0].person.county, consents=consents, by=None, reason="expired")
    return sum(len(consents) for consents in by_county.values())


def consent_lapsed(
    *,
    county: County,
    consents: list[Consent],
    by: User | None,
    reason: Literal["withdrawn", "expired"],
    note: str = "",
) -> list[Asset]:
    """What follows when consents are withdrawn or expire (in the caller's transaction).

    The assets showing those people are marked (`consent_lapsed_at`); their
    consent state is now "withdrawn", which blocks publishing and reuse from
    the archive (`Asset.allows_archive_reuse`; their archive items' copies are
    refreshed through settings.MEDIA_CHANGED_HOOKS); each consent gets an
    audit entry; and the county's coordinators get one e-mail after commit.
    """
    person_ids = sorted({consent.person_id for consent in consents})
    assets = list(Asset.objects.showing_people(person_ids).order_by("pk"))
    # The copies other counties borrowed (the network) are decided on these people too: blocked with them,
    # in this same run, and their counties told below.
    copies = list(Asset.objects.filter(borrowed_from__in=assets).select_related("county").order_by("county_id", "pk"))
    Asset.objects.filter(pk__in=[asset.pk for asset in [*assets, *copies]], consent_lapsed_at__isnull=True).update(
        consent_lapsed_at=timezone.now()
    )
    asset_ids = [asset.pk for asset in assets]
    for consent in consents:
        audit(
            county=county,
            actor=by,
            action=f"consent.{reason}",
            obj=consent,
            summary=consent.person.name,
            person=consent.person_id,
            assets=asset_ids,
            note=note,
        )
    # Approved and scheduled posts showing these people go back to review; the archive's copies follow.
    change = MediaChange(
        asset_ids=[asset.pk for asset in [*assets, *copies]],
        county_id=county.pk,
        by=by,
        lapsed_reason=(
            _("Consent was withdrawn by someone shown in this post.")
            if reason == "withdrawn"
            else _("The consent of someone shown in this post has expired.")
        ),
        tell_coordinators=False,
    )
    _media_changed(change)
    coordinators = coordinator_emails(county)
    if coordinators:
        send_templated_mail_on_commit(
            to=coordinators,
            template="consent_lapsed",
            context={
                "county": county,
                "withdrawn": reason == "withdrawn",
                "people": sorted({consent.person.name for consent in consents}),
                "assets": [(str(asset), absolute_url(asset.get_absolute_url())) for asset in assets],
                "posts": change.pulled_back,
                "note": note,
                "by": by,
            },
        )
    _tell_borrowers(copies, change=change, by=by, withdrawn=reason == "withdrawn")
    return assets


def _tell_borrowers(copies: list[Asset], *, change: MediaChange, by: User | None, withdrawn: bool) -> None:
    """Each county holding a borrowed copy: an audit entry per copy and one e-mail to its coordinators
    (in each one's language), without the names of the people, who are the origin county's."""
    by_county: dict[int, list[Asset]] = {}
    for copy in copies:
        by_county.setdefault(copy.county_id, []).append(copy)
    for county_copies in by_county.values():
        county = county_copies[0].county
        for copy in county_copies:
            audit(
                county=county,
                actor=None,
                action="network.copy_blocked",
                obj=copy,
                summary=str(copy),
                origin=copy.borrowed_from_id,
                withdrawn=withdrawn,
            )
        coordinators = coordinator_emails(county)
        if coordinators:
            send_templated_mail_on_commit(
                to=coordinators,
                template="borrowed_consent_lapsed",
                context={
                    "withdrawn": withdrawn,
                    "assets": [(str(copy), absolute_url(copy.get_absolute_url())) for copy in county_copies],
                    "posts": change.pulled_back_elsewhere.get(county.pk, []),
                },
            )


def media_upload_url(target: AssetTarget) -> str:
    """Where the browser creates resumable uploads for an idea, a recording day or the county."""
    if isinstance(target, Idea):
        return reverse("production:idea_upload_create", args=[target.pk])
    if isinstance(target, RecordingDay):
        return reverse("production:recording_day_upload_create", args=[target.pk])
    return reverse("production:county_upload_create")


def county_library_of(county: County) -> Library:
    """The county library: whose media the county's own uploads are."""
    library = Library.objects.filter(county=county, kind=Library.Kind.COUNTY).order_by("pk").first()
    if library is None:
        raise ValidationError(_("The county has no county library to file the media under."))
    return library


# --- A reel's cover ---

COVER_MAX_BYTES = 8 * 1024 * 1024  # Meta's limit for an image it fetches (GRAPH_API.md §3)
COVER_LONG_SIDE = 1920


def _store_cover_pictures(asset: Asset, picture: Path, workdir: Path) -> None:
    """The chosen cover becomes the poster (shown before the video plays) and the thumbnail (in lists)."""
    thumbnail = workdir / "thumbnail.webp"
    made = make_thumbnail(picture, thumbnail)
    with picture.open("rb") as handle:
        _replace_file(asset.poster, "poster.jpg", File(handle))
    with thumbnail.open("rb") as handle:
        _replace_file(asset.thumbnail, "thumbnail.webp", File(handle))
    asset.renditions = {**(asset.renditions or {}), "thumbnail": asdict(made)}


def set_cover_frame(*, by: User, asset: Asset, offset_ms: int) -> Asset:
    """The editor picks the moment of a reel shown as its cover (sent as thumb_offset); an uploaded image goes."""
    if not asset.is_video or asset.status != Asset.Status.READY:
        raise ValidationError(_("Choose a cover once the Instagram version of the video is ready."))
    length_ms = int((asset.duration or 0) * 1000)
    if not 0 <= offset_ms < max(length_ms, 1):
        raise ValidationError(
            _("Choose a moment between 0 and %(seconds)s seconds.") % {"seconds": round(length_ms / 1000, 1)}
        )
    field_file = asset.rendition if has_reel_rendition(asset) else asset.original
    with tempfile.TemporaryDirectory() as workdir, _readable_path(field_file) as source:
        frame = Path(workdir) / "poster.jpg"
        try:
            made = make_poster_frame(source, frame, at_seconds=offset_ms / 1000, chosen=True)
        except MediaRejected as error:
            raise rejection_error(error) from error
        with transaction.atomic():
            locked = Asset.objects.select_for_update().get(pk=asset.pk)
            old_cover = locked.cover.name
            locked.cover.name = ""
            locked.cover_offset_ms = offset_ms
            _store_cover_pictures(locked, frame, Path(workdir))
            locked.renditions["poster"] = asdict(made)
            locked.save(update_fields=["cover", "cover_offset_ms", "poster", "thumbnail", "renditions", "updated_at"])
            if old_cover:
                _delete_files_on_commit([old_cover], locked.cover.storage)
            audit(
                county=locked.county,
                actor=by,
                action="asset.cover_chosen",
                obj=locked,
                summary=str(locked),
                offset_ms=offset_ms,
            )
    return locked


def set_cover_image(*, by: User, asset: Asset, upload: File) -> Asset:  # type: ignore[type-arg]  # django-stubs' File is generic over the content type, which varies here
    """The editor uploads a reel's cover: kept as an upright sRGB JPEG (sent as cover_url, which wins)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not asset.is_video or asset.status != Asset.Status.READY:
        raise ValidationError(_("Choose a cover once the Instagram version of the video is ready."))
    if (upload.size or 0) > COVER_MAX_BYTES:
        raise ValidationError(_("A cover image can be at most 8 MB."))
    upload.seek(0)
    head = upload.read(64)
    upload.seek(0)
    if detect_format(head) not in ("jpeg", "png"):
        raise ValidationError(_("A cover image must be a JPEG or PNG picture."))
    with tempfile.TemporaryDirectory() as workdir:
        cover = Path(workdir) / "cover.jpg"
        try:
            with Image.open(upload) as opened:
                if opened.width * opened.height > 50_000_000:
                    raise ValidationError(_("A cover image can be at most 50 megapixels."))
                picture = ImageOps.exif_transpose(opened).convert("RGB")
                picture.thumbnail((COVER_LONG_SIDE, COVER_LONG_SIDE))
                picture.save(cover, "JPEG", quality=90)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
            raise ValidationError(_("This picture cannot be read; it may be damaged.")) from error
        with transaction.atomic():
            locked = Asset.objects.select_for_update().get(pk=asset.pk)
            with cover.open("rb") as handle:
                _replace_file(locked.cover, "cover.jpg", File(handle))
            _store_cover_pictures(locked, cover, Path(workdir))
            locked.save(update_fields=["cover", "poster", "thumbnail", "renditions", "updated_at"])
            audit(county=locked.county, actor=by, action="asset.cover_uploaded", obj=locked, summary=str(locked))
    return locked
