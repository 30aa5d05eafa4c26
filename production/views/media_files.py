"""Serving media files: privately to people of the asset's county, and to Instagram at a signed address.

Nothing under MEDIA_ROOT is served directly. Django checks access (through
libraries/access.py) and consent (production/release.py, the one rule for
media bytes), and then hands the bytes to whoever sends them best:

* nginx, with `X-Accel-Redirect` to MEDIA_ACCEL_REDIRECT_PREFIX (production);
  nginx also answers Range requests;
* the object store, with a redirect to a short-lived presigned URL (S3);
* Django itself, streaming the file with Range support (development).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import IO, Literal
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from libraries.access import AuthenticatedHttpRequest, CountyAccess, require_role
from production import release, signed_urls
from production.access import get_asset_for_user, get_consent_for_user, get_shared_asset_for_user
from production.models import Asset, people_with_consents

ASSET_FILES = ("original", "thumbnail", "rendition", "poster", "subtitles", "cover")
# What another county sees of an asset in the network's shared pool: the pictures, never taken away.
SHARED_FILES = ("thumbnail", "rendition", "poster")
CONTENT_TYPES = {
    "cover": "image/jpeg",
    "thumbnail": "image/webp",
    "rendition": "image/jpeg",
    "poster": "image/jpeg",
    "subtitles": "text/vtt; charset=utf-8",
}
EVIDENCE_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png", "heic": "image/heic"}
STREAM_CHUNK_BYTES = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# A private file is never kept by a browser or a proxy: a consent withdrawn (or a person who leaves the
# county) must stop the next look at it, not the one a day later.
PRIVATE_CACHE = "private, no-store"


# --- Sending a stored file ---


def _byte_range(header: str | None, size: int) -> tuple[int, int] | Literal[False] | None:
    """One `bytes=` range as (first, last), None for none (or one we ignore), False when unsatisfiable."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:  # several ranges, or another unit: the whole file is a valid answer
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # the last N bytes
        suffix = int(last_text)
        if suffix == 0:
            return False
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or (last_text and int(last_text) < first):
        return False
    return first, last


def _read_range(handle: IO[bytes], first: int, last: int) -> Iterator[bytes]:
    with handle:
        handle.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            chunk = handle.read(min(STREAM_CHUNK_BYTES, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def _stream(request: HttpRequest, path: str, *, content_type: str, disposition: str | None) -> HttpResponseBase:
    try:
        handle = open(path, "rb")  # noqa: SIM115  # closed by the response (or below)
    except FileNotFoundError as error:
        raise Http404 from error
    size = os.fstat(handle.fileno()).st_size
    wanted = _byte_range(request.headers.get("Range"), size)
    response: HttpResponseBase
    if wanted is False:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    elif request.method == "HEAD":
        handle.close()
        response = HttpResponse(content_type=content_type)
        response["Content-Length"] = str(size)
    elif wanted is None:
        response = FileResponse(handle, content_type=content_type)
    else:
        first, last = wanted
        response = StreamingHttpResponse(_read_range(handle, first, last), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    response["Accept-Ranges"] = "bytes"
    if disposition:
        response["Content-Disposition"] = disposition
    return response


def _presigned_url(field_file: FieldFile, name: str, *, content_type: str, disposition: str | None) -> str:
    from storages.backends.s3 import S3Storage

    if isinstance(field_file.storage, S3Storage):
        parameters = {"ResponseContentType": content_type}
        if disposition:
            parameters["ResponseContentDisposition"] = disposition
        return str(field_file.storage.url(name, parameters=parameters))
    return str(field_file.storage.url(name))


def serve_file(
    request: HttpRequest,
    field_file: FieldFile,
    *,
    content_type: str,
    filename: str | None = None,
    as_attachment: bool = False,
    cache_control: str = PRIVATE_CACHE,
) -> HttpResponseBase:
    """Send a stored file after the caller has checked access (see the module docstring)."""
    name = field_file.name
    if not name:
        raise Http404
    disposition = content_disposition_header(as_attachment, filename or "") if filename or as_attachment else None
    try:
        local_path = field_file.storage.path(name)
    except NotImplementedError:
        local_path = None
    response: HttpResponseBase
    if local_path is None:
        response = HttpResponseRedirect(
            _presigned_url(field_file, name, content_type=content_type, disposition=disposition)
        )
    elif settings.MEDIA_ACCEL_REDIRECT_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT_PREFIX + quote(name)
        if disposition:
            response["Content-Disposition"] = disposition
    else:
        response = _stream(request, local_path, content_type=content_type, disposition=disposition)
    response["Cache-Control"] = cache_control
    # Uploaded files must never be read as another type (an SVG or HTML trick) on our origin.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- Private media ---


def _download_name(asset: Asset, which: str) -> str:
    stem = asset.original_name.rsplit(".", 1)[0] or "media"
    return {
        "original": asset.original_name,
        "thumbnail": f"{stem}-thumbnail.webp",
        "rendition": f"{stem}-instagram.{signed_urls.public_file(asset).extension}"
        if asset.is_image or asset.rendition.name != asset.original.name
        else asset.original_name,
        "cover": f"{stem}-cover.jpg",
        "poster": f"{stem}-poster.jpg",
        "subtitles": f"{stem}.vtt",
    }[which]


def _purpose(which: str, *, download: bool) -> release.Purpose:
    if which == "original":
        return release.Purpose.ORIGINAL
    return release.Purpose.TAKE_AWAY if download else release.Purpose.VIEW


@release.serves_media
@login_required
@require_http_methods(["GET", "HEAD"])
def asset_file(request: AuthenticatedHttpRequest, pk: int, which: str) -> HttpResponseBase:
    """One of an asset's files, for people of its county, as the consent allows; another county's is 404,
    but for the pictures of an asset in the network's shared pool, while everyone shown lets them travel.

    The original is always a download (for editors and coordinators, audited);
    the other files show inside the app, or are taken away with `?download=1`
    (production/release.py decides both).
    """
    if which not in ASSET_FILES:
        raise Http404
    county_access = require_role(request)
    download = which == "original" or request.GET.get("download") == "1"
    purpose = _purpose(which, download=download)
    try:
        asset = get_asset_for_user(request, pk)
    except Http404:
        # Another county's asset: only its pictures, and only while it is in the shared pool for this county.
        if which not in SHARED_FILES or download:
            raise
        asset = get_shared_asset_for_user(request, pk)
        purpose = release.Purpose.SHARE
    prefetch_related_objects([asset], people_with_consents())
    answer = release.media_release(asset, purpose=purpose, access=county_access)
    if not answer.allowed:
        return _refused(request, county_access, asset, answer, purpose=purpose, which=which)
    field_file: FieldFile = getattr(asset, which)
    if not field_file:
        raise Http404
    if answer.audited and request.method == "GET":
        release.record_original_download(
            by=request.user, access=county_access, asset=asset, byte_range=request.headers.get("Range", "")
        )
    if which == "original":
        content_type = asset.mime_type
    elif which == "rendition":
        content_type = signed_urls.public_file(asset).content_type
    else:
        content_type = CONTENT_TYPES[which]
    return serve_file(
        request,
        field_file,
        content_type=content_type,
        filename=_download_name(asset, which),
        as_attachment=download,
    )


def _refused(
    request: AuthenticatedHttpRequest,
    county_access: CountyAccess,
    asset: Asset,
    answer: release.Release,
    *,
    purpose: release.Purpose,
    which: str,
) -> HttpResponseBase:
    """A role too low is told so (403); a file shown in the page is 403 with the reason; a download goes
    back to the asset's page with the reason (it still shows there, to sort the consent out), audited."""
    if answer.for_role:
        raise PermissionDenied(answer.reason)
    if purpose in (release.Purpose.VIEW, release.Purpose.SHARE):
        return _plain(403, _("This file is not shown: %(reason)s.") % {"reason": answer.reason})
    release.record_refused_download(
        by=request.user, access=county_access, asset=asset, reason=answer.reason, file=which
    )
    message = _("“%(asset)s” cannot be downloaded: %(reason)s.") % {"asset": asset, "reason": answer.reason}
    messages.error(request, message)
    return redirect(asset.get_absolute_url())


@login_required
@require_http_methods(["GET", "HEAD"])
def consent_evidence(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    """The signed consent form, for people who may change the asset; always a download."""
    consent = get_consent_for_user(request, pk)
    extension = (consent.evidence.name or "").rsplit(".", 1)[-1].lower() if consent.evidence else ""
    return serve_file(
        request,
        consent.evidence,
        content_type=EVIDENCE_TYPES.get(extension, "application/octet-stream"),
        filename=f"consent-{consent.pk}.{extension or 'bin'}",
        as_attachment=True,
        cache_control="private, no-store",
    )


# --- The signed address for Instagram ---


def _plain(status: int, text: str) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


@release.serves_media
@require_http_methods(["GET", "HEAD"])
def public_rendition(request: HttpRequest, token: str, extension: str) -> HttpResponseBase:
    """The file Instagram fetches to publish an asset: only with a genuine, unexpired signature.

    Public on purpose (Meta fetches without cookies). A forged token is 403,
    an expired one 410, and so is an asset that may not be published now
    (production/release.py): a withdrawal stops even an address already handed out.
    """
    try:
        uid = signed_urls.asset_uid_from_token(token)
    except signing.SignatureExpired:
        return _plain(410, _("This address has expired."))
    except signing.BadSignature:
        return _plain(403, _("This address is not valid."))
    asset = Asset.objects.filter(uid=uid, status=Asset.Status.READY).prefetch_related(people_with_consents()).first()
    if asset is None or not asset.rendition or signed_urls.public_file(asset).extension != extension:
        raise Http404
    if not release.media_release(asset, purpose=release.Purpose.PUBLISH, access=None).allowed:
        return _plain(410, _("This file may no longer be published."))
    response = serve_file(
        request,
        asset.rendition,
        content_type=signed_urls.public_file(asset).content_type,
        cache_control="no-store",
    )
    response["X-Robots-Tag"] = "noindex"
    return response


@release.serves_media
@require_http_methods(["GET", "HEAD"])
def public_cover(request: HttpRequest, token: str) -> HttpResponseBase:
    """A reel's uploaded cover, fetched by Instagram (`cover_url`): the same signature and rule as the video."""
    try:
        uid = signed_urls.asset_uid_from_token(token)
    except signing.SignatureExpired:
        return _plain(410, _("This address has expired."))
    except signing.BadSignature:
        return _plain(403, _("This address is not valid."))
    asset = Asset.objects.filter(uid=uid, status=Asset.Status.READY).prefetch_related(people_with_consents()).first()
    if asset is None or not asset.cover:
        raise Http404
    if not release.media_release(asset, purpose=release.Purpose.PUBLISH, access=None).allowed:
        return _plain(410, _("This file may no longer be published."))
    response = serve_file(request, asset.cover, content_type="image/jpeg", cache_control="no-store")
    response["X-Robots-Tag"] = "noindex"
    return response
